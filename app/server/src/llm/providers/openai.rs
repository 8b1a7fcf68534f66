//! Any OpenAI-compatible endpoint: `POST {base}/chat/completions` and
//! `POST {base}/completions` with a bearer key; streamed answers ask for the
//! usage chunk (`stream_options.include_usage`).

use super::{http_client, ready, translate_sse, transport_error, upstream_error, Provider, Step};
use crate::llm::wire::{ChatRequest, CompletionRequest, FunctionCall, ToolCall, Usage};
use crate::llm::{ChatEvent, EventStream, LlmError};
use serde_json::{json, Value};

pub struct OpenAiCompatible {
    name: String,
    base_url: String,
    key: Option<String>,
    http: reqwest::Client,
}

impl OpenAiCompatible {
    pub fn new(name: &str, base_url: &str, key: Option<String>) -> Self {
        Self {
            name: name.to_string(),
            base_url: base_url.trim_end_matches('/').to_string(),
            key,
            http: http_client(),
        }
    }

    async fn post(&self, path: &str, body: &Value) -> Result<reqwest::Response, LlmError> {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .json(body);
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(&self.name, e))?;
        if !response.status().is_success() {
            return Err(upstream_error(&self.name, response).await);
        }
        Ok(response)
    }

    async fn call(
        &self,
        path: &str,
        mut body: Value,
        stream: bool,
        chat: bool,
    ) -> Result<EventStream, LlmError> {
        if stream {
            body["stream_options"] = json!({ "include_usage": true });
        }
        let response = self.post(path, &body).await?;
        // Some OpenAI-compatible servers (and proxies in front of them)
        // answer a streamed request with one JSON body: read it whole.
        let json_body = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/json"));
        if stream && !json_body {
            let mut answer = Answer::default();
            let name = self.name.clone();
            return Ok(translate_sse(&self.name, response, move |event| {
                answer.chunk(&name, &event.data, chat)
            }));
        }
        let value: Value = response.json().await.map_err(|e| LlmError::Upstream {
            provider: self.name.clone(),
            status: 200,
            message: format!("the answer is not JSON: {e}"),
        })?;
        Ok(ready(whole_answer(&value, chat)))
    }
}

#[async_trait::async_trait]
impl Provider for OpenAiCompatible {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(&self, model: &str, mut request: ChatRequest) -> Result<EventStream, LlmError> {
        request.model = Some(model.to_string());
        let stream = request.options.stream;
        request.options.stream_options = None;
        let body = serde_json::to_value(&request).map_err(|e| LlmError::Internal(e.to_string()))?;
        self.call("/chat/completions", body, stream, true).await
    }

    async fn complete(
        &self,
        model: &str,
        mut request: CompletionRequest,
    ) -> Result<EventStream, LlmError> {
        request.model = Some(model.to_string());
        let stream = request.options.stream;
        request.options.stream_options = None;
        let body = serde_json::to_value(&request).map_err(|e| LlmError::Internal(e.to_string()))?;
        self.call("/completions", body, stream, false).await
    }
}

fn usage_of(value: &Value) -> Option<Usage> {
    let u = value.get("usage")?;
    Some(Usage {
        prompt_tokens: u.get("prompt_tokens")?.as_u64()?,
        completion_tokens: u
            .get("completion_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0),
    })
}

fn whole_answer(value: &Value, chat: bool) -> Vec<ChatEvent> {
    let choice = value.pointer("/choices/0").cloned().unwrap_or(Value::Null);
    let mut events = Vec::new();
    let text = if chat {
        choice.pointer("/message/content")
    } else {
        choice.get("text")
    };
    if let Some(t) = text.and_then(Value::as_str).filter(|t| !t.is_empty()) {
        events.push(ChatEvent::Text(t.to_string()));
    }
    if let Some(calls) = choice
        .pointer("/message/tool_calls")
        .and_then(Value::as_array)
    {
        for c in calls {
            if let Ok(call) = serde_json::from_value::<ToolCall>(c.clone()) {
                events.push(ChatEvent::ToolCall(call));
            }
        }
    }
    events.push(ChatEvent::Finish {
        reason: choice
            .get("finish_reason")
            .and_then(Value::as_str)
            .unwrap_or("stop")
            .to_string(),
        usage: usage_of(value).unwrap_or_default(),
    });
    events
}

/// A streamed answer being put together: tool calls arrive in pieces
/// (by index), usage comes in its own last chunk.
#[derive(Default)]
struct Answer {
    calls: Vec<ToolCall>,
    reason: Option<String>,
    usage: Usage,
}

impl Answer {
    fn chunk(&mut self, provider: &str, data: &str, chat: bool) -> Result<Step, LlmError> {
        if data.trim() == "[DONE]" {
            let mut events: Vec<ChatEvent> =
                self.calls.drain(..).map(ChatEvent::ToolCall).collect();
            events.push(ChatEvent::Finish {
                reason: self.reason.take().unwrap_or_else(|| "stop".into()),
                usage: self.usage,
            });
            return Ok(Step { events, done: true });
        }
        let value: Value = serde_json::from_str(data).map_err(|e| LlmError::Upstream {
            provider: provider.to_string(),
            status: 200,
            message: format!("a streamed chunk is not JSON: {e}"),
        })?;
        if let Some(message) = value.pointer("/error/message").and_then(Value::as_str) {
            return Err(LlmError::Upstream {
                provider: provider.to_string(),
                status: 200,
                message: message.to_string(),
            });
        }
        if let Some(u) = usage_of(&value) {
            self.usage = u;
        }
        let mut events = Vec::new();
        let Some(choice) = value.pointer("/choices/0") else {
            return Ok(Step {
                events,
                done: false,
            });
        };
        let text = if chat {
            choice.pointer("/delta/content")
        } else {
            choice.get("text")
        };
        if let Some(t) = text.and_then(Value::as_str).filter(|t| !t.is_empty()) {
            events.push(ChatEvent::Text(t.to_string()));
        }
        for piece in choice
            .pointer("/delta/tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let index = piece.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
            while self.calls.len() <= index {
                self.calls.push(ToolCall {
                    id: String::new(),
                    kind: "function".into(),
                    function: FunctionCall {
                        name: String::new(),
                        arguments: String::new(),
                    },
                });
            }
            let call = &mut self.calls[index];
            let id = piece.get("id").and_then(Value::as_str);
            if let Some(id) = id {
                call.id = id.to_string();
            }
            let name = piece.pointer("/function/name").and_then(Value::as_str);
            if let Some(name) = name {
                call.function.name.push_str(name);
            }
            let args = piece
                .pointer("/function/arguments")
                .and_then(Value::as_str)
                .unwrap_or("");
            call.function.arguments.push_str(args);
            // The piece as progress; the whole call goes out at the end.
            events.push(ChatEvent::ToolCallDelta {
                index,
                id: id.map(str::to_string),
                name: name.map(str::to_string),
                arguments: args.to_string(),
            });
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.reason = Some(reason.to_string());
        }
        Ok(Step {
            events,
            done: false,
        })
    }
}
