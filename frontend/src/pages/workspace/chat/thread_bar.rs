//! The chat's head: the thread picker and "New chat".

use super::Chat;
use leptos::prelude::*;
use std::collections::HashMap;

#[component]
pub(super) fn ThreadBar() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let Chat {
        thread,
        choice,
        threads,
        ..
    } = chat;
    view! {
        <div class="ws-head">
            <Transition fallback=|| ()>
                {move || threads.get().map(|r| match r {
                    Ok(list) if !list.threads.is_empty() => view! {
                        <select aria-label="Chat thread" on:change=move |ev| { thread.set(Some(event_target_value(&ev))); choice.set(HashMap::new()); }>
                            {list.threads.into_iter().map(|t| {
                                let id = t.id.clone();
                                view! { <option value=t.id.clone() prop:selected=move || thread.get().as_deref() == Some(id.as_str())>{t.title.clone()}</option> }
                            }).collect_view()}
                        </select>
                    }.into_any(),
                    _ => view! { <h2>"Chat"</h2> }.into_any(),
                })}
            </Transition>
            <button type="button" class="btn btn-ghost btn-small" on:click=move |_| chat.new_thread()>"New chat"</button>
        </div>
    }
}
