//! The tab bar (open files, unsaved marks, Save, Rename, Delete, Terminal)
//! and the prompt when a file changed under unsaved edits.

use super::tabs::Tabs;
use crate::workspace_js as js;
use leptos::prelude::*;

#[component]
pub(super) fn TabBar(tabs: Tabs, show_terminal: RwSignal<bool>) -> impl IntoView {
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
                            <button type="button" class="tab-close" aria-label=format!("Close {path}") on:click=move |_| tabs.close(path.clone())>"×"</button>
                        </div>
                    }
                }
            </For>
            <div class="ws-tab-actions">
                <button type="button" class="btn btn-ghost btn-small" on:click=move |_| tabs.save_active() disabled=move || tabs.active.get().is_none() data-testid="save-file">"Save"</button>
                <button type="button" class="btn btn-ghost btn-small" on:click=move |_| tabs.rename_active() disabled=move || tabs.active.get().is_none()>"Rename"</button>
                <button type="button" class="btn btn-ghost btn-small" on:click=move |_| tabs.delete_active() disabled=move || tabs.active.get().is_none()>"Delete"</button>
                <button type="button" class="btn btn-ghost btn-small" aria-pressed=move || show_terminal.get().to_string()
                    on:click=move |_| show_terminal.update(|s| *s = !*s)>"Terminal"</button>
            </div>
        </div>
    }
}

#[component]
pub(super) fn ConflictBar(tabs: Tabs) -> impl IntoView {
    view! {
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
    }
}
