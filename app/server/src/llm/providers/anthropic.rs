//! The Anthropic Messages API: `POST {base}/v1/messages` with `x-api-key`
//! and `anthropic-version`; system text apart from the messages, tool calls
//! as `tool_use` blocks and their results as `tool_result` blocks.

use super::{http_client, ready, translate_sse, transport_error, upstream_error, Provider, Step};
use crate::llm::wire::{ChatRequest, FunctionCall, ImageRef, ToolCall, Usage};
use crate::llm::{ChatEvent, EventStream, LlmError};
use serde_json::{json, Map, Value};

pub const API_VERSION: &str = "2023-06-01";
/// Anthropic requires `max_tokens`; used when the caller gave none.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

pub struct Anthropic {
    name: String,
    base_url: String,
    key: String,
    http: reqwest::Client,
}

impl Anthropic {
    pub fn new(name: &str, base_url: &str, key: String) -> Self {
        Self {
            name: name.to_string(),
            base_url: base_url.trim_end_matches('/').to_string(),
            key,
            http: http_client(),
        }
    }
}

/// The Messages API body for an OpenAI-shaped request.
pub fn request_body(model: &str, request: &ChatRequest) -> Value {
    let mut system = Vec::new();
    let mut messages: Vec<Value> = Vec::new();
    for m in &request.messages {
        match m.role.as_str() {
            "system" | "developer" => system.push(m.text_content()),
            "assistant" => {
                let text = m.text_content();
                match &m.tool_calls {
                    Some(calls) if !calls.is_empty() => {
                        let mut blocks = Vec::new();
                        if !text.is_empty() {
                            blocks.push(json!({ "type": "text", "text": text }));
                        }
                        for c in calls {
                            let input: Value = serde_json::from_str(&c.function.arguments)
                                .unwrap_or_else(|_| json!({}));
                            blocks.push(json!({ "type": "tool_use", "id": c.id, "name": c.function.name, "input": input }));
                        }
                        messages.push(json!({ "role": "assistant", "content": blocks }));
                    }
                    _ => messages.push(json!({ "role": "assistant", "content": text })),
                }
            }
            "tool" | "function" => messages.push(json!({ "role": "user", "content": [{
                "type": "tool_result",
                "tool_use_id": m.tool_call_id.clone().unwrap_or_default(),
                "content": m.text_content(),
            }] })),
            _ => {
                let images = m.images();
                if images.is_empty() {
                    messages.push(json!({ "role": "user", "content": m.text_content() }));
                } else {
                    let mut blocks = vec![json!({ "type": "text", "text": m.text_content() })];
                    blocks.extend(images.into_iter().map(|i| match i {
                        ImageRef::Inline { media_type, data } => json!({ "type": "image", "source": { "type": "base64", "media_type": media_type, "data": data } }),
                        ImageRef::Url(url) => json!({ "type": "image", "source": { "type": "url", "url": url } }),
                    }));
                    messages.push(json!({ "role": "user", "content": blocks }));
                }
            }
        }
    }
    let o = &request.options;
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert(
        "max_tokens".into(),
        json!(o.max_tokens().unwrap_or(DEFAULT_MAX_TOKENS)),
    );
    if !system.is_empty() {
        body.insert("system".into(), json!(system.join("\n\n")));
    }
    body.insert("messages".into(), json!(messages));
    if let Some(t) = o.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = o.top_p {
        body.insert("top_p".into(), json!(p));
    }
    let stops = o.stops();
    if !stops.is_empty() {
        body.insert("stop_sequences".into(), json!(stops));
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                json!({ "name": t.function.name,
                        "description": t.function.description.clone().unwrap_or_default(),
                        "input_schema": t.function.parameters.clone().unwrap_or(json!({ "type": "object" })) })
            })
            .collect();
        body.insert("tools".into(), json!(tools));
        let choice = match &request.tool_choice {
            Some(Value::String(s)) if s == "required" => Some(json!({ "type": "any" })),
            Some(Value::String(s)) if s == "none" => Some(json!({ "type": "none" })),
            Some(Value::String(s)) if s == "auto" => Some(json!({ "type": "auto" })),
            Some(v) => v
                .pointer("/function/name")
                .map(|n| json!({ "type": "tool", "name": n })),
            None => None,
        };
        if let Some(c) = choice {
            body.insert("tool_choice".into(), c);
        }
    }
    if o.stream {
        body.insert("stream".into(), json!(true));
    }
    Value::Object(body)
}

/// Anthropic's stop reasons in OpenAI's words.
fn finish_reason(stop_reason: Option<&str>) -> String {
    match stop_reason {
        Some("max_tokens") => "length",
        Some("tool_use") => "tool_calls",
        Some("refusal") => "content_filter",
        _ => "stop",
    }
    .to_string()
}

fn tool_call(id: &str, name: &str, arguments: String) -> ChatEvent {
    ChatEvent::ToolCall(ToolCall {
        id: id.to_string(),
        kind: "function".into(),
        function: FunctionCall {
            name: name.to_string(),
            arguments,
        },
    })
}

#[async_trait::async_trait]
impl Provider for Anthropic {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(&self, model: &str, request: ChatRequest) -> Result<EventStream, LlmError> {
        let body = request_body(model, &request);
        let response = self
            .http
            .post(format!("{}/v1/messages", self.base_url))
            .header("x-api-key", &self.key)
            .header("anthropic-version", API_VERSION)
            .json(&body)
            .send()
            .await
            .map_err(|e| transport_error(&self.name, e))?;
        if !response.status().is_success() {
            return Err(upstream_error(&self.name, response).await);
        }
        if !request.options.stream {
            let value: Value = response.json().await.map_err(|e| LlmError::Upstream {
                provider: self.name.clone(),
                status: 200,
                message: format!("the answer is not JSON: {e}"),
            })?;
            let mut events = Vec::new();
            for block in value
                .get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                match block.get("type").and_then(Value::as_str) {
                    Some("text") => events.push(ChatEvent::Text(
                        block
                            .get("text")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                    )),
                    Some("tool_use") => events.push(tool_call(
                        block.get("id").and_then(Value::as_str).unwrap_or(""),
                        block.get("name").and_then(Value::as_str).unwrap_or(""),
                        block.get("input").cloned().unwrap_or(json!({})).to_string(),
                    )),
                    _ => {}
                }
            }
            events.push(ChatEvent::Finish {
                reason: finish_reason(value.get("stop_reason").and_then(Value::as_str)),
                usage: Usage {
                    prompt_tokens: value
                        .pointer("/usage/input_tokens")
                        .and_then(Value::as_u64)
                        .unwrap_or(0),
                    completion_tokens: value
                        .pointer("/usage/output_tokens")
                        .and_then(Value::as_u64)
                        .unwrap_or(0),
                },
            });
            return Ok(ready(events));
        }
        let name = self.name.clone();
        let mut usage = Usage::default();
        let mut reason = None;
        // Open tool_use blocks by index: (id, name, partial JSON).
        let mut open: std::collections::BTreeMap<u64, (String, String, String)> =
            Default::default();
        Ok(translate_sse(&self.name, response, move |event| {
            let data: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
            let mut step = Step::default();
            match data
                .get("type")
                .and_then(Value::as_str)
                .or(event.event.as_deref())
            {
                Some("message_start") => {
                    usage.prompt_tokens = data
                        .pointer("/message/usage/input_tokens")
                        .and_then(Value::as_u64)
                        .unwrap_or(0);
                }
                Some("content_block_start") => {
                    let index = data.get("index").and_then(Value::as_u64).unwrap_or(0);
                    let block = data.get("content_block").cloned().unwrap_or(Value::Null);
                    if block.get("type").and_then(Value::as_str) == Some("tool_use") {
                        open.insert(
                            index,
                            (
                                block
                                    .get("id")
                                    .and_then(Value::as_str)
                                    .unwrap_or("")
                                    .to_string(),
                                block
                                    .get("name")
                                    .and_then(Value::as_str)
                                    .unwrap_or("")
                                    .to_string(),
                                String::new(),
                            ),
                        );
                    }
                }
                Some("content_block_delta") => {
                    let index = data.get("index").and_then(Value::as_u64).unwrap_or(0);
                    match data.pointer("/delta/type").and_then(Value::as_str) {
                        Some("text_delta") => {
                            if let Some(t) = data.pointer("/delta/text").and_then(Value::as_str) {
                                step.events.push(ChatEvent::Text(t.to_string()));
                            }
                        }
                        Some("input_json_delta") => {
                            if let (Some(call), Some(part)) = (
                                open.get_mut(&index),
                                data.pointer("/delta/partial_json").and_then(Value::as_str),
                            ) {
                                call.2.push_str(part);
                            }
                        }
                        _ => {}
                    }
                }
                Some("content_block_stop") => {
                    let index = data.get("index").and_then(Value::as_u64).unwrap_or(0);
                    if let Some((id, name, args)) = open.remove(&index) {
                        let args = if args.trim().is_empty() {
                            "{}".to_string()
                        } else {
                            args
                        };
                        step.events.push(tool_call(&id, &name, args));
                    }
                }
                Some("message_delta") => {
                    if let Some(r) = data.pointer("/delta/stop_reason").and_then(Value::as_str) {
                        reason = Some(r.to_string());
                    }
                    if let Some(n) = data.pointer("/usage/output_tokens").and_then(Value::as_u64) {
                        usage.completion_tokens = n;
                    }
                }
                Some("message_stop") => {
                    step.events.push(ChatEvent::Finish {
                        reason: finish_reason(reason.as_deref()),
                        usage,
                    });
                    step.done = true;
                }
                Some("error") => {
                    return Err(LlmError::Upstream {
                        provider: name.clone(),
                        status: 200,
                        message: data
                            .pointer("/error/message")
                            .and_then(Value::as_str)
                            .unwrap_or("error event")
                            .to_string(),
                    })
                }
                _ => {} // ping and future event types
            }
            Ok(step)
        }))
    }
}
