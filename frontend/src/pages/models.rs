//! Models in the profile (the caller's own provider keys and usage) and in
//! the admin page (the local worker and which providers users may pick).

use super::hydrated;
use crate::api::{self, AdminLlm, ProviderKey, ProvidersView, SharedKey, UsageTotal};
use crate::components::{short_time, FormError, Notice};
use crate::icons::{Icon, IconKind};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;

/// The caller's provider keys: add (or replace) one per allowed provider,
/// delete; only the last four characters are ever shown.
#[component]
pub fn ProviderKeys() -> impl IntoView {
    let ready = hydrated();
    let version = RwSignal::new(0u32);
    let providers = LocalResource::new(move || {
        version.get();
        api::get::<ProvidersView>("/api/v1/llm/providers")
    });
    let keys = LocalResource::new(move || {
        version.get();
        api::get::<Vec<ProviderKey>>("/api/v1/me/provider-keys")
    });
    let usage = LocalResource::new(move || {
        version.get();
        api::get::<Vec<UsageTotal>>("/api/v1/me/usage")
    });
    let provider = RwSignal::new(String::new());
    let key = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(None::<String>);

    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        saved.set(None);
        let id = provider.get_untracked();
        if id.is_empty() {
            error.set(Some("Pick a provider.".into()));
            return;
        }
        let body = json!({ "key": key.get_untracked() });
        spawn_local(async move {
            match api::send::<ProviderKey>("PUT", &format!("/api/v1/me/provider-keys/{id}"), Some(body)).await {
                Ok(k) => {
                    key.set(String::new());
                    saved.set(Some(format!("Saved the {} key ending in {}.", k.provider, k.last4)));
                    version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let remove = move |id: String| {
        spawn_local(async move {
            match api::send::<serde_json::Value>("DELETE", &format!("/api/v1/me/provider-keys/{id}"), None).await {
                Ok(_) => version.update(|v| *v += 1),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };

    view! {
        <section class="card section" data-testid="provider-keys">
            <h2><Icon kind=IconKind::Key/> " Model provider keys"</h2>
            <p class="muted">"Your own keys for the providers your administrator allows. They are encrypted on the server, used only for your requests, and never shown again: only their last four characters."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || providers.get().map(|r| match r {
                    Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    Ok(p) if p.providers.is_empty() => view! {
                        <p class="muted" data-testid="no-providers">{match p.local_model {
                            Some(m) if p.local => format!("Only the local model ({m}) is enabled; no keys are needed."),
                            _ => "No providers are enabled on this appliance.".to_string(),
                        }}</p>
                    }.into_any(),
                    Ok(p) => view! {
                        <form class="form inline" on:submit=save data-testid="provider-key-form">
                            <select aria-label="Provider" on:change=move |ev| provider.set(event_target_value(&ev))>
                                <option value="" prop:selected=move || provider.get().is_empty()>"Provider…"</option>
                                {p.providers.into_iter().map(|p| {
                                    let id = p.id.clone();
                                    let sel = id.clone();
                                    view! { <option value=id.clone() prop:selected=move || provider.get() == sel>{format!("{} ({})", p.id, p.kind)}</option> }
                                }).collect_view()}
                            </select>
                            <input type="password" name="provider-key" placeholder="API key" aria-label="API key" autocomplete="off" required minlength="8" maxlength="512" bind:value=key/>
                            <button class="btn btn-primary" type="submit" disabled=move || !ready.get()>"Save key"</button>
                        </form>
                    }.into_any(),
                })}
            </Suspense>
            <FormError message=error/>
            <Notice message=saved/>
            <Suspense fallback=|| ()>
                {move || keys.get().map(|r| match r {
                    Err(_) => ().into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted" data-testid="no-provider-keys">"No keys stored."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="table" data-testid="provider-key-list">
                            <thead><tr><th>"Provider"</th><th>"Key"</th><th>"Added"</th><th></th></tr></thead>
                            <tbody>{list.into_iter().map(|k| {
                                let id = k.provider.clone();
                                view! { <tr><td>{k.provider.clone()}</td><td><code>{format!("…{}", k.last4)}</code></td><td>{short_time(&k.created_at)}</td>
                                    <td class="right"><button class="btn btn-ghost btn-danger-text" type="button" on:click=move |_| remove(id.clone())>"Delete"</button></td></tr> }
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                })}
            </Suspense>
            <h3>"Usage"</h3>
            <Suspense fallback=|| ()>
                {move || usage.get().map(|r| match r {
                    Err(_) => ().into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No model calls yet."</p> }.into_any(),
                    Ok(list) => view! { <UsageTable rows=list with_user=false/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn UsageTable(rows: Vec<UsageTotal>, with_user: bool) -> impl IntoView {
    view! {
        <table class="table small" data-testid="usage-list">
            <thead><tr>{with_user.then(|| view! { <th>"User"</th> })}<th>"Project"</th><th>"Model"</th><th>"Requests"</th><th>"Prompt tokens"</th><th>"Completion tokens"</th></tr></thead>
            <tbody>{rows.into_iter().map(|u| view! {
                <tr>{with_user.then(|| view! { <td>{u.username.clone()}</td> })}
                    <td>{u.project_id.clone().unwrap_or_else(|| "—".into())}</td><td><code>{u.model.clone()}</code></td>
                    <td>{u.requests}</td><td>{u.prompt_tokens}</td><td>{u.completion_tokens}</td></tr>
            }).collect_view()}</tbody>
        </table>
    }
}

/// Admins: the local worker's state with its last stderr lines, the policy
/// (edited as JSON, checked by the server), and everyone's usage.
#[component]
pub fn AdminModels() -> impl IntoView {
    let ready = hydrated();
    let version = RwSignal::new(0u32);
    let llm = LocalResource::new(move || {
        version.get();
        api::get::<AdminLlm>("/api/v1/admin/llm")
    });
    let usage = LocalResource::new(|| api::get::<Vec<UsageTotal>>("/api/v1/admin/usage"));
    let policy = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(l)) = llm.get() {
            if policy.get_untracked().is_empty() {
                policy.set(serde_json::to_string_pretty(&l.policy).unwrap_or_default());
            }
        }
    });
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        saved.set(None);
        let body: serde_json::Value = match serde_json::from_str(&policy.get_untracked()) {
            Ok(v) => v,
            Err(e) => {
                error.set(Some(format!("Not valid JSON: {e}")));
                return;
            }
        };
        spawn_local(async move {
            match api::send::<serde_json::Value>("PUT", "/api/v1/admin/llm/policy", Some(body)).await {
                Ok(p) => {
                    policy.set(serde_json::to_string_pretty(&p).unwrap_or_default());
                    saved.set(Some("Saved.".into()));
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let shared_provider = RwSignal::new(String::new());
    let shared_key = RwSignal::new(String::new());
    let shared_error = RwSignal::new(None::<String>);
    let shared_saved = RwSignal::new(None::<String>);
    let save_shared = move |ev: SubmitEvent| {
        ev.prevent_default();
        shared_error.set(None);
        shared_saved.set(None);
        let id = shared_provider.get_untracked().trim().to_string();
        if id.is_empty() {
            shared_error.set(Some("Name the provider (its id in the policy).".into()));
            return;
        }
        let body = json!({ "key": shared_key.get_untracked() });
        spawn_local(async move {
            match api::send::<SharedKey>("PUT", &format!("/api/v1/admin/llm/providers/{id}/key"), Some(body)).await {
                Ok(k) => {
                    shared_key.set(String::new());
                    shared_saved.set(Some(format!("Saved the shared {} key ending in {}.", k.provider, k.last4)));
                    version.update(|v| *v += 1);
                }
                Err(e) => shared_error.set(Some(e.message)),
            }
        });
    };
    let remove_shared = move |id: String| {
        spawn_local(async move {
            match api::send::<serde_json::Value>("DELETE", &format!("/api/v1/admin/llm/providers/{id}/key"), None).await {
                Ok(_) => version.update(|v| *v += 1),
                Err(e) => shared_error.set(Some(e.message)),
            }
        });
    };
    view! {
        <section class="card section" data-testid="admin-models">
            <h2>"Models"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || llm.get().map(|r| match r {
                    Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    Ok(l) => {
                        let w = l.worker;
                        let tail = w.stderr_tail.join("\n");
                        view! {
                            <dl class="details-inline" data-testid="worker-status">
                                <dt>"Local worker"</dt><dd><span class=format!("badge state-{}", w.state)>{w.state.clone()}</span></dd>
                                <dt>"Model"</dt><dd><code>{w.model.clone().unwrap_or_else(|| "—".into())}</code></dd>
                                <dt>"Process"</dt><dd>{w.pid.map(|p| p.to_string()).unwrap_or_else(|| "—".into())}</dd>
                                <dt>"Restarts"</dt><dd>{w.restarts}</dd>
                                <dt>"Last exit"</dt><dd>{w.last_exit.clone().unwrap_or_else(|| "—".into())}
                                    {w.retry_in_secs.map(|s| format!(" (next start in {s} s)"))}</dd>
                            </dl>
                            <details>
                                <summary>"Worker log (last lines of stderr)"</summary>
                                <pre class="log" data-testid="worker-log">{if tail.is_empty() { "(empty)".to_string() } else { tail }}</pre>
                            </details>
                            <button class="btn" type="button" on:click=move |_| version.update(|v| *v += 1)>"Refresh"</button>
                        }.into_any()
                    }
                })}
            </Suspense>
            <h3>"Allowed providers and models"</h3>
            <p class="muted small">"local: whether people may use the local model. Each provider: id (models are named id/model), kind (openai for any OpenAI-compatible endpoint, anthropic, gemini), base_url, enabled, models; for the agent, tools (native, or text for endpoints without tool calls), context (the models' context window in tokens) and images (true when the models read images: attached images go to them). People add their own keys in their profile, or you set a shared key below."</p>
            <form class="form" on:submit=save data-testid="policy-form">
                <textarea class="code-input" rows="14" aria-label="Policy as JSON" spellcheck="false" bind:value=policy></textarea>
                <FormError message=error/>
                <Notice message=saved/>
                <div class="form-actions"><button class="btn btn-primary" type="submit" disabled=move || !ready.get()>"Save policy"</button></div>
            </form>
            <h3>"Shared provider keys"</h3>
            <p class="muted small">"A key everyone uses for a provider of the policy (a person's own key wins), so a provider added above is usable at once. Encrypted on the server; only the last four characters are shown."</p>
            <form class="form inline" on:submit=save_shared data-testid="shared-key-form">
                <input name="shared-provider" placeholder="Provider id" aria-label="Provider id" required maxlength="32" bind:value=shared_provider/>
                <input type="password" name="shared-key" placeholder="API key" aria-label="Shared API key" autocomplete="off" required minlength="8" maxlength="512" bind:value=shared_key/>
                <button class="btn btn-primary" type="submit" disabled=move || !ready.get()>"Save shared key"</button>
            </form>
            <FormError message=shared_error/>
            <Notice message=shared_saved/>
            <Suspense fallback=|| ()>
                {move || llm.get().map(|r| match r {
                    Err(_) => ().into_any(),
                    Ok(l) if l.shared_keys.is_empty() => view! { <p class="muted" data-testid="no-shared-keys">"No shared keys."</p> }.into_any(),
                    Ok(l) => view! {
                        <table class="table" data-testid="shared-key-list">
                            <thead><tr><th>"Provider"</th><th>"Key"</th><th>"Set"</th><th></th></tr></thead>
                            <tbody>{l.shared_keys.into_iter().map(|k| {
                                let id = k.provider.clone();
                                view! { <tr><td>{k.provider.clone()}</td><td><code>{format!("…{}", k.last4)}</code></td><td>{short_time(&k.updated_at)}</td>
                                    <td class="right"><button class="btn btn-ghost btn-danger-text" type="button" on:click=move |_| remove_shared(id.clone())>"Delete"</button></td></tr> }
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                })}
            </Suspense>
            <h3>"Usage"</h3>
            <Suspense fallback=|| ()>
                {move || usage.get().map(|r| match r {
                    Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No model calls yet."</p> }.into_any(),
                    Ok(list) => view! { <UsageTable rows=list with_user=true/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
