//! The open files and what the editor knows of them, and what can be done
//! to them: open, save (a commit, with the blob the text started from),
//! close, rename, delete.

use crate::api;
use crate::pages::workspace::Ws;
use crate::workspace_js as js;
use autocrea_wire::files::SaveFile;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::HashMap;

#[derive(Clone, Copy)]
pub(super) struct Tabs {
    pub ws: Ws,
    pub open: RwSignal<Vec<String>>,
    pub active: RwSignal<Option<String>>,
    pub dirty: RwSignal<Vec<String>>,
    /// Path -> the blob id the editor's text started from.
    pub shas: StoredValue<HashMap<String, String>>,
    /// A file that changed under unsaved edits: (path, its new text, new sha).
    pub conflict: RwSignal<Option<(String, String, String)>>,
    pub message: RwSignal<Option<String>>,
}

impl Tabs {
    pub fn new(ws: Ws) -> Self {
        Tabs {
            ws,
            open: RwSignal::new(Vec::new()),
            active: RwSignal::new(None),
            dirty: RwSignal::new(Vec::new()),
            shas: StoredValue::new(HashMap::new()),
            conflict: RwSignal::new(None),
            message: RwSignal::new(None),
        }
    }

    /// Saves a file as a new version; `force` overwrites after a conflict.
    pub fn save(self, path: String, text: String, force: bool) {
        let id = self.ws.id();
        let sha = if force {
            None
        } else {
            self.shas.with_value(|s| s.get(&path).cloned())
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
                        self.shas.update_value(|m| {
                            m.insert(path.clone(), new);
                        });
                    }
                    js::mark_saved(&path, &text);
                    self.message
                        .set(Some(format!("Saved {path} as a new version.")));
                    self.ws.changed();
                }
                Err(e) if e.code == "conflict" => {
                    if let Ok(f) = api::files::read(&id, &path).await {
                        self.conflict
                            .set(Some((path, f.content.unwrap_or_default(), f.sha)));
                    }
                }
                Err(e) => self.message.set(Some(format!("Not saved: {}", e.message))),
            }
        });
    }

    pub fn save_active(self) {
        if let Some(path) = self.active.get_untracked() {
            if let Some(text) = js::value(&path) {
                self.save(path, text, false);
            }
        }
    }

    /// Opens a file in a tab: fetched, then shown.
    pub fn open(self, path: String) {
        self.ws.diff.set(None);
        let id = self.ws.id();
        spawn_local(async move {
            match api::files::read(&id, &path).await {
                Ok(f) => match f.content {
                    Some(text) => {
                        self.shas.update_value(|m| {
                            m.entry(f.path.clone()).or_insert(f.sha);
                        });
                        js::open(&f.path, &text);
                        self.open.update(|o| {
                            if !o.contains(&f.path) {
                                o.push(f.path.clone());
                            }
                        });
                        self.active.set(Some(f.path));
                    }
                    None => self
                        .message
                        .set(Some(format!("{path} is not a text file."))),
                },
                Err(e) => self.message.set(Some(e.message)),
            }
        });
    }

    /// Closes a tab (asks first when it has unsaved edits).
    pub fn close(self, path: String) {
        if self.dirty.get_untracked().contains(&path) {
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
        self.open.update(|o| o.retain(|p| *p != path));
        self.dirty.update(|d| d.retain(|p| *p != path));
        self.shas.update_value(|m| {
            m.remove(&path);
        });
        if self.active.get_untracked().as_deref() == Some(path.as_str()) {
            let next = self.open.get_untracked().last().cloned();
            self.active.set(next.clone());
            if let Some(p) = next {
                if let Some(text) = js::value(&p) {
                    js::open(&p, &text);
                }
            }
        }
    }

    /// Renames the active file (asks for the new path).
    pub fn rename_active(self) {
        #[cfg(feature = "hydrate")]
        {
            let Some(from) = self.active.get_untracked() else {
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
                self.ws.id(),
                self.shas
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
                        self.open.update(|o| o.retain(|p| *p != from));
                        self.shas.update_value(|m| {
                            m.remove(&from);
                        });
                        self.ws.changed();
                        self.ws.open_file.set(Some(to));
                    }
                    Err(e) => self.message.set(Some(e.message)),
                }
            });
        }
    }

    /// Deletes the active file (asks first; it stays in the history).
    pub fn delete_active(self) {
        #[cfg(feature = "hydrate")]
        {
            let Some(path) = self.active.get_untracked() else {
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
                self.ws.id(),
                self.shas
                    .with_value(|m| m.get(&path).cloned())
                    .unwrap_or_default(),
            );
            spawn_local(async move {
                match api::files::delete(&id, &path, &sha).await {
                    Ok(_) => {
                        js::close(&path);
                        self.open.update(|o| o.retain(|p| *p != path));
                        self.active.set(None);
                        self.ws.changed();
                    }
                    Err(e) => self.message.set(Some(e.message)),
                }
            });
        }
    }

    /// After any change: open files follow their new versions, unless edited.
    pub fn follow_changes(self) {
        let (ws, tabs) = (self.ws, self);
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
    }
}
