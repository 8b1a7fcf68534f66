//! The composer: the message box (Ctrl+Enter sends; pasted images and files
//! are attached), attachments, the mode, and Send or Stop.

#[cfg(feature = "hydrate")]
use super::attach;
use super::attach::{AttachButton, AttachedChips};
use super::{Chat, ThreadAction, INPUT_ID};
use leptos::prelude::*;

#[component]
pub(super) fn Composer() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let Chat {
        live,
        draft,
        attached,
        uploading,
        mode,
        error,
        ..
    } = chat;
    view! {
        <form class="ws-composer" on:submit=move |ev| { ev.prevent_default(); chat.send_text(draft.get_untracked()); }>
            <AttachedChips attached=attached/>
            <textarea id=INPUT_ID rows="3" placeholder="Describe what to build or change… (Ctrl+Enter sends)" aria-label="Message to the agent"
                prop:value=move || draft.get() on:input=move |ev| draft.set(event_target_value(&ev))
                on:paste=move |ev: leptos::ev::ClipboardEvent| {
                    // Pasted images (a screenshot) and files are attached; pasted text stays text.
                    #[cfg(feature = "hydrate")]
                    {
                        let files = attach::files_of(ev.clipboard_data().and_then(|d| d.files()));
                        if !files.is_empty() {
                            ev.prevent_default();
                            attach::upload_files(chat.ws.id(), files, attached, uploading, error);
                        }
                    }
                    #[cfg(not(feature = "hydrate"))]
                    let _ = ev;
                }
                on:keydown=move |ev| if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) { ev.prevent_default(); chat.send_text(draft.get_untracked()); }></textarea>
            <div class="ws-composer-bar">
                <AttachButton attached=attached busy=uploading error=error/>
                <select aria-label="Mode" on:change=move |ev| mode.set(event_target_value(&ev))>
                    <option value="quick" prop:selected=move || mode.get() == "quick">"Quick"</option>
                    <option value="full" prop:selected=move || mode.get() == "full">"Full pipeline"</option>
                </select>
                {move || if live.get().running {
                    view! { <button type="button" class="btn" on:click=move |_| chat.post(ThreadAction::Stop) data-testid="stop-turn">"Stop"</button> }.into_any()
                } else {
                    view! { <button type="submit" class="btn btn-primary" data-testid="send-message" disabled=move || { uploading.get() > 0 }>"Send"</button> }.into_any()
                }}
            </div>
        </form>
    }
}
