//! The Gemini API: `POST {base}/v1beta/models/{model}:generateContent`, or
//! `:streamGenerateContent?alt=sse` when streaming, with `x-goog-api-key`.
//! Roles are `user` and `model`; system text goes to `systemInstruction`;
//! tool calls are `functionCall` parts and results `functionResponse` parts.

use super::{http_client, ready, translate_sse, transport_error, upstream_error, Provider, Step};
use crate::llm::wire::{ChatRequest, FunctionCall, ImageRef, ToolCall, Usage};
use crate::llm::{ChatEvent, EventStream, LlmError};
use serde_json::{json, Map, Value};

pub struct Gemini {
    name: String,
    base_url: String,
    key: String,
    http: reqwest::Client,
}

impl Gemini {
    pub fn new(name: &str, base_url: &str, key: String) -> Self {
        Self {
            name: name.to_string(),
            base_url: base_url.trim_end_matches('/').to_string(),
            key,
            http: http_client(),
        }
    }
}

/// The `generateContent` body for an OpenAI-shaped request.
pub fn request_body(request: &ChatRequest) -> Value {
    let mut system = Vec::new();
    let mut contents: Vec<Value> = Vec::new();
    // Tool results name their function; OpenAI's name the call id.
    let mut call_names = std::collections::HashMap::new();
    for m in &request.messages {
        match m.role.as_str() {
            "system" | "developer" => system.push(json!({ "text": m.text_content() })),
            "assistant" => {
                let mut parts = Vec::new();
                let text = m.text_content();
                if !text.is_empty() {
                    parts.push(json!({ "text": text }));
                }
                for c in m.tool_calls.iter().flatten() {
                    call_names.insert(c.id.clone(), c.function.name.clone());
                    let args: Value =
                        serde_json::from_str(&c.function.arguments).unwrap_or_else(|_| json!({}));
                    parts
                        .push(json!({ "functionCall": { "name": c.function.name, "args": args } }));
                }
                contents.push(json!({ "role": "model", "parts": parts }));
            }
            "tool" | "function" => {
                let name = m
                    .name
                    .clone()
                    .or_else(|| {
                        m.tool_call_id
                            .as_ref()
                            .and_then(|id| call_names.get(id).cloned())
                    })
                    .unwrap_or_default();
                contents.push(json!({ "role": "user", "parts": [{ "functionResponse": {
                    "name": name, "response": { "content": m.text_content() } } }] }));
            }
            _ => {
                let mut parts = vec![json!({ "text": m.text_content() })];
                parts.extend(m.images().into_iter().map(|i| match i {
                    ImageRef::Inline { media_type, data } => {
                        json!({ "inlineData": { "mimeType": media_type, "data": data } })
                    }
                    // Gemini fetches only its own file URIs; the URL goes as text.
                    ImageRef::Url(url) => json!({ "text": format!("(image: {url})") }),
                }));
                contents.push(json!({ "role": "user", "parts": parts }));
            }
        }
    }
    let o = &request.options;
    let mut config = Map::new();
    if let Some(n) = o.max_tokens() {
        config.insert("maxOutputTokens".into(), json!(n));
    }
    if let Some(t) = o.temperature {
        config.insert("temperature".into(), json!(t));
    }
    if let Some(p) = o.top_p {
        config.insert("topP".into(), json!(p));
    }
    if let Some(s) = o.seed {
        config.insert("seed".into(), json!(s));
    }
    let stops = o.stops();
    if !stops.is_empty() {
        config.insert("stopSequences".into(), json!(stops));
    }
    match request
        .response_format
        .as_ref()
        .and_then(|f| f.get("type"))
        .and_then(Value::as_str)
    {
        Some("json_object") => {
            config.insert("responseMimeType".into(), json!("application/json"));
        }
        Some("json_schema") => {
            config.insert("responseMimeType".into(), json!("application/json"));
            if let Some(schema) = request
                .response_format
                .as_ref()
                .and_then(|f| f.pointer("/json_schema/schema"))
            {
                config.insert("responseJsonSchema".into(), schema.clone());
            }
        }
        _ => {}
    }
    let mut body = Map::new();
    body.insert("contents".into(), json!(contents));
    if !system.is_empty() {
        body.insert("systemInstruction".into(), json!({ "parts": system }));
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    if !request.tools.is_empty() {
        let declarations: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                let mut d = json!({ "name": t.function.name,
                    "description": t.function.description.clone().unwrap_or_default() });
                if let Some(p) = &t.function.parameters {
                    d["parameters"] = p.clone();
                }
                d
            })
            .collect();
        body.insert(
            "tools".into(),
            json!([{ "functionDeclarations": declarations }]),
        );
        let config = match &request.tool_choice {
            Some(Value::String(s)) if s == "required" => Some(json!({ "mode": "ANY" })),
            Some(Value::String(s)) if s == "none" => Some(json!({ "mode": "NONE" })),
            Some(Value::String(s)) if s == "auto" => Some(json!({ "mode": "AUTO" })),
            Some(v) => v
                .pointer("/function/name")
                .map(|n| json!({ "mode": "ANY", "allowedFunctionNames": [n] })),
            None => None,
        };
        if let Some(c) = config {
            body.insert("toolConfig".into(), json!({ "functionCallingConfig": c }));
        }
    }
    Value::Object(body)
}

/// One response (whole, or one streamed chunk) as events; `true` when it
/// carries the finish reason.
fn response_events(
    value: &Value,
    calls_seen: &mut usize,
    usage: &mut Usage,
) -> (Vec<ChatEvent>, bool) {
    let mut events = Vec::new();
    if let Some(u) = value.get("usageMetadata") {
        usage.prompt_tokens = u
            .get("promptTokenCount")
            .and_then(Value::as_u64)
            .unwrap_or(usage.prompt_tokens);
        usage.completion_tokens = u
            .get("candidatesTokenCount")
            .and_then(Value::as_u64)
            .unwrap_or(usage.completion_tokens);
    }
    let candidate = value
        .pointer("/candidates/0")
        .cloned()
        .unwrap_or(Value::Null);
    for part in candidate
        .pointer("/content/parts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(t) = part.get("text").and_then(Value::as_str) {
            if !t.is_empty() {
                events.push(ChatEvent::Text(t.to_string()));
            }
        }
        if let Some(call) = part.get("functionCall") {
            *calls_seen += 1;
            events.push(ChatEvent::ToolCall(ToolCall {
                id: format!("call_{}", autocrea_core::secrets::random_token(24)),
                kind: "function".into(),
                function: FunctionCall {
                    name: call
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    arguments: call.get("args").cloned().unwrap_or(json!({})).to_string(),
                },
            }));
        }
    }
    let finish = candidate.get("finishReason").and_then(Value::as_str);
    if let Some(f) = finish {
        let reason = match f {
            "MAX_TOKENS" => "length",
            "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" => {
                "content_filter"
            }
            _ if *calls_seen > 0 => "tool_calls",
            _ => "stop",
        };
        events.push(ChatEvent::Finish {
            reason: reason.to_string(),
            usage: *usage,
        });
    }
    (events, finish.is_some())
}

#[async_trait::async_trait]
impl Provider for Gemini {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(&self, model: &str, request: ChatRequest) -> Result<EventStream, LlmError> {
        if model.contains('/') || model.contains('?') || model.contains('#') {
            return Err(LlmError::BadRequest(format!(
                "{model:?} is not a Gemini model name"
            )));
        }
        let stream = request.options.stream;
        let url = if stream {
            format!(
                "{}/v1beta/models/{model}:streamGenerateContent?alt=sse",
                self.base_url
            )
        } else {
            format!("{}/v1beta/models/{model}:generateContent", self.base_url)
        };
        let response = self
            .http
            .post(url)
            .header("x-goog-api-key", &self.key)
            .json(&request_body(&request))
            .send()
            .await
            .map_err(|e| transport_error(&self.name, e))?;
        if !response.status().is_success() {
            return Err(upstream_error(&self.name, response).await);
        }
        let mut calls = 0;
        let mut usage = Usage::default();
        if !stream {
            let value: Value = response.json().await.map_err(|e| LlmError::Upstream {
                provider: self.name.clone(),
                status: 200,
                message: format!("the answer is not JSON: {e}"),
            })?;
            let (mut events, finished) = response_events(&value, &mut calls, &mut usage);
            if !finished {
                events.push(ChatEvent::Finish {
                    reason: "stop".into(),
                    usage,
                });
            }
            return Ok(ready(events));
        }
        let name = self.name.clone();
        Ok(translate_sse(&self.name, response, move |event| {
            let value: Value =
                serde_json::from_str(&event.data).map_err(|e| LlmError::Upstream {
                    provider: name.clone(),
                    status: 200,
                    message: format!("a streamed chunk is not JSON: {e}"),
                })?;
            if let Some(message) = value.pointer("/error/message").and_then(Value::as_str) {
                return Err(LlmError::Upstream {
                    provider: name.clone(),
                    status: 200,
                    message: message.to_string(),
                });
            }
            let (events, done) = response_events(&value, &mut calls, &mut usage);
            Ok(Step { events, done })
        }))
    }
}
