//! The messages of the shown branch: the person's (edit, regenerate, the
//! versions of an edited message), the agent's (Markdown, compact tool
//! calls that open the file or its change), each turn's card, and the live
//! turn while one runs. The list follows what streams in while it is
//! scrolled to its end.

use super::turn_card::TurnCard;
use super::{attach, in_mode, Chat, ThreadAction};
use crate::markdown;
use crate::workspace_js as js;
use autocrea_wire::agent::{EditMessage, Message, Role, TurnView};
use leptos::prelude::*;
use serde::Deserialize;
use std::collections::HashMap;

/// A tool call as stored in an assistant message's `tool_calls` JSON text.
#[derive(Clone, Debug, Deserialize, PartialEq)]
struct CallJson {
    id: String,
    name: String,
    arguments: String,
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

/// The end of `text`, at most `max` bytes: a long streamed call shows its newest part.
fn tail(text: &str, max: usize) -> String {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_string()
}

#[component]
pub(super) fn MessageList() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let Chat {
        ws,
        live,
        choice,
        mode,
        editing,
        messages,
        turns,
        ..
    } = chat;
    let post = move |a: ThreadAction| chat.post(a);

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
                                        chat.start_live();
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
                                        chat.start_live();
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
                        out.push(view! { <TurnCard turn=t/> }.into_any());
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
    }
}
