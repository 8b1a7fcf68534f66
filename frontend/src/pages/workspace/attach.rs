//! Attachments in the chat: a button (and pasting) to upload images and
//! text files, the chips of what goes with the next message, and the
//! attachments shown on a sent message (images as thumbnails).

use super::Ws;
#[cfg(feature = "hydrate")]
use crate::{api, pages::encode};
use leptos::prelude::*;
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct AttachmentView {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub size: i64,
}

fn size_text(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{} KiB", b / 1024),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

fn url_of(project_id: &str, id: &str) -> String {
    format!("/api/v1/projects/{project_id}/attachments/{id}")
}

/// Uploads each file; what the server took joins `attached`, what it
/// refused is explained in `error` (its reason names the file).
#[cfg(feature = "hydrate")]
pub fn upload_files(project_id: String, files: Vec<web_sys::File>, attached: RwSignal<Vec<AttachmentView>>, busy: RwSignal<u32>, error: RwSignal<Option<String>>) {
    for file in files {
        let url = format!("/api/v1/projects/{project_id}/attachments?name={}", encode(&file.name()));
        busy.update(|b| *b += 1);
        leptos::task::spawn_local(async move {
            match api::upload::<AttachmentView>(&url, &file).await {
                Ok(a) => attached.update(|list| list.push(a)),
                Err(e) => error.set(Some(e.message)),
            }
            busy.update(|b| *b -= 1);
        });
    }
}

/// The files of a `FileList` (an input's, a paste's).
#[cfg(feature = "hydrate")]
pub fn files_of(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// "Attach": a button that opens the file picker (keyboard reachable, unlike a bare file input).
#[component]
pub fn AttachButton(attached: RwSignal<Vec<AttachmentView>>, busy: RwSignal<u32>, error: RwSignal<Option<String>>) -> impl IntoView {
    let ws = expect_context::<Ws>();
    let input = NodeRef::<leptos::html::Input>::new();
    let picked = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(el) = input.get() {
            upload_files(ws.id(), files_of(el.files()), attached, busy, error);
            el.set_value("");
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ws, attached, busy, error);
    };
    view! {
        <input type="file" multiple class="sr-only" tabindex="-1" aria-hidden="true" node_ref=input
            data-testid="attach-input" on:change=picked/>
        <button type="button" class="btn btn-ghost" title="Attach images or text files (or paste them)"
            on:click=move |_| if let Some(el) = input.get() { el.click() }>
            {move || if busy.get() > 0 { "Uploading…" } else { "Attach" }}
        </button>
    }
}

/// What goes with the next message, each removable.
#[component]
pub fn AttachedChips(attached: RwSignal<Vec<AttachmentView>>) -> impl IntoView {
    move || {
        let list = attached.get();
        (!list.is_empty()).then(|| view! {
            <ul class="attach-chips" data-testid="attached">
                {list.into_iter().map(|a| {
                    let id = a.id.clone();
                    view! {
                        <li class="chip">{format!("{} · {}", a.name, size_text(a.size))}
                            <button type="button" class="chip-remove" aria-label=format!("Remove {}", a.name)
                                on:click=move |_| attached.update(|l| l.retain(|x| x.id != id))>"×"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        })
    }
}

/// The attachments of a sent message.
pub fn sent_attachments(project_id: &str, list: &[AttachmentView]) -> impl IntoView {
    (!list.is_empty()).then(|| view! {
        <ul class="attach-chips sent">
            {list.iter().map(|a| {
                let url = url_of(project_id, &a.id);
                if a.kind == "image" {
                    let src = url.clone();
                    view! { <li><a href=url target="_blank" rel="noopener" title=a.name.clone()>
                        <img class="attach-thumb" src=src alt=a.name.clone() loading="lazy" width="96" height="72"/></a></li> }.into_any()
                } else {
                    view! { <li class="chip"><a href=url target="_blank" rel="noopener">{format!("{} · {}", a.name, size_text(a.size))}</a></li> }.into_any()
                }
            }).collect_view()}
        </ul>
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_naturally() {
        assert_eq!(super::size_text(900), "900 B");
        assert_eq!(super::size_text(4096), "4 KiB");
        assert_eq!(super::size_text(3 * 1024 * 1024 / 2), "1.5 MiB");
    }
}
