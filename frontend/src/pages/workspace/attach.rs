//! Attachments in the chat: a button (and pasting) to upload images and
//! text files, the chips of what goes with the next message, and the
//! attachments shown on a sent message (images as thumbnails).

use super::Ws;
use crate::api;
use autocrea_wire::agent::Attachment;
use autocrea_wire::llm::ProvidersView;
use leptos::prelude::*;

fn size_text(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{} KiB", b / 1024),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// Uploads each file; what the server took joins `attached`, what it
/// refused is explained in `error` (its reason names the file).
#[cfg(feature = "hydrate")]
pub fn upload_files(
    project_id: String,
    files: Vec<web_sys::File>,
    attached: RwSignal<Vec<Attachment>>,
    busy: RwSignal<u32>,
    error: RwSignal<Option<String>>,
) {
    for file in files {
        let project_id = project_id.clone();
        // A placeholder keeps the chips in the order the files were picked,
        // whichever upload ends first.
        let slot = format!("uploading-{}", js_sys::Math::random());
        attached.update(|list| {
            list.push(Attachment {
                id: slot.clone(),
                name: file.name(),
                kind: "uploading".into(),
                media_type: file.type_(),
                size: file.size() as i64,
            })
        });
        busy.update(|b| *b += 1);
        leptos::task::spawn_local(async move {
            let answer = api::agent::upload_attachment(&project_id, &file).await;
            attached.update(|list| match answer {
                Ok(a) => {
                    if let Some(entry) = list.iter_mut().find(|x| x.id == slot) {
                        *entry = a;
                    }
                }
                Err(e) => {
                    list.retain(|x| x.id != slot);
                    error.set(Some(e.message));
                }
            });
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
pub fn AttachButton(
    attached: RwSignal<Vec<Attachment>>,
    busy: RwSignal<u32>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
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

/// Whether the project's agent model reads images: the local model does
/// not; a provider's models do when the admin says so.
fn model_sees_images(model: Option<&str>, providers: &ProvidersView) -> bool {
    let Some((provider, _)) = model.and_then(|m| m.split_once('/')) else {
        return false;
    };
    providers
        .providers
        .iter()
        .any(|p| p.id == provider && p.images)
}

/// What goes with the next message, each removable; a note when images
/// would reach a model that cannot see them.
#[component]
pub fn AttachedChips(attached: RwSignal<Vec<Attachment>>) -> impl IntoView {
    let ws = expect_context::<Ws>();
    let blind_model = LocalResource::new(move || {
        let id = ws.id();
        async move {
            let settings = api::agent::settings(&id).await.ok()?;
            let providers = api::llm::providers().await.ok()?;
            let model = settings.model.clone();
            (!model_sees_images(model.as_deref(), &providers))
                .then(|| model.unwrap_or_else(|| "the local model".into()))
        }
    });
    move || {
        let list = attached.get();
        let has_image = list.iter().any(|a| a.kind == "image");
        (!list.is_empty()).then(|| view! {
            {move || has_image.then(|| blind_model.get().flatten().map(|m| view! {
                <p class="small muted" data-testid="no-image-model">{format!("{m} cannot see images: it is told an image was attached.")}</p>
            })).flatten()}
            <ul class="attach-chips" data-testid="attached">
                {list.into_iter().map(|a| {
                    let id = a.id.clone();
                    view! {
                        <li class="chip" class:uploading=a.kind == "uploading">{format!("{} · {}", a.name, size_text(a.size))}
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
pub fn sent_attachments(project_id: &str, list: &[Attachment]) -> impl IntoView {
    (!list.is_empty()).then(|| view! {
        <ul class="attach-chips sent">
            {list.iter().map(|a| {
                let url = api::agent::attachment_url(project_id, &a.id);
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
    fn only_providers_marked_for_images_see_them() {
        let providers: super::ProvidersView = serde_json::from_value(serde_json::json!({
            "local": true, "local_model": "gemma",
            "local_status": {"model": "gemma", "context": 8192, "test_model": false, "agent_ready": false,
                "state": "unavailable", "message": "the local model is loading"},
            "providers": [
                {"id": "claude", "kind": "anthropic", "models": ["sonnet"], "has_key": true, "shared_key": false, "images": true},
                {"id": "team", "kind": "openai", "models": ["coder"], "has_key": true, "shared_key": false, "images": false}]
        }))
        .unwrap();
        assert!(super::model_sees_images(Some("claude/sonnet"), &providers));
        assert!(!super::model_sees_images(Some("team/coder"), &providers));
        assert!(!super::model_sees_images(Some("gemma"), &providers));
        assert!(!super::model_sees_images(None, &providers));
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(super::size_text(900), "900 B");
        assert_eq!(super::size_text(4096), "4 KiB");
        assert_eq!(super::size_text(3 * 1024 * 1024 / 2), "1.5 MiB");
    }
}
