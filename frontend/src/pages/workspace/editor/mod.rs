//! The side bar's file tree and version timeline, and the editor: tabs,
//! Monaco, Ctrl+S saves as a commit (with the blob it started from), and a
//! conflict prompt when a file changed under unsaved edits.

mod sidebar;
mod tab_bar;
mod tabs;

use super::Ws;
use crate::api;
use crate::workspace_js as js;
use leptos::prelude::*;
use leptos::task::spawn_local;
pub use sidebar::{FileTree, Timeline};
use tab_bar::{ConflictBar, TabBar};
use tabs::Tabs;

#[component]
pub fn EditorPanel() -> impl IntoView {
    let ws = expect_context::<Ws>();
    let tabs = Tabs::new(ws);
    let ready = RwSignal::new(false);
    let show_terminal = RwSignal::new(false);

    // The editor, once its element is in the page.
    let host = NodeRef::<leptos::html::Div>::new();
    let diff_host = NodeRef::<leptos::html::Div>::new();
    let terminal = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let Some(el) = host.get() else { return };
        js::mount_editor(
            el.into(),
            move |path, text| tabs.save(path, text, false),
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

    Effect::new(move |_| {
        if let (Some(path), true) = (ws.open_file.get(), ready.get()) {
            ws.open_file.set(None);
            tabs.open(path);
        }
    });
    tabs.follow_changes();

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

    Effect::new(move |_| match (show_terminal.get(), terminal.get()) {
        (true, Some(el)) => js::open_terminal(el.into(), &api::sandbox::terminal_url(&ws.id())),
        _ => js::close_terminal(),
    });

    view! {
        <TabBar tabs=tabs show_terminal=show_terminal/>
        <ConflictBar tabs=tabs/>
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
