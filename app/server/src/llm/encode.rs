//! A provider's events as OpenAI answers: one JSON body, or server-sent
//! events ending with `data: [DONE]`.

use super::wire::{sse, Usage, SSE_DONE};
use super::{ChatEvent, EventStream, LlmError};
use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::{json, Value};

/// Chat (`chat.completion`) or raw text (`text_completion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Chat,
    Text,
}

/// What every chunk of one answer repeats.
#[derive(Debug, Clone)]
pub struct Meta {
    pub id: String,
    pub model: String,
    pub created: i64,
    pub shape: Shape,
}

impl Meta {
    pub fn new(shape: Shape, model: &str) -> Self {
        let prefix = match shape {
            Shape::Chat => "chatcmpl",
            Shape::Text => "cmpl",
        };
        Self {
            id: format!("{prefix}-{}", autocrea_core::secrets::random_token(24)),
            model: model.to_string(),
            created: autocrea_core::clock::now(),
            shape,
        }
    }

    fn object(&self, chunk: bool) -> &'static str {
        match (self.shape, chunk) {
            (Shape::Chat, false) => "chat.completion",
            (Shape::Chat, true) => "chat.completion.chunk",
            (Shape::Text, _) => "text_completion",
        }
    }

    fn chunk(&self, choice: Value) -> Value {
        json!({ "id": self.id, "object": self.object(true), "created": self.created,
                "model": self.model, "choices": [choice] })
    }
}

/// How an answer ended, for usage records.
#[derive(Debug, Clone)]
pub enum Outcome {
    Finished {
        reason: String,
        usage: Usage,
    },
    Failed(String),
    /// The client went away before the end.
    Cancelled,
}

/// Collects the whole answer into one body.
pub async fn whole(meta: &Meta, mut events: EventStream) -> Result<(Value, Usage), LlmError> {
    let mut text = String::new();
    let mut calls = Vec::new();
    while let Some(event) = events.next().await {
        match event? {
            ChatEvent::Text(t) => text.push_str(&t),
            ChatEvent::ToolCallDelta { .. } => {}
            ChatEvent::ToolCall(c) => calls.push(c),
            ChatEvent::Finish { reason, usage } => {
                let choice = match meta.shape {
                    Shape::Chat => {
                        let mut message = json!({ "role": "assistant",
                            "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { json!(text) } });
                        if !calls.is_empty() {
                            message["tool_calls"] = json!(calls);
                        }
                        json!({ "index": 0, "message": message, "logprobs": null, "finish_reason": reason })
                    }
                    Shape::Text => {
                        json!({ "index": 0, "text": text, "logprobs": null, "finish_reason": reason })
                    }
                };
                let body = json!({ "id": meta.id, "object": meta.object(false), "created": meta.created,
                    "model": meta.model, "choices": [choice], "usage": usage.to_json() });
                return Ok((body, usage));
            }
        }
    }
    Err(LlmError::Unavailable(
        "the model stopped answering before the end".into(),
    ))
}

/// Calls its function once, with the outcome, even when the stream is
/// dropped half-way (the client disconnected).
struct OnEnd {
    f: Option<Box<dyn FnOnce(Outcome) + Send>>,
}
impl OnEnd {
    fn fire(&mut self, outcome: Outcome) {
        if let Some(f) = self.f.take() {
            f(outcome);
        }
    }
}
impl Drop for OnEnd {
    fn drop(&mut self) {
        self.fire(Outcome::Cancelled);
    }
}

/// Streams the answer as server-sent events.
pub fn streamed(
    meta: Meta,
    events: EventStream,
    on_end: impl FnOnce(Outcome) + Send + 'static,
) -> Response {
    let guard = OnEnd {
        f: Some(Box::new(on_end)),
    };
    let mut opening = Vec::new();
    if meta.shape == Shape::Chat {
        opening.push(sse(&meta.chunk(
            json!({ "index": 0, "delta": { "role": "assistant", "content": "" }, "logprobs": null, "finish_reason": null }),
        )));
    }
    // `calls`: whole calls seen; `begun`: calls already streamed in pieces
    // (their whole form that follows is not sent again).
    let state = (events, guard, meta, (0usize, 0usize), false);
    let body = futures_util::stream::iter(opening.into_iter().map(Ok::<_, std::io::Error>)).chain(
        futures_util::stream::unfold(state, |(mut events, mut guard, meta, (mut calls, mut begun), done)| async move {
            if done {
                return None;
            }
            let (bytes, done) = match events.next().await {
                Some(Ok(ChatEvent::Text(t))) => {
                    let choice = match meta.shape {
                        Shape::Chat => {
                            json!({ "index": 0, "delta": { "content": t }, "logprobs": null, "finish_reason": null })
                        }
                        Shape::Text => {
                            json!({ "index": 0, "text": t, "logprobs": null, "finish_reason": null })
                        }
                    };
                    (sse(&meta.chunk(choice)), false)
                }
                Some(Ok(ChatEvent::ToolCallDelta { index, id, name, arguments })) => {
                    let mut piece = json!({ "index": index, "function": { "arguments": arguments } });
                    if let Some(id) = id {
                        piece["id"] = json!(id);
                        piece["type"] = json!("function");
                    }
                    if let Some(name) = name {
                        piece["function"]["name"] = json!(name);
                    }
                    begun = begun.max(index + 1);
                    let chunk = json!({ "index": 0, "delta": { "tool_calls": [piece] }, "logprobs": null, "finish_reason": null });
                    (sse(&meta.chunk(chunk)), false)
                }
                Some(Ok(ChatEvent::ToolCall(_))) if calls < begun => {
                    calls += 1;
                    (bytes::Bytes::new(), false)
                }
                Some(Ok(ChatEvent::ToolCall(c))) => {
                    let delta = json!({ "tool_calls": [{ "index": calls, "id": c.id, "type": "function",
                        "function": { "name": c.function.name, "arguments": c.function.arguments } }] });
                    calls += 1;
                    (
                        sse(&meta.chunk(
                            json!({ "index": 0, "delta": delta, "logprobs": null, "finish_reason": null }),
                        )),
                        false,
                    )
                }
                Some(Ok(ChatEvent::Finish { reason, usage })) => {
                    let choice = match meta.shape {
                        Shape::Chat => {
                            json!({ "index": 0, "delta": {}, "logprobs": null, "finish_reason": reason })
                        }
                        Shape::Text => {
                            json!({ "index": 0, "text": "", "logprobs": null, "finish_reason": reason })
                        }
                    };
                    let mut last = meta.chunk(choice);
                    last["usage"] = usage.to_json();
                    guard.fire(Outcome::Finished { reason, usage });
                    let mut out = sse(&last).to_vec();
                    out.extend_from_slice(SSE_DONE);
                    (bytes::Bytes::from(out), true)
                }
                Some(Err(e)) => {
                    guard.fire(Outcome::Failed(e.to_string()));
                    (sse(&e.body()), true)
                }
                None => {
                    let e = LlmError::Unavailable(
                        "the model stopped answering before the end".into(),
                    );
                    guard.fire(Outcome::Failed(e.to_string()));
                    (sse(&e.body()), true)
                }
            };
            Some((Ok(bytes), (events, guard, meta, (calls, begun), done)))
        }),
    );
    let mut response = Response::new(Body::from_stream(body));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}
