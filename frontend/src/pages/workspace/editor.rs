//! The side bar's file tree and version timeline, and the editor: tabs,
//! Monaco, Ctrl+S saves as a commit (with the blob it started from), and a
//! conflict prompt when a file changed under unsaved edits.

use super::Ws;
use crate::api;
use crate::components::short_time;
use crate::workspace_js as js;
use autocrea_wire::files::SaveFile;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::HashMap;

/// Open files and what the editor knows of them.
#[derive(Clone, Copy)]
struct Tabs {
    open: RwSignal<Vec<String>>,
    active: RwSignal<Option<String>>,
    dirty: RwSignal<Vec<String>>,
    /// Path -> the blob id the editor's text started from.
    shas: StoredValue<HashMap<String, String>>,
    /// A file that changed under unsaved edits: (path, its new text, new sha).
    conflict: RwSignal<Option<(String, String, String)>>,
    message: RwSignal<Option<String>>,
}

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

#[component]
pub fn EditorPanel() -> impl IntoView {
    let ws = expect_context::<Ws>();
    let tabs = Tabs {
        open: RwSignal::new(Vec::new()),
        active: RwSignal::new(None),
        dirty: RwSignal::new(Vec::new()),
        shas: StoredValue::new(HashMap::new()),
        conflict: RwSignal::new(None),
        message: RwSignal::new(None),
    };
    let ready = RwSignal::new(false);
    let show_terminal = RwSignal::new(false);

    let save = move |path: String, text: String, force: bool| {
        let id = ws.id();
        let sha = if force {
            None
        } else {
            tabs.shas.with_value(|s| s.get(&path).cloned())
        };
        spawn_local(async move {
            // Overwriting after a conflict: start from the newest blob.
            let sha = match sha {
                Some(s) => Some(s),
                None => api::files::read(&id, &path).await.ok().map(|f| f.sha),
            };
            let body = SaveFile {
                content: text.clone(),
                sha,
                message: None,
            };
            match api::files::save(&id, &path, &body).await {
                Ok(s) => {
                    if let Some(new) = s.sha {
                        tabs.shas.update_value(|m| {
                            m.insert(path.clone(), new);
                        });
                    }
                    js::mark_saved(&path, &text);
                    tabs.message
                        .set(Some(format!("Saved {path} as a new version.")));
                    ws.changed();
                }
                Err(e) if e.code == "conflict" => {
                    if let Ok(f) = api::files::read(&id, &path).await {
                        tabs.conflict
                            .set(Some((path, f.content.unwrap_or_default(), f.sha)));
                    }
                }
                Err(e) => tabs.message.set(Some(format!("Not saved: {}", e.message))),
            }
        });
    };

    // The editor, once its element is in the page.
    let host = NodeRef::<leptos::html::Div>::new();
    let diff_host = NodeRef::<leptos::html::Div>::new();
    let terminal = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let Some(el) = host.get() else { return };
        js::mount_editor(
            el.into(),
            move |path, text| save(path, text, false),
            move |path, dirty| {
                tabs.dirty.update(|d| {
                    d.retain(|p| *p != path);
                    if dirty {
                        d.push(path);
                    }
                })
            },
            move |r| match r {
                Ok(()) => ready.set(true),
                Err(e) => tabs.message.set(Some(e)),
            },
        );
    });

    // Opening a file: fetched, then shown.
    let open = move |path: String| {
        ws.diff.set(None);
        let id = ws.id();
        spawn_local(async move {
            match api::files::read(&id, &path).await {
                Ok(f) => match f.content {
                    Some(text) => {
                        tabs.shas.update_value(|m| {
                            m.entry(f.path.clone()).or_insert(f.sha);
                        });
                        js::open(&f.path, &text);
                        tabs.open.update(|o| {
                            if !o.contains(&f.path) {
                                o.push(f.path.clone());
                            }
                        });
                        tabs.active.set(Some(f.path));
                    }
                    None => tabs
                        .message
                        .set(Some(format!("{path} is not a text file."))),
                },
                Err(e) => tabs.message.set(Some(e.message)),
            }
        });
    };
    Effect::new(move |_| {
        if let (Some(path), true) = (ws.open_file.get(), ready.get()) {
            ws.open_file.set(None);
            open(path);
        }
    });

    // After any change: open files follow their new versions, unless edited.
    Effect::new(move |prev: Option<u32>| {
        let now = ws.changes.get();
        if prev.is_some() {
            let id = ws.id();
            for path in tabs.open.get_untracked() {
                let id = id.clone();
                spawn_local(async move {
                    let Ok(f) = api::files::read(&id, &path).await else {
                        return; // deleted: the tab stays until closed
                    };
                    let known = tabs.shas.with_value(|m| m.get(&path).cloned());
                    if known.as_deref() == Some(f.sha.as_str()) {
                        return;
                    }
                    let text = f.content.unwrap_or_default();
                    if js::update(&path, &text, false) {
                        tabs.shas.update_value(|m| {
                            m.insert(path.clone(), f.sha);
                        });
                    } else {
                        tabs.conflict.set(Some((path, text, f.sha)));
                    }
                });
            }
        }
        now
    });

    // A diff between two versions of a file (a turn's change, a version's).
    Effect::new(move |_| {
        let Some((path, from, to)) = ws.diff.get() else {
            js::close_diff();
            return;
        };
        let Some(el) = diff_host.get() else { return };
        let el: leptos::web_sys::Element = el.into();
        let id = ws.id();
        spawn_local(async move {
            let text_at = |r: String| {
                let (id, path) = (id.clone(), path.clone());
                async move {
                    api::files::read_at(&id, &path, &r)
                        .await
                        .ok()
                        .and_then(|f| f.content)
                        .unwrap_or_default()
                }
            };
            let (old, new) = (text_at(from).await, text_at(to).await);
            js::show_diff(el, &path, &old, &new);
        });
    });

    let close_tab = move |path: String| {
        if tabs.dirty.get_untracked().contains(&path) {
            #[cfg(feature = "hydrate")]
            {
                let ok = web_sys::window()
                    .and_then(|w| {
                        w.confirm_with_message(&format!(
                            "{path} has unsaved changes. Close it anyway?"
                        ))
                        .ok()
                    })
                    .unwrap_or(false);
                if !ok {
                    return;
                }
            }
        }
        js::close(&path);
        tabs.open.update(|o| o.retain(|p| *p != path));
        tabs.dirty.update(|d| d.retain(|p| *p != path));
        tabs.shas.update_value(|m| {
            m.remove(&path);
        });
        if tabs.active.get_untracked().as_deref() == Some(path.as_str()) {
            let next = tabs.open.get_untracked().last().cloned();
            tabs.active.set(next.clone());
            if let Some(p) = next {
                if let Some(text) = js::value(&p) {
                    js::open(&p, &text);
                }
            }
        }
    };
    let rename = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let Some(from) = tabs.active.get_untracked() else {
                return;
            };
            let Some(to) = web_sys::window().and_then(|w| {
                w.prompt_with_message_and_default("Rename to:", &from)
                    .ok()
                    .flatten()
            }) else {
                return;
            };
            let to = to.trim().to_string();
            if to.is_empty() || to == from {
                return;
            }
            let (id, sha) = (
                ws.id(),
                tabs.shas
                    .with_value(|m| m.get(&from).cloned())
                    .unwrap_or_default(),
            );
            spawn_local(async move {
                let body = autocrea_wire::files::RenameFile {
                    from: from.clone(),
                    to: to.clone(),
                    sha,
                };
                match api::files::rename(&id, &body).await {
                    Ok(_) => {
                        js::close(&from);
                        tabs.open.update(|o| o.retain(|p| *p != from));
                        tabs.shas.update_value(|m| {
                            m.remove(&from);
                        });
                        ws.changed();
                        ws.open_file.set(Some(to));
                    }
                    Err(e) => tabs.message.set(Some(e.message)),
                }
            });
        }
    };
    let delete = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let Some(path) = tabs.active.get_untracked() else {
                return;
            };
            let ok = web_sys::window()
                .and_then(|w| {
                    w.confirm_with_message(&format!(
                        "Delete {path}? It stays in the version history."
                    ))
                    .ok()
                })
                .unwrap_or(false);
            if !ok {
                return;
            }
            let (id, sha) = (
                ws.id(),
                tabs.shas
                    .with_value(|m| m.get(&path).cloned())
                    .unwrap_or_default(),
            );
            spawn_local(async move {
                match api::files::delete(&id, &path, &sha).await {
                    Ok(_) => {
                        js::close(&path);
                        tabs.open.update(|o| o.retain(|p| *p != path));
                        tabs.active.set(None);
                        ws.changed();
                    }
                    Err(e) => tabs.message.set(Some(e.message)),
                }
            });
        }
    };
    let save_active = move |_| {
        if let Some(path) = tabs.active.get_untracked() {
            if let Some(text) = js::value(&path) {
                save(path, text, false);
            }
        }
    };
    Effect::new(move |_| match (show_terminal.get(), terminal.get()) {
        (true, Some(el)) => js::open_terminal(el.into(), &api::sandbox::terminal_url(&ws.id())),
        _ => js::close_terminal(),
    });

    view! {
        <div class="ws-tabs" role="tablist" aria-label="Open files">
            <For each=move || tabs.open.get() key=|p| p.clone() let:path>
                {
                    let p1 = path.clone();
                    let p2 = path.clone();
                    let p3 = path.clone();
                    let label = path.rsplit('/').next().unwrap_or(&path).to_string();
                    view! {
                        <div class="ws-tab" class:active=move || tabs.active.get().as_deref() == Some(p1.as_str())>
                            <button type="button" role="tab" title=path.clone() on:click=move |_| {
                                if let Some(text) = js::value(&p2) { js::open(&p2, &text); }
                                tabs.active.set(Some(p2.clone()));
                            }>{label}{move || tabs.dirty.get().contains(&p3).then_some(" •")}</button>
                            <button type="button" class="tab-close" aria-label=format!("Close {path}") on:click=move |_| close_tab(path.clone())>"×"</button>
                        </div>
                    }
                }
            </For>
            <div class="ws-tab-actions">
                <button type="button" class="btn btn-ghost btn-small" on:click=save_active disabled=move || tabs.active.get().is_none() data-testid="save-file">"Save"</button>
                <button type="button" class="btn btn-ghost btn-small" on:click=rename disabled=move || tabs.active.get().is_none()>"Rename"</button>
                <button type="button" class="btn btn-ghost btn-small" on:click=delete disabled=move || tabs.active.get().is_none()>"Delete"</button>
                <button type="button" class="btn btn-ghost btn-small" aria-pressed=move || show_terminal.get().to_string()
                    on:click=move |_| show_terminal.update(|s| *s = !*s)>"Terminal"</button>
            </div>
        </div>
        {move || tabs.conflict.get().map(|(path, text, sha)| {
            let (p1, t1, s1) = (path.clone(), text.clone(), sha.clone());
            let p2 = path.clone();
            view! {
                <div class="ws-conflict" role="alert" data-testid="conflict">
                    <span>{format!("{path} changed (by the agent or another save) while you had unsaved edits.")}</span>
                    <button type="button" class="btn btn-small" on:click=move |_| {
                        js::update(&p1, &t1, true);
                        tabs.shas.update_value(|m| { m.insert(p1.clone(), s1.clone()); });
                        tabs.conflict.set(None);
                    }>"Take the new version"</button>
                    <button type="button" class="btn btn-small" on:click=move |_| {
                        tabs.shas.update_value(|m| { m.insert(p2.clone(), sha.clone()); });
                        tabs.conflict.set(None);
                    }>"Keep my edits"</button>
                </div>
            }
        })}
        {move || tabs.message.get().map(|m| view! { <div class="ws-note muted small" role="status">{m}</div> })}
        {move || ws.diff.get().map(|(path, from, to)| view! {
            <div class="ws-note small" data-testid="diff-bar">
                {format!("Changes to {path}: {} → {}", &from[..from.len().min(7)], &to[..to.len().min(7)])}
                <button type="button" class="btn btn-ghost btn-small" on:click=move |_| { js::close_diff(); ws.diff.set(None); }>"Close the diff"</button>
            </div>
        })}
        <div class="ws-editor-host">
            <div id="ws-monaco" class="ws-monaco" data-testid="editor" node_ref=host></div>
            <div class="ws-monaco ws-diff" class:hidden=move || ws.diff.get().is_none() data-testid="diff" node_ref=diff_host></div>
            {move || (tabs.open.get().is_empty()).then(|| view! {
                <div class="ws-empty muted">{move || if ready.get() { "Pick a file on the left to edit it. Ctrl+S saves it as a new version." } else { "Loading the editor…" }}</div>
            })}
        </div>
        <div id="ws-terminal" class="ws-terminal" class:hidden=move || !show_terminal.get() data-testid="terminal" node_ref=terminal></div>
    }
}
