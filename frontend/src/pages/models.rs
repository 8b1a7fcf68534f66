//! Models in the profile (the caller's own provider keys and usage) and in
//! the admin page (the local worker and which providers users may pick).

use super::hydrated;
use crate::api;
use crate::components::{short_time, FormError, LocalModelBanner, Notice};
use crate::icons::{Icon, IconKind};
use autocrea_wire::llm::{
    LlmPolicy, LocalState, LocalStatus, ProviderKind, ProviderPolicy, PutKey, ToolFormat,
    UsageTotal,
};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The caller's provider keys: add (or replace) one per allowed provider,
/// delete; only the last four characters are ever shown.
#[component]
pub fn ProviderKeys() -> impl IntoView {
    let ready = hydrated();
    let version = RwSignal::new(0u32);
    let providers = LocalResource::new(move || {
        version.get();
        api::llm::providers()
    });
    let keys = LocalResource::new(move || {
        version.get();
        api::llm::keys()
    });
    let usage = LocalResource::new(move || {
        version.get();
        api::llm::usage()
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
        let body = PutKey {
            key: key.get_untracked(),
        };
        spawn_local(async move {
            match api::llm::put_key(&id, &body).await {
                Ok(k) => {
                    key.set(String::new());
                    saved.set(Some(format!(
                        "Saved the {} key ending in {}.",
                        k.provider, k.last4
                    )));
                    version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let remove = move |id: String| {
        spawn_local(async move {
            match api::llm::delete_key(&id).await {
                Ok(()) => version.update(|v| *v += 1),
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
                        <LocalModelBanner status=p.local_status.clone()/>
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
        <div class="table-scroll">
        <table class="table small" data-testid="usage-list">
            <thead><tr>{with_user.then(|| view! { <th>"Person"</th> })}<th>"Project"</th><th>"Model"</th><th>"Requests"</th><th>"Prompt tokens"</th><th>"Completion tokens"</th></tr></thead>
            <tbody>{rows.into_iter().map(|u| {
                let person = if u.user_name.is_empty() { u.username.clone() } else { u.user_name.clone() };
                let project = match (&u.project_name, &u.project_id) {
                    (Some(name), _) => view! { <span>{name.clone()}</span> }.into_any(),
                    (None, Some(_)) => view! { <span class="muted">"(deleted project)"</span> }.into_any(),
                    (None, None) => view! { <span class="muted">"API (no project)"</span> }.into_any(),
                };
                view! {
                    <tr>{with_user.then(|| view! { <td title=u.username.clone()>{person}</td> })}
                        <td title=u.project_id.clone().unwrap_or_default()>{project}</td><td><code>{u.model.clone()}</code></td>
                        <td>{u.requests}</td><td>{u.prompt_tokens}</td><td>{u.completion_tokens}</td></tr>
                }
            }).collect_view()}</tbody>
        </table>
        </div>
    }
}

/// Everyone's model calls, by person, project and model (admins).
#[component]
pub fn AdminUsage() -> impl IntoView {
    let usage = LocalResource::new(api::admin::usage);
    view! {
        <section class="card section" data-testid="admin-usage">
            <h2>"Usage"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || usage.get().map(|r| match r {
                    Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No model calls yet."</p> }.into_any(),
                    Ok(list) => view! { <UsageTable rows=list with_user=true/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// One provider of the policy as the form edits it.
#[derive(Clone, Debug, PartialEq)]
struct ProviderRow {
    key: u32,
    id: RwSignal<String>,
    kind: RwSignal<ProviderKind>,
    base_url: RwSignal<String>,
    models: RwSignal<String>,
    tools: RwSignal<ToolFormat>,
    context: RwSignal<String>,
    images: RwSignal<bool>,
    enabled: RwSignal<bool>,
}

impl ProviderRow {
    fn new(key: u32, p: &ProviderPolicy) -> Self {
        ProviderRow {
            key,
            id: RwSignal::new(p.id.clone()),
            kind: RwSignal::new(p.kind),
            base_url: RwSignal::new(p.base_url.clone()),
            models: RwSignal::new(p.models.join(", ")),
            tools: RwSignal::new(p.tools),
            context: RwSignal::new(p.context.map(|c| c.to_string()).unwrap_or_default()),
            images: RwSignal::new(p.images),
            enabled: RwSignal::new(p.enabled),
        }
    }

    /// A provider the admin is about to fill in: OpenAI-compatible, enabled.
    fn blank(key: u32) -> Self {
        Self::new(
            key,
            &ProviderPolicy {
                id: String::new(),
                kind: ProviderKind::Openai,
                base_url: String::new(),
                enabled: true,
                models: Vec::new(),
                tools: ToolFormat::Native,
                context: None,
                images: false,
            },
        )
    }

    /// As the policy API takes it; a context that is not a number is the
    /// form's error (`LlmPolicy::validate` checks the rest).
    fn policy(&self) -> Result<ProviderPolicy, String> {
        let id = self.id.get_untracked().trim().to_string();
        let context = self.context.get_untracked();
        let context = match context.trim() {
            "" => None,
            c => Some(c.parse::<u32>().map_err(|_| {
                format!(
                    "{}: the context is a number of tokens, e.g. 32768",
                    if id.is_empty() {
                        "a provider"
                    } else {
                        id.as_str()
                    }
                )
            })?),
        };
        let models: Vec<String> = self
            .models
            .get_untracked()
            .split([',', '\n'])
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty())
            .collect();
        Ok(ProviderPolicy {
            id,
            kind: self.kind.get_untracked(),
            base_url: self.base_url.get_untracked().trim().to_string(),
            enabled: self.enabled.get_untracked(),
            models,
            tools: self.tools.get_untracked(),
            context,
            images: self.images.get_untracked(),
        })
    }
}

/// The provider policy as a form: the local model on or off, and each
/// provider with its fields; saved through `PUT /api/v1/admin/llm/policy`.
#[component]
fn PolicyEditor(policy: LlmPolicy, on_saved: Callback<()>) -> impl IntoView {
    let ready = hydrated();
    let next_key = StoredValue::new(0u32);
    let fresh_key = move || {
        let k = next_key.get_value();
        next_key.set_value(k + 1);
        k
    };
    let local = RwSignal::new(policy.local);
    let rows = RwSignal::new(
        policy
            .providers
            .iter()
            .map(|p| ProviderRow::new(fresh_key(), p))
            .collect::<Vec<_>>(),
    );
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(None::<String>);
    let add = move |_| {
        let row = ProviderRow::blank(fresh_key());
        rows.update(|r| r.push(row));
    };
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        saved.set(None);
        let providers: Result<Vec<_>, String> = rows
            .get_untracked()
            .iter()
            .map(ProviderRow::policy)
            .collect();
        let policy = providers.and_then(|providers| {
            let policy = LlmPolicy {
                local: local.get_untracked(),
                providers,
            };
            // The server's own check, before the round trip (same message).
            policy.validate().map(|()| policy)
        });
        let policy = match policy {
            Ok(p) => p,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        spawn_local(async move {
            match api::admin::put_policy(&policy).await {
                Ok(_) => {
                    saved.set(Some("Saved the policy.".into()));
                    on_saved.run(());
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    view! {
        <form class="form policy-form" on:submit=save data-testid="policy-form">
            <label class="check">
                <input type="checkbox" name="local" prop:checked=move || local.get() on:change=move |ev| local.set(event_target_checked(&ev))/>
                <span>"People may use the local model"</span>
            </label>
            <For each=move || rows.get() key=|r| r.key let:row>
                <ProviderFields row=row on_remove=Callback::new(move |key: u32| rows.update(|r| r.retain(|x| x.key != key)))/>
            </For>
            <Show when=move || rows.get().is_empty()>
                <p class="muted small" data-testid="no-policy-providers">"No providers: people use the local model only."</p>
            </Show>
            <FormError message=error/>
            <Notice message=saved/>
            <div class="form-actions">
                <button class="btn" type="button" on:click=add data-testid="add-provider"><Icon kind=IconKind::Plus/> "Add provider"</button>
                <button class="btn btn-primary" type="submit" disabled=move || !ready.get()>"Save policy"</button>
            </div>
        </form>
    }
}

#[component]
fn ProviderFields(row: ProviderRow, on_remove: Callback<u32>) -> impl IntoView {
    let key = row.key;
    let title = move || {
        let id = row.id.get();
        if id.trim().is_empty() {
            "New provider".to_string()
        } else {
            id
        }
    };
    let check = |label: &'static str, name: &'static str, sig: RwSignal<bool>| {
        view! {
            <label class="check">
                <input type="checkbox" name=name prop:checked=move || sig.get() on:change=move |ev| sig.set(event_target_checked(&ev))/>
                <span>{label}</span>
            </label>
        }
    };
    view! {
        <fieldset class="provider-fields" data-testid="policy-provider">
            <legend>{title}</legend>
            <div class="provider-grid">
                <label class="field"><span>"Id"</span>
                    <input name="provider-id" required maxlength="32" placeholder="e.g. team" bind:value=row.id/>
                    <small class="hint">"Models are named id/model."</small></label>
                <label class="field"><span>"Kind"</span>
                    <select name="provider-kind" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some(k) = ProviderKind::ALL.iter().find(|k| k.as_str() == v) {
                            row.kind.set(*k);
                        }
                    }>
                        {[(ProviderKind::Openai, "OpenAI-compatible"), (ProviderKind::Anthropic, "Anthropic"), (ProviderKind::Gemini, "Gemini")].into_iter().map(|(k, l)| view! {
                            <option value=k.as_str() prop:selected=move || row.kind.get() == k>{l}</option>
                        }).collect_view()}
                    </select></label>
                <label class="field wide"><span>"Base URL"</span>
                    <input name="provider-base-url" type="url" required placeholder="http://gpu-box:8000/v1" bind:value=row.base_url/></label>
                <label class="field wide"><span>"Models"</span>
                    <input name="provider-models" placeholder="coder-32b, coder-7b" bind:value=row.models/>
                    <small class="hint">"Separated by commas."</small></label>
                <label class="field"><span>"Tool format"</span>
                    <select name="provider-tools" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some(t) = ToolFormat::ALL.iter().find(|t| t.as_str() == v) {
                            row.tools.set(*t);
                        }
                    }>
                        <option value=ToolFormat::Native.as_str() prop:selected=move || row.tools.get() == ToolFormat::Native>"Native tool calls"</option>
                        <option value=ToolFormat::Text.as_str() prop:selected=move || row.tools.get() == ToolFormat::Text>"Text (no tool calls)"</option>
                    </select></label>
                <label class="field"><span>"Context (tokens)"</span>
                    <input name="provider-context" inputmode="numeric" placeholder="default" bind:value=row.context/></label>
            </div>
            <div class="provider-checks">
                {check("Reads images", "provider-images", row.images)}
                {check("Enabled", "provider-enabled", row.enabled)}
                <button class="btn btn-ghost btn-danger-text" type="button" data-testid="remove-provider" on:click=move |_| on_remove.run(key)>
                    <Icon kind=IconKind::Trash/> "Remove"
                </button>
            </div>
        </fieldset>
    }
}

/// The local model's state as the admin sees it: "ready" only when it can
/// serve an agent turn.
#[component]
fn LocalModelStatus(status: LocalStatus) -> impl IntoView {
    let s = status;
    let label = match s.state {
        LocalState::Ready if s.agent_ready => "ready",
        LocalState::Ready => "not ready",
        LocalState::TestModel => "test model",
        LocalState::ContextTooSmall => "context too small",
        LocalState::Unavailable => "unavailable",
    };
    let class = if s.agent_ready {
        "badge state-ready"
    } else {
        "badge state-warn"
    };
    view! {
        <div class="local-status" data-testid="local-model-status" data-state=s.state.as_str()>
            <p><strong>"Agent on the local model: "</strong><span class=class data-testid="local-model-state">{label}</span>
                {s.model.clone().map(|m| view! { " " <code>{m}</code> })}
                {s.context.map(|c| format!(" · {c} tokens of context"))}</p>
            {(!s.agent_ready && !s.message.is_empty()).then(|| view! { <p class="muted">{s.message.clone()}</p> })}
        </div>
    }
}

/// Admins: the local worker's state with its last stderr lines, whether the
/// local model can serve the agent, the provider policy (a form) and the
/// shared keys.
#[component]
pub fn AdminModels() -> impl IntoView {
    let ready = hydrated();
    let version = RwSignal::new(0u32);
    let llm = LocalResource::new(move || {
        version.get();
        api::admin::llm()
    });
    // The status again after the policy changed (the form keeps its own state).
    let refresh_status = RwSignal::new(0u32);
    let status = LocalResource::new(move || {
        version.get();
        refresh_status.get();
        api::admin::llm()
    });
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
        let body = PutKey {
            key: shared_key.get_untracked(),
        };
        spawn_local(async move {
            match api::admin::put_shared_key(&id, &body).await {
                Ok(k) => {
                    shared_key.set(String::new());
                    shared_saved.set(Some(format!(
                        "Saved the shared {} key ending in {}.",
                        k.provider, k.last4
                    )));
                    version.update(|v| *v += 1);
                }
                Err(e) => shared_error.set(Some(e.message)),
            }
        });
    };
    let remove_shared = move |id: String| {
        spawn_local(async move {
            match api::admin::delete_shared_key(&id).await {
                Ok(()) => version.update(|v| *v += 1),
                Err(e) => shared_error.set(Some(e.message)),
            }
        });
    };
    view! {
        <section class="card section" data-testid="admin-models">
            <h2>"Models & providers"</h2>
            <Suspense fallback=|| ()>
                {move || status.get().and_then(|r| r.ok()).map(|l| view! { <LocalModelStatus status=l.local_status/> })}
            </Suspense>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || llm.get().map(|r| match r {
                    Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    Ok(l) => {
                        let w = l.worker;
                        let tail = w.stderr_tail.join("\n");
                        view! {
                            <dl class="details-inline" data-testid="worker-status">
                                <dt>"Local worker"</dt><dd><span class=format!("badge state-{}", w.state)>{w.state.as_str()}</span></dd>
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
            <p class="muted small">"Kind: OpenAI-compatible for any endpoint that speaks the OpenAI API (vLLM, llama.cpp's server, a gateway), Anthropic or Gemini. Tool format: text for endpoints without tool calls. Context: the models' context window in tokens. Reads images: attached images go to these models. People add their own keys in their profile, or you set a shared key below."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || llm.get().map(|r| match r {
                    Err(_) => ().into_any(),
                    Ok(l) => view! { <PolicyEditor policy=l.policy on_saved=Callback::new(move |_| refresh_status.update(|v| *v += 1))/> }.into_any(),
                })}
            </Suspense>
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
        </section>
    }
}
