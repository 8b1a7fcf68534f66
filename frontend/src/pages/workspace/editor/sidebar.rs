//! The side bar: the project's files and its versions.

use super::super::Ws;
use crate::api;
use crate::components::short_time;
#[cfg(feature = "hydrate")]
use autocrea_wire::files::SaveFile;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn FileTree() -> impl IntoView {
    let ws = expect_context::<Ws>();
    let tree = LocalResource::new(move || {
        ws.changes.get();
        let id = ws.id();
        async move { api::files::tree(&id).await }
    });
    let new_file = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let Some(path) = web_sys::window().and_then(|w| {
                w.prompt_with_message("New file (path in the project):")
                    .ok()
                    .flatten()
            }) else {
                return;
            };
            let path = path.trim().to_string();
            if path.is_empty() {
                return;
            }
            let id = ws.id();
            spawn_local(async move {
                let body = SaveFile {
                    content: String::new(),
                    sha: None,
                    message: None,
                };
                match api::files::save(&id, &path, &body).await {
                    Ok(_) => {
                        ws.changed();
                        ws.open_file.set(Some(path));
                    }
                    Err(e) => {
                        if let Some(w) = web_sys::window() {
                            let _ = w.alert_with_message(&e.message);
                        }
                    }
                }
            });
        }
    };
    view! {
        <div class="ws-files" data-testid="file-tree">
            <div class="ws-head"><h2>"Files"</h2>
                <button type="button" class="btn btn-ghost btn-small" on:click=new_file title="New file">"New"</button></div>
            <Transition fallback=|| view! { <p class="muted small">"Loading…"</p> }>
                {move || tree.get().map(|r| match r {
                    Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    Ok(t) => view! {
                        <ul class="tree">
                            {t.files.into_iter().map(|f| {
                                let path = f.path.clone();
                                let depth = path.matches('/').count();
                                let name = path.rsplit('/').next().unwrap_or(&path).to_string();
                                let dir = path.rsplit_once('/').map(|(d, _)| format!("{d}/")).unwrap_or_default();
                                view! {
                                    <li style=format!("padding-left: {}rem", depth as f64 * 0.75)>
                                        <button type="button" class="tree-item" data-path=path.clone() title=path.clone()
                                            on:click=move |_| ws.open_file.set(Some(path.clone()))>
                                            <span class="muted">{dir}</span>{name}
                                        </button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Transition>
        </div>
    }
}

/// The version timeline: every version, newest first, with revert.
#[component]
pub fn Timeline() -> impl IntoView {
    let ws = expect_context::<Ws>();
    let history = LocalResource::new(move || {
        ws.changes.get();
        let id = ws.id();
        async move { api::versions::list(&id, None, 50).await }
    });
    let error = RwSignal::new(None::<String>);
    let revert = move |sha: String| {
        let id = ws.id();
        spawn_local(async move {
            match api::versions::revert(&id, &sha).await {
                Ok(_) => ws.changed(),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    view! {
        <div class="ws-versions" data-testid="timeline">
            <div class="ws-head"><h2>"Versions"</h2>
                <a class="btn btn-ghost btn-small" href=move || format!("/projects/{}/versions", ws.id())>"All"</a></div>
            {move || error.get().map(|e| view! { <p class="form-error small">{e}</p> })}
            <Transition fallback=|| ()>
                {move || history.get().map(|r| match r {
                    Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    Ok(h) => {
                        let latest = h.versions.first().map(|v| v.sha.clone());
                        view! {
                            <ol class="timeline">
                                {h.versions.into_iter().map(|v| {
                                    let sha = v.sha.clone();
                                    let is_latest = latest.as_deref() == Some(v.sha.as_str());
                                    let role = v.author.role.clone().map(|r| format!(" · {r}")).unwrap_or_default();
                                    view! {
                                        <li data-sha=v.sha.clone()>
                                            <div class="tl-summary" title=v.message.clone()>{v.summary.clone()}</div>
                                            <div class="muted small">{format!("{} · {}{role}", short_time(&v.time), v.short_sha)}</div>
                                            {v.files.first().zip(v.parents.first()).map(|(f, parent)| {
                                                let (path, from, to) = (f.path.clone(), parent.clone(), v.sha.clone());
                                                view! { <button type="button" class="btn btn-ghost btn-small" on:click=move |_| ws.diff.set(Some((path.clone(), from.clone(), to.clone())))>"Changes"</button> }
                                            })}
                                            {(!is_latest).then(|| {
                                                let shown = StoredValue::new(v.sha.clone());
                                                let is_shown = move || ws.previewing.with(|p| p.as_ref().map(|p| p.sha == shown.get_value()) == Some(true));
                                                let sha2 = v.sha.clone();
                                                view! {
                                                    <button type="button" class="btn btn-ghost btn-small" aria-pressed=move || is_shown().to_string()
                                                        on:click=move |_| ws.preview_version(if is_shown() { None } else { Some(sha2.clone()) })
                                                        aria-label=format!("Preview {}", v.short_sha)>"Preview"</button>
                                                    <button type="button" class="btn btn-ghost btn-small" on:click=move |_| revert(sha.clone())
                                                        aria-label=format!("Revert to {}", v.short_sha)>"Revert to this"</button>
                                                }
                                            })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ol>
                        }.into_any()
                    }
                })}
            </Transition>
        </div>
    }
}
