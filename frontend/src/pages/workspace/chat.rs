//! The chat: threads, the messages of a branch (Markdown rendered inert),
//! each turn's steps, compact tool calls, tokens per message, the plan to
//! approve, stop, edit and regenerate, and the running turn as it streams
//! (server-sent events: tokens, tool calls, steps).

use super::attach::{self, AttachButton, AttachedChips};
use super::Ws;
use crate::api;
use crate::markdown;
use crate::workspace_js as js;
use autocrea_wire::agent::{
    Attachment, CreateThread, EditMessage, Message, PlanAnswer, Role, SendMessage, TurnOptions,
    TurnStatus, TurnView,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use std::collections::HashMap;

/// The message box's id: the workspace's "Skip to chat" link moves the focus there.
pub const INPUT_ID: &str = "ws-chat-input";

#[derive(Clone, Debug, Deserialize, PartialEq)]
struct CallJson {
    id: String,
    name: String,
    arguments: String,
}

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

/// The running turn as its events arrive.
#[derive(Clone, Debug, Default, PartialEq)]
struct Live {
    running: bool,
    /// Finished answers of this turn, then the one being written.
    texts: Vec<String>,
    tokens: String,
    /// Pieces streamed in this turn (about one token each), for progress.
    streamed: usize,
    /// The tool whose call is being written, while one is.
    writing: Option<String>,
    /// (call id, tool, ok when ended, first line of the result)
    tools: Vec<(String, String, Option<bool>, String)>,
    steps: Vec<(String, String)>,
}

/// The branch shown: from the root, at each fork the chosen child or else the newest.
fn branch(messages: &[Message], choice: &HashMap<String, String>) -> Vec<Message> {
    let mut children: HashMap<String, Vec<&Message>> = HashMap::new();
    for m in messages {
        children
            .entry(m.parent_id.clone().unwrap_or_default())
            .or_default()
            .push(m);
    }
    let mut out = Vec::new();
    let mut at = String::new();
    while let Some(kids) = children.get(&at) {
        let next = choice
            .get(&at)
            .and_then(|c| kids.iter().find(|k| k.id == *c))
            .or(kids.last())
            .copied();
        let Some(m) = next else { break };
        out.push(m.clone());
        at = m.id.clone();
        if out.len() > messages.len() {
            break;
        }
    }
    out
}

/// A tool call in a few words: its name and the path it touched.
fn call_label(c: &CallJson) -> String {
    let args: serde_json::Value = serde_json::from_str(&c.arguments).unwrap_or_default();
    let target = ["path", "from", "command", "pattern", "name"]
        .iter()
        .find_map(|k| args.get(*k).and_then(|v| v.as_str()));
    match target {
        Some(t) => format!("{} {}", c.name, t.chars().take(80).collect::<String>()),
        None => c.name.clone(),
    }
}

fn ms(d: Option<i64>) -> String {
    match d {
        Some(d) if d >= 1000 => format!("{:.1} s", d as f64 / 1000.0),
        Some(d) => format!("{d} ms"),
        None => String::new(),
    }
}

#[component]
pub fn ChatPanel() -> impl IntoView {
    let ws = expect_context::<Ws>();
    let thread = RwSignal::new(None::<String>);
    let refresh = RwSignal::new(0u32);
    let live = RwSignal::new(Live::default());
    let choice = RwSignal::new(HashMap::<String, String>::new());
    let draft = RwSignal::new(String::new());
    let attached = RwSignal::new(Vec::<Attachment>::new());
    let uploading = RwSignal::new(0u32);
    let mode = RwSignal::new("quick".to_string());
    let error = RwSignal::new(None::<String>);
    let editing = RwSignal::new(None::<(String, String)>);
    let plan_edit = RwSignal::new(HashMap::<String, String>::new());

    let threads = LocalResource::new(move || {
        refresh.get();
        let id = ws.id();
        async move { api::agent::threads(&id).await }
    });
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
    // A turn's end: its live box stays until the stored messages that
    // replace it have arrived, so the list never shrinks and grows back.
    let ending = StoredValue::new(false);
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

    // Events of the thread: from the newest kept one on, resumed by the browser after a drop.
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::prelude::*;
        let source = StoredValue::new_local(None::<web_sys::EventSource>);
        let close = move || {
            source.update_value(|s| {
                if let Some(es) = s.take() {
                    es.close();
                }
            })
        };
        Effect::new(move |_| {
            close();
            let Some(t) = thread.get() else { return };
            let id = ws.id();
            spawn_local(async move {
                let after = api::agent::events(&id, &t)
                    .await
                    .ok()
                    .and_then(|l| l.events.last().map(|e| e.id))
                    .unwrap_or(0);
                let Ok(es) = web_sys::EventSource::new(&api::agent::events_url(&id, &t, after))
                else {
                    return;
                };
                let on = |kind: &str, f: Box<dyn Fn(serde_json::Value)>| {
                    let cb = Closure::<dyn Fn(web_sys::MessageEvent)>::new(
                        move |e: web_sys::MessageEvent| {
                            let data = e
                                .data()
                                .as_string()
                                .and_then(|s| serde_json::from_str(&s).ok())
                                .unwrap_or_default();
                            f(data);
                        },
                    );
                    let _ = es.add_event_listener_with_callback(kind, cb.as_ref().unchecked_ref());
                    cb.forget();
                };
                on(
                    "turn:start",
                    Box::new(move |_| {
                        live.set(Live {
                            running: true,
                            ..Default::default()
                        })
                    }),
                );
                on(
                    "token",
                    Box::new(move |d| {
                        live.update(|l| {
                            l.tokens.push_str(d["text"].as_str().unwrap_or(""));
                            l.streamed += 1;
                            l.writing = d["tool"].as_str().map(str::to_string);
                        })
                    }),
                );
                on(
                    "message",
                    Box::new(move |d| {
                        live.update(|l| {
                            l.tokens.clear();
                            l.texts.push(d["text"].as_str().unwrap_or("").to_string());
                        })
                    }),
                );
                on(
                    "tool:start",
                    Box::new(move |d| {
                        live.update(|l| {
                            l.tokens.clear();
                            l.tools.push((
                                d["id"].as_str().unwrap_or("").into(),
                                d["name"].as_str().unwrap_or("").into(),
                                None,
                                String::new(),
                            ));
                        })
                    }),
                );
                on(
                    "tool:end",
                    Box::new(move |d| {
                        live.update(|l| {
                            if let Some(t) = l
                                .tools
                                .iter_mut()
                                .rev()
                                .find(|t| t.0 == d["id"].as_str().unwrap_or(""))
                            {
                                t.2 = d["ok"].as_bool();
                                t.3 = d["summary"].as_str().unwrap_or("").to_string();
                            }
                        })
                    }),
                );
                on(
                    "step",
                    Box::new(move |d| {
                        let (role, status) = (
                            d["role"].as_str().unwrap_or("").to_string(),
                            d["status"].as_str().unwrap_or("").to_string(),
                        );
                        live.update(|l| match l.steps.iter_mut().find(|s| s.0 == role) {
                            Some(s) => s.1 = status,
                            None => l.steps.push((role, status)),
                        });
                        if d["status"] == "waiting" {
                            refresh.update(|r| *r += 1);
                        }
                    }),
                );
                on("plan", Box::new(move |_| refresh.update(|r| *r += 1)));
                on(
                    "preview:refresh",
                    Box::new(move |_| ws.reload_preview.update(|n| *n += 1)),
                );
                on(
                    "turn:end",
                    Box::new(move |d| {
                        if let Some(e) = d["error"].as_str() {
                            error.set(Some(format!(
                                "The turn ended {}: {e}",
                                d["status"].as_str().unwrap_or("")
                            )));
                        }
                        ending.set_value(true);
                        refresh.update(|r| *r += 1);
                        ws.changed();
                    }),
                );
                source.set_value(Some(es));
            });
        });
        on_cleanup(close);
    }

    let ensure_thread = move || async move {
        if let Some(t) = thread.get_untracked() {
            return Ok(t);
        }
        let id = ws.id();
        let t = api::agent::create_thread(&id, &CreateThread::default()).await?;
        thread.set(Some(t.id.clone()));
        refresh.update(|r| *r += 1);
        Ok::<_, api::ApiFailure>(t.id)
    };
    let send_text = move |text: String| {
        let text = text.trim().to_string();
        if text.is_empty() {
            return;
        }
        error.set(None);
        let id = ws.id();
        spawn_local(async move {
            let t = match ensure_thread().await {
                Ok(t) => t,
                Err(e) => return error.set(Some(e.message)),
            };
            let ids: Vec<String> = attached.get_untracked().into_iter().map(|a| a.id).collect();
            let body = SendMessage {
                content: text,
                attachments: ids,
                options: in_mode(mode.get_untracked()),
            };
            match api::agent::send(&id, &t, &body).await {
                Ok(_) => {
                    draft.set(String::new());
                    attached.set(Vec::new());
                    // The turn took the writer lock, which ends a previewed version.
                    ws.previewing.set(None);
                    live.set(Live {
                        running: true,
                        ..Default::default()
                    });
                    refresh.update(|r| *r += 1);
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    // "Fix this" and "send to chat" from the preview.
    Effect::new(move |_| {
        if let Some(text) = ws.ask.get() {
            ws.ask.set(None);
            send_text(text);
        }
    });
    let post = move |action: ThreadAction| {
        let id = ws.id();
        let Some(t) = thread.get_untracked() else {
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
                Ok(()) => refresh.update(|r| *r += 1),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let stop = move |_| post(ThreadAction::Stop);

    // Copy buttons of code blocks, and highlighting once rendered.
    let on_list_click = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(target) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            else {
                return;
            };
            if target.class_list().contains("copy") {
                if let Some(code) = target
                    .parent_element()
                    .and_then(|p| p.query_selector("code").ok().flatten())
                {
                    js::copy(&code.text_content().unwrap_or_default());
                    target.set_text_content(Some("Copied"));
                }
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    // While the list is scrolled to its end it follows what streams in; a
    // person who scrolled up to read stays where they are.
    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    let at_end = StoredValue::new(true);
    let on_scroll = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if let Some(el) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            {
                at_end.set_value(el.scroll_height() - el.scroll_top() - el.client_height() < 48);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    Effect::new(move |_| {
        messages.track();
        live.track();
        js::colorize("ws-messages");
        #[cfg(feature = "hydrate")]
        if at_end.get_value() {
            request_animation_frame(|| {
                if let Some(el) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.get_element_by_id("ws-messages"))
                {
                    el.set_scroll_top(el.scroll_height());
                }
            });
        }
    });

    let view_messages = move || {
        let list = match messages.get() {
            Some(Ok(Some(m))) => m.messages,
            _ => Vec::new(),
        };
        let turns = match turns.get() {
            Some(Ok(t)) => t,
            _ => Vec::new(),
        };
        let all = list.clone();
        let shown = branch(&list, &choice.get());
        // A turn's change of a file opens as a diff (base -> its commit).
        let commits: HashMap<String, (String, String)> = turns
            .iter()
            .filter_map(|t| {
                let t = &t.turn;
                Some((t.id.clone(), (t.base_sha.clone()?, t.commit_sha.clone()?)))
            })
            .collect();
        let results: HashMap<String, bool> = list
            .iter()
            .filter(|m| m.role == Role::Tool)
            .filter_map(|m| {
                m.tool_call_id
                    .clone()
                    .map(|id| (id, !m.content.starts_with("error:")))
            })
            .collect();
        let mut out = Vec::new();
        for (i, m) in shown.iter().enumerate() {
            match m.role {
                Role::User => {
                    let siblings: Vec<&Message> = all
                        .iter()
                        .filter(|s| s.parent_id == m.parent_id && s.role == Role::User)
                        .collect();
                    let pos = siblings.iter().position(|s| s.id == m.id).unwrap_or(0);
                    let parent_key = m.parent_id.clone().unwrap_or_default();
                    let nav = (siblings.len() > 1).then(|| {
                        let prev = (pos > 0).then(|| siblings[pos - 1].id.clone());
                        let next = siblings.get(pos + 1).map(|s| s.id.clone());
                        let (k1, k2) = (parent_key.clone(), parent_key.clone());
                        view! {
                            <span class="branch-nav" aria-label="Versions of this message">
                                <button type="button" class="btn btn-ghost btn-small" disabled=prev.is_none() aria-label="Earlier version"
                                    on:click=move |_| if let Some(p) = prev.clone() { choice.update(|c| { c.insert(k1.clone(), p); }) }>"‹"</button>
                                {format!("{}/{}", pos + 1, siblings.len())}
                                <button type="button" class="btn btn-ghost btn-small" disabled=next.is_none() aria-label="Later version"
                                    on:click=move |_| if let Some(n) = next.clone() { choice.update(|c| { c.insert(k2.clone(), n); }) }>"›"</button>
                            </span>
                        }
                    });
                    let (id1, id2, text) = (m.id.clone(), m.id.clone(), m.content.clone());
                    let is_editing = editing.get().is_some_and(|(e, _)| e == m.id);
                    out.push(if is_editing {
                        let id3 = m.id.clone();
                        view! {
                            <div class="msg user editing">
                                <textarea aria-label="Edit your message" rows="3"
                                    prop:value=move || editing.get().map(|e| e.1).unwrap_or_default()
                                    on:input=move |ev| editing.update(|e| if let Some(e) = e { e.1 = event_target_value(&ev) })></textarea>
                                <div class="msg-actions">
                                    <button type="button" class="btn btn-small btn-primary" on:click=move |_| {
                                        let content = editing.get_untracked().map(|e| e.1).unwrap_or_default();
                                        editing.set(None);
                                        post(ThreadAction::Edit(id3.clone(), EditMessage { content, attachments: None, options: in_mode(mode.get_untracked()) }));
                                        live.set(Live { running: true, ..Default::default() });
                                    }>"Send edit"</button>
                                    <button type="button" class="btn btn-small" on:click=move |_| editing.set(None)>"Cancel"</button>
                                </div>
                            </div>
                        }.into_any()
                    } else {
                        view! {
                            <div class="msg user" data-testid="user-message">
                                <div class="msg-body">{text.clone()}</div>
                                {attach::sent_attachments(&ws.id(), &m.attachments)}
                                <div class="msg-actions">
                                    {nav}
                                    <button type="button" class="btn btn-ghost btn-small" on:click=move |_| editing.set(Some((id1.clone(), text.clone())))>"Edit"</button>
                                    <button type="button" class="btn btn-ghost btn-small" on:click=move |_| {
                                        post(ThreadAction::Regenerate(id2.clone(), in_mode(mode.get_untracked())));
                                        live.set(Live { running: true, ..Default::default() });
                                    }>"Regenerate"</button>
                                </div>
                            </div>
                        }.into_any()
                    });
                    // The turn that answered it on this branch: its steps, its plan. With no
                    // answer after it (the turn failed or was stopped, and a new message may
                    // follow), its latest turn, so a failed turn stays visible.
                    let answered_by = shown
                        .get(i + 1)
                        .filter(|n| n.role != Role::User)
                        .and_then(|n| n.turn_id.clone());
                    let of_this =
                        |t: &&TurnView| t.turn.request_id.as_deref() == Some(m.id.as_str());
                    let turn = match answered_by {
                        Some(id) => turns.iter().filter(of_this).find(|t| t.turn.id == id),
                        None => turns.iter().rev().find(of_this),
                    }
                    .cloned();
                    if let Some(t) = turn {
                        out.push(turn_card(t, plan_edit, post).into_any());
                    }
                }
                Role::Assistant => {
                    let calls: Vec<CallJson> = m
                        .tool_calls
                        .as_deref()
                        .and_then(|c| serde_json::from_str(c).ok())
                        .unwrap_or_default();
                    let html =
                        (!m.content.trim().is_empty()).then(|| markdown::to_html(&m.content));
                    let role = m.agent_role.clone().unwrap_or_default();
                    let tokens = format!("{} + {} tokens", m.prompt_tokens, m.completion_tokens);
                    let change = m.turn_id.as_ref().and_then(|t| commits.get(t)).cloned();
                    out.push(view! {
                        <div class="msg assistant" data-testid="assistant-message">
                            {html.map(|h| view! { <div class="msg-body markdown" inner_html=h></div> })}
                            {(!calls.is_empty()).then(|| view! {
                                <ul class="tool-calls">
                                    {calls.iter().map(|c| {
                                        let ok = results.get(&c.id).copied();
                                        let path = serde_json::from_str::<serde_json::Value>(&c.arguments).ok()
                                            .and_then(|a| a["path"].as_str().map(str::to_string));
                                        let label = call_label(c);
                                        view! { <li class=match ok { Some(true) => "ok", Some(false) => "failed", None => "" }>
                                            {match (path, change.clone()) {
                                                (Some(p), Some((from, to))) => view! { <button type="button" class="link" title="Show the change"
                                                    on:click=move |_| ws.diff.set(Some((p.clone(), from.clone(), to.clone())))>{label.clone()}</button> }.into_any(),
                                                (Some(p), None) => view! { <button type="button" class="link" on:click=move |_| ws.open_file.set(Some(p.clone()))>{label.clone()}</button> }.into_any(),
                                                (None, _) => view! { <span>{label.clone()}</span> }.into_any(),
                                            }}
                                        </li> }
                                    }).collect_view()}
                                </ul>
                            })}
                            <div class="msg-meta muted small">{role}" · "{tokens}</div>
                        </div>
                    }.into_any());
                }
                Role::Tool => {}
            }
        }
        out
    };

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
            <button type="button" class="btn btn-ghost btn-small" on:click=move |_| {
                let id = ws.id();
                spawn_local(async move {
                    if let Ok(t) = api::agent::create_thread(&id, &CreateThread::default()).await {
                        thread.set(Some(t.id));
                        refresh.update(|r| *r += 1);
                    }
                });
            }>"New chat"</button>
        </div>
        <div id="ws-messages" class="ws-messages" data-testid="messages" aria-live="polite" on:click=on_list_click on:scroll=on_scroll>
            <Transition fallback=|| ()>{move || view_messages()}</Transition>
            {move || {
                let l = live.get();
                l.running.then(|| view! {
                    <div class="msg assistant live" data-testid="live-turn">
                        <ul class="steps">{l.steps.iter().map(|(r, s)| view! { <li class=format!("step {s}")>{format!("{r}: {s}")}</li> }).collect_view()}</ul>
                        {l.texts.iter().map(|t| view! { <div class="msg-body markdown" inner_html=markdown::to_html(t)></div> }).collect_view()}
                        <ul class="tool-calls">{l.tools.iter().map(|(_, name, ok, summary)| view! {
                            <li class=match ok { Some(true) => "ok", Some(false) => "failed", None => "running" }>{format!("{name} {summary}")}</li>
                        }).collect_view()}</ul>
                        {(!l.tokens.is_empty()).then(|| view! { <div class="msg-body streaming" data-testid="streaming">{tail(&l.tokens, 1200)}</div> })}
                        <div class="muted small" data-testid="live-progress">{match (&l.writing, l.streamed) {
                            (_, 0) => "Working… waiting for the model".to_string(),
                            (Some(tool), n) => format!("Writing a {tool} call… {n} tokens"),
                            (None, n) => format!("Writing… {n} tokens"),
                        }}</div>
                    </div>
                })
            }}
        </div>
        {move || error.get().map(|e| view! { <p class="form-error small" role="alert">{e}</p> })}
        <form class="ws-composer" on:submit=move |ev| { ev.prevent_default(); send_text(draft.get_untracked()); }>
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
                            attach::upload_files(ws.id(), files, attached, uploading, error);
                        }
                    }
                    #[cfg(not(feature = "hydrate"))]
                    let _ = ev;
                }
                on:keydown=move |ev| if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) { ev.prevent_default(); send_text(draft.get_untracked()); }></textarea>
            <div class="ws-composer-bar">
                <AttachButton attached=attached busy=uploading error=error/>
                <select aria-label="Mode" on:change=move |ev| mode.set(event_target_value(&ev))>
                    <option value="quick" prop:selected=move || mode.get() == "quick">"Quick"</option>
                    <option value="full" prop:selected=move || mode.get() == "full">"Full pipeline"</option>
                </select>
                {move || if live.get().running {
                    view! { <button type="button" class="btn" on:click=stop data-testid="stop-turn">"Stop"</button> }.into_any()
                } else {
                    view! { <button type="submit" class="btn btn-primary" data-testid="send-message" disabled=move || { uploading.get() > 0 }>"Send"</button> }.into_any()
                }}
            </div>
        </form>
    }
}

/// The end of `text`, at most `max` bytes: a long streamed call shows its newest part.
fn tail(text: &str, max: usize) -> String {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_string()
}

/// A turn's steps (role, status, time, tokens) and, while it waits, its plan to approve or edit.
fn turn_card(
    t: TurnView,
    plan_edit: RwSignal<HashMap<String, String>>,
    post: impl Fn(ThreadAction) + Copy + 'static,
) -> impl IntoView {
    let plan = t
        .steps
        .iter()
        .find(|s| s.role == "Architect")
        .map(|s| s.output.clone())
        .unwrap_or_default();
    let (id1, id2, id3) = (t.turn.id.clone(), t.turn.id.clone(), t.turn.id.clone());
    let waiting = t.plan_waiting;
    view! {
        <div class="turn-card" data-testid="turn-card" data-status=t.turn.status.as_str()>
            <ul class="steps">
                {t.steps.iter().map(|s| view! {
                    <li class=format!("step {}", s.status)>
                        <strong>{s.role.clone()}</strong>" "<span class=format!("badge state-{}", s.status)>{s.status.as_str()}</span>
                        <span class="muted small">{format!(" {} · {} tokens", ms(s.duration_ms), s.prompt_tokens + s.completion_tokens)}</span>
                        {(s.role == "Security Auditor" && !s.output.is_empty()).then(|| view! { <details><summary>"Audit"</summary><pre class="small">{s.output.clone()}</pre></details> })}
                    </li>
                }).collect_view()}
            </ul>
            {(t.turn.mode == "full" && !plan.is_empty() && !waiting).then(|| view! { <details><summary>"Plan"</summary><div class="markdown" inner_html=markdown::to_html(&plan)></div></details> })}
            {waiting.then(|| {
                let initial = plan.clone();
                view! {
                    <div class="plan" data-testid="plan">
                        <strong>"The Architect's plan: approve it, edit it, or reject it."</strong>
                        <textarea rows="8" aria-label="Plan"
                            prop:value=move || plan_edit.with(|p| p.get(&id1).cloned()).unwrap_or_else(|| initial.clone())
                            on:input=move |ev| plan_edit.update(|p| { p.insert(id2.clone(), event_target_value(&ev)); })></textarea>
                        <div class="msg-actions">
                            <button type="button" class="btn btn-primary btn-small" on:click={
                                let id = id3.clone();
                                let fallback = plan.clone();
                                move |_| {
                                    let text = plan_edit.with_untracked(|p| p.get(&id).cloned()).unwrap_or_else(|| fallback.clone());
                                    post(ThreadAction::Plan(id.clone(), PlanAnswer { approve: true, plan: Some(text), reason: String::new() }));
                                }
                            }>"Approve and build"</button>
                            <button type="button" class="btn btn-small" on:click={
                                let id = id3.clone();
                                move |_| post(ThreadAction::Plan(id.clone(), PlanAnswer { approve: false, plan: None, reason: "rejected in the workspace".into() }))
                            }>"Reject"</button>
                        </div>
                    </div>
                }
            })}
            {t.turn.error.clone().filter(|_| t.turn.status != TurnStatus::Running).map(|e| view! { <p class="muted small">{format!("{}: {e}", t.turn.status)}</p> })}
        </div>
    }
}
