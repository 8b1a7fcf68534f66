//! The chat: threads, the messages of a branch (Markdown rendered inert),
//! each turn's steps, compact tool calls, tokens per message, the plan to
//! approve, stop, edit and regenerate, and the running turn as it streams
//! (server-sent events: tokens, tool calls, steps).
//!
//! `ChatPanel` owns the state (`Chat`, shared with its parts through
//! context) and the resources keyed on the thread and a refresh counter;
//! the parts are the thread bar, the message list (with each turn's card
//! and the live turn), and the composer. Changes are browser-only fetches
//! (not `Send`), so they run with `spawn_local` and end in a refresh.

mod composer;
mod events;
mod messages;
mod thread_bar;
mod turn_card;

use super::attach;
use super::Ws;
use crate::api::{self, ApiFailure};
use autocrea_wire::agent::{
    Attachment, CreateThread, EditMessage, MessageList, PlanAnswer, SendMessage, ThreadList,
    TurnOptions, TurnView,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::HashMap;

pub use events::Live;

/// The message box's id: the workspace's "Skip to chat" link moves the focus there.
pub const INPUT_ID: &str = "ws-chat-input";

/// What the chat asks of its thread besides a new message; the answer
/// refreshes the thread.
#[derive(Clone, Debug)]
enum ThreadAction {
    /// The running turn ends.
    Stop,
    /// A new branch from an edit of message `.0`.
    Edit(String, EditMessage),
    /// Another answer to message `.0`.
    Regenerate(String, TurnOptions),
    /// The answer to turn `.0`'s plan.
    Plan(String, PlanAnswer),
}

/// A turn's options when only its mode is picked.
fn in_mode(mode: String) -> TurnOptions {
    TurnOptions {
        mode: Some(mode),
        ..Default::default()
    }
}

/// The chat's state: what every part of the panel reads and changes.
#[derive(Clone, Copy)]
struct Chat {
    ws: Ws,
    /// The thread shown (the newest when the panel opens).
    thread: RwSignal<Option<String>>,
    /// Bumped after every change: the resources below load again.
    refresh: RwSignal<u32>,
    live: RwSignal<Live>,
    /// At each fork of the thread, the child shown (else the newest).
    choice: RwSignal<HashMap<String, String>>,
    draft: RwSignal<String>,
    attached: RwSignal<Vec<Attachment>>,
    uploading: RwSignal<u32>,
    mode: RwSignal<String>,
    error: RwSignal<Option<String>>,
    /// The message being edited, and its new text.
    editing: RwSignal<Option<(String, String)>>,
    /// Plans being edited, per turn.
    plan_edit: RwSignal<HashMap<String, String>>,
    /// A turn's end: its live box stays until the stored messages that
    /// replace it have arrived, so the list never shrinks and grows back.
    ending: StoredValue<bool>,
    threads: LocalResource<Result<ThreadList, ApiFailure>>,
    messages: LocalResource<Result<Option<MessageList>, ApiFailure>>,
    turns: LocalResource<Result<Vec<TurnView>, ApiFailure>>,
}

impl Chat {
    fn new(ws: Ws) -> Self {
        let thread = RwSignal::new(None::<String>);
        let refresh = RwSignal::new(0u32);
        let threads = LocalResource::new(move || {
            refresh.get();
            let id = ws.id();
            async move { api::agent::threads(&id).await }
        });
        let messages = LocalResource::new(move || {
            refresh.get();
            let (id, t) = (ws.id(), thread.get());
            async move {
                match t {
                    Some(t) => api::agent::messages(&id, &t).await.map(Some),
                    None => Ok(None),
                }
            }
        });
        let turns = LocalResource::new(move || {
            refresh.get();
            let (id, t) = (ws.id(), thread.get());
            async move {
                match t {
                    Some(t) => api::agent::turns(&id, &t).await.map(|l| l.turns),
                    None => Ok(Vec::new()),
                }
            }
        });
        Chat {
            ws,
            thread,
            refresh,
            live: RwSignal::new(Live::default()),
            choice: RwSignal::new(HashMap::new()),
            draft: RwSignal::new(String::new()),
            attached: RwSignal::new(Vec::new()),
            uploading: RwSignal::new(0),
            mode: RwSignal::new("quick".to_string()),
            error: RwSignal::new(None),
            editing: RwSignal::new(None),
            plan_edit: RwSignal::new(HashMap::new()),
            ending: StoredValue::new(false),
            threads,
            messages,
            turns,
        }
    }

    fn reload(self) {
        self.refresh.update(|r| *r += 1);
    }

    /// The live box shows at once, before the turn's first event.
    fn start_live(self) {
        self.live.set(Live {
            running: true,
            ..Default::default()
        });
    }

    /// The thread shown, made first when there is none.
    async fn ensure_thread(self) -> Result<String, ApiFailure> {
        if let Some(t) = self.thread.get_untracked() {
            return Ok(t);
        }
        let t = api::agent::create_thread(&self.ws.id(), &CreateThread::default()).await?;
        self.thread.set(Some(t.id.clone()));
        self.reload();
        Ok(t.id)
    }

    /// A new, empty thread, shown.
    fn new_thread(self) {
        let id = self.ws.id();
        spawn_local(async move {
            if let Ok(t) = api::agent::create_thread(&id, &CreateThread::default()).await {
                self.thread.set(Some(t.id));
                self.reload();
            }
        });
    }

    /// Sends a message (with the attached files) and starts its turn.
    fn send_text(self, text: String) {
        let text = text.trim().to_string();
        if text.is_empty() {
            return;
        }
        self.error.set(None);
        let id = self.ws.id();
        spawn_local(async move {
            let t = match self.ensure_thread().await {
                Ok(t) => t,
                Err(e) => return self.error.set(Some(e.message)),
            };
            let ids: Vec<String> = self
                .attached
                .get_untracked()
                .into_iter()
                .map(|a| a.id)
                .collect();
            let body = SendMessage {
                content: text,
                attachments: ids,
                options: in_mode(self.mode.get_untracked()),
            };
            match api::agent::send(&id, &t, &body).await {
                Ok(_) => {
                    self.draft.set(String::new());
                    self.attached.set(Vec::new());
                    // The turn took the writer lock, which ends a previewed version.
                    self.ws.previewing.set(None);
                    self.start_live();
                    self.reload();
                }
                Err(e) => self.error.set(Some(e.message)),
            }
        });
    }

    fn post(self, action: ThreadAction) {
        let id = self.ws.id();
        let Some(t) = self.thread.get_untracked() else {
            return;
        };
        spawn_local(async move {
            let answer = match action {
                ThreadAction::Stop => api::agent::stop(&id, &t).await,
                ThreadAction::Edit(m, body) => {
                    api::agent::edit(&id, &t, &m, &body).await.map(|_| ())
                }
                ThreadAction::Regenerate(m, body) => {
                    api::agent::regenerate(&id, &t, &m, &body).await.map(|_| ())
                }
                ThreadAction::Plan(turn, body) => {
                    api::agent::answer_plan(&id, &t, &turn, &body).await
                }
            };
            match answer {
                Ok(()) => self.reload(),
                Err(e) => self.error.set(Some(e.message)),
            }
        });
    }
}

#[component]
pub fn ChatPanel() -> impl IntoView {
    let chat = Chat::new(expect_context::<Ws>());
    provide_context(chat);
    let Chat {
        ws,
        thread,
        live,
        ending,
        threads,
        messages,
        error,
        ..
    } = chat;
    // The newest thread is shown first.
    Effect::new(move |_| {
        if thread.get_untracked().is_none() {
            if let Some(Ok(list)) = threads.get() {
                if let Some(t) = list.threads.first() {
                    thread.set(Some(t.id.clone()));
                }
            }
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(Some(m))) = messages.get() {
            if m.running {
                live.update(|l| l.running = true);
            } else if ending.get_value() {
                ending.set_value(false);
                live.set(Live::default());
            }
        }
    });
    events::follow(chat);
    // "Fix this" and "send to chat" from the preview.
    Effect::new(move |_| {
        if let Some(text) = ws.ask.get() {
            ws.ask.set(None);
            chat.send_text(text);
        }
    });

    view! {
        <thread_bar::ThreadBar/>
        <messages::MessageList/>
        {move || error.get().map(|e| view! { <p class="form-error small" role="alert">{e}</p> })}
        <composer::Composer/>
    }
}
