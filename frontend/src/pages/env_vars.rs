//! The deployments page's card of environment variables and secrets: add,
//! replace and remove per scope; values go in and never come back (names
//! and the last characters only). A production change offers a redeploy,
//! since the live app keeps the values it was built and started with.

use super::hydrated;
use crate::api;
use crate::icons::{Icon, IconKind};
use autocrea_wire::env::{check_env_name, is_build_time, EnvScope, EnvVar};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

fn scope_label(s: EnvScope) -> &'static str {
    match s {
        EnvScope::Preview => "Preview (the sandbox)",
        EnvScope::Production => "Production (deployments)",
    }
}

#[component]
pub fn EnvVarsCard(
    project_id: String,
    error: RwSignal<Option<String>>,
    notice: RwSignal<Option<String>>,
    /// Bumped after a redeploy starts, so the history shows it.
    on_publish: Callback<()>,
) -> impl IntoView {
    let ready = hydrated();
    let version = RwSignal::new(0u32);
    let project = StoredValue::new(project_id);
    let vars = LocalResource::new(move || {
        version.get();
        let id = project.get_value();
        async move { api::env::list(&id).await }
    });
    let scope = RwSignal::new(EnvScope::Production);
    let name = RwSignal::new(String::new());
    let value = RwSignal::new(String::new());
    // The version to publish again after a production change.
    let redeploy = RwSignal::new(None::<String>);

    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let n = name.get_untracked().trim().to_string();
        if let Err(e) = check_env_name(&n) {
            error.set(Some(e));
            return;
        }
        let (s, v) = (scope.get_untracked(), value.get_untracked());
        error.set(None);
        spawn_local(async move {
            match api::env::set(&project.get_value(), s, &n, v).await {
                Ok(change) => {
                    name.set(String::new());
                    value.set(String::new());
                    notice.set(Some(match change.preview_restarted {
                        true => format!("{n} saved; the preview restarts with it."),
                        false => format!("{n} saved."),
                    }));
                    redeploy.set(change.live_version.filter(|_| change.redeploy_suggested));
                    version.update(|x| *x += 1);
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let remove = move |v: EnvVar| {
        error.set(None);
        spawn_local(async move {
            match api::env::delete(&project.get_value(), v.scope, &v.name).await {
                Ok(change) => {
                    notice.set(Some(format!("{} removed.", v.name)));
                    redeploy.set(change.live_version.filter(|_| change.redeploy_suggested));
                    version.update(|x| *x += 1);
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let do_redeploy = move |_| {
        let Some(sha) = redeploy.get_untracked() else {
            return;
        };
        spawn_local(async move {
            match api::publish::publish_version(&project.get_value(), &sha).await {
                Ok(_) => {
                    redeploy.set(None);
                    notice.set(Some(
                        "Publishing the live version again with the new values.".into(),
                    ));
                    on_publish.run(());
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };

    view! {
        <section class="card section" data-testid="env-card">
            <h2><Icon kind=IconKind::Key/> " Environment variables and secrets"</h2>
            <p class="muted small">"Values are encrypted on this box and never shown again after you save them: only the name and the last characters. They never go into the repository, and logs show them masked. The agent is told the names only, and its commands run without them; but preview values are there for the code in the sandbox, which the agent writes: give the preview test credentials, and keep real ones for production."</p>
            {move || redeploy.get().map(|sha| view! {
                <div class="notice" data-testid="env-redeploy">
                    "The live app still uses the old values. "
                    <button type="button" class="btn btn-small" on:click=do_redeploy>"Redeploy version " <code>{sha.chars().take(7).collect::<String>()}</code></button>
                    " "
                    <button type="button" class="btn btn-ghost btn-small" on:click=move |_| redeploy.set(None)>"Later"</button>
                </div>
            })}
            <Suspense fallback=|| view! { <div class="skeleton w60"></div> }>
                {move || vars.get().map(|r| match r {
                    Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    Ok(l) if l.vars.is_empty() => view! { <p class="muted">"No variables yet."</p> }.into_any(),
                    Ok(l) => view! {
                        <table class="table" data-testid="env-vars">
                            <thead><tr><th>"Name"</th><th>"Scope"</th><th>"Value"</th><th>"Changed"</th><th></th></tr></thead>
                            <tbody>
                            {l.vars.into_iter().map(|v| {
                                let v1 = v.clone();
                                view! {
                                    <tr data-testid="env-row" data-name=v.name.clone() data-scope=v.scope.to_string()>
                                        <td><code>{v.name.clone()}</code>
                                            {v.build_time.then(|| view! { " " <span class="badge" title="Written into the built app: anyone who can open the app can read it.">"visible to the app's users"</span> })}
                                        </td>
                                        <td>{v.scope.to_string()}</td>
                                        <td><code>{match v.hint.clone() { Some(h) => format!("••••{h}"), None => "••••".into() }}</code></td>
                                        <td>{crate::components::short_time(&v.updated_at)}</td>
                                        <td class="row-actions">
                                            <button type="button" class="btn btn-ghost btn-small" aria-label=format!("Remove {}", v.name) on:click=move |_| remove(v1.clone())><Icon kind=IconKind::Trash size=14/></button>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Suspense>
            <form class="publish-form" on:submit=save>
                <div class="field-pair">
                    <label>"Name"
                        <input type="text" data-testid="env-name" placeholder="API_KEY" autocomplete="off" spellcheck="false" maxlength="128"
                            prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                    </label>
                    <label>"Scope"
                        <select data-testid="env-scope" on:change=move |ev| {
                            if let Some(s) = EnvScope::parse(&event_target_value(&ev)) { scope.set(s) }
                        }>
                            {EnvScope::ALL.iter().map(|s| view! {
                                <option value=s.as_str() selected=move || scope.get() == *s>{scope_label(*s)}</option>
                            }).collect_view()}
                        </select>
                    </label>
                </div>
                <label>"Value"
                    <input type="password" data-testid="env-value" autocomplete="new-password" spellcheck="false"
                        prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
                </label>
                <Show when=move || is_build_time(name.get().trim())>
                    <p class="form-warning small" data-testid="env-public-warning">"Names starting with NEXT_PUBLIC_ or VITE_ are read while building and written into the app itself: anyone who can open the app can read the value. Do not put secrets in them."</p>
                </Show>
                <div><button type="submit" class="btn" data-testid="env-save" disabled=move || !ready.get()>"Save variable"</button></div>
            </form>
        </section>
    }
}
