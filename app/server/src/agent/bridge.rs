//! The agent loop's model and sandbox, as the server has them.

use super::EventLog;
use crate::llm::resolve::Target;
use crate::llm::wire::{
    ChatMessage, ChatRequest, Content, ContentPart, FunctionCall, Tool, ToolCall,
};
use crate::llm::{ChatEvent, LlmError};
use crate::state::AppState;
use autocrea_core::agent::runner::{
    Call, ChatMsg, Image, Model, ModelError, Reply, SandboxTools, ToolError,
};
use autocrea_core::agent::textcalls;
use autocrea_core::agent::{budget, context};
use autocrea_core::llm::policy::ToolFormat;
use autocrea_core::llm::usage;
use autocrea_core::sandbox::{Diagnostic, SandboxError};
use futures_util::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Any provider (the local worker included) as the loop's model. Each call
/// is recorded in the usage table like a gateway call; text streams to the
/// thread's events as `token` events while it is written.
pub struct ProviderModel {
    pub target: Target,
    pub state: AppState,
    pub user_id: i64,
    pub project_id: String,
    pub log: Arc<EventLog>,
    pub turn_id: String,
    calls: usize,
    /// Time spent waiting for the model, over the turn.
    pub model_ms: u64,
    /// Tokens of calls cut off by Stop (estimated): the runner never saw
    /// their answer, but the model did the work, so the turn is charged.
    pub cancelled_tokens: Arc<AtomicU64>,
}

impl ProviderModel {
    pub fn new(
        target: Target,
        state: AppState,
        user_id: i64,
        project_id: String,
        log: Arc<EventLog>,
        turn_id: String,
    ) -> Self {
        Self {
            target,
            state,
            user_id,
            project_id,
            log,
            turn_id,
            calls: 0,
            model_ms: 0,
            cancelled_tokens: Arc::default(),
        }
    }

    /// Tools go in the system prompt instead of the API's tool list.
    pub fn text_tools(&self) -> bool {
        self.target.tools == ToolFormat::Text
    }
}

impl Model for ProviderModel {
    async fn reply(
        &mut self,
        messages: &[ChatMsg],
        tools: &[serde_json::Value],
        max_tokens: usize,
    ) -> Result<Reply, ModelError> {
        self.calls += 1;
        let native = !self.text_tools() && !tools.is_empty();
        // The local worker constrains its output to a tool call with
        // "required": a small model then always writes a call that parses
        // (and ends its part with `finish`).
        let choice = if self.target.provider_id == "local" {
            "required"
        } else {
            "auto"
        };
        let request = ChatRequest {
            model: None,
            messages: messages.iter().map(|m| to_wire(m, native)).collect(),
            // What the context leaves after this prompt (`budget::Budget::answer`).
            // Streamed, so text and calls reach the turn's card while they are written.
            options: crate::llm::wire::Options {
                max_tokens: Some(max_tokens as u32),
                stream: true,
                ..Default::default()
            },
            tools: if native {
                tools
                    .iter()
                    .filter_map(|t| serde_json::from_value::<Tool>(t.clone()).ok())
                    .collect()
            } else {
                Vec::new()
            },
            tool_choice: native.then(|| serde_json::json!(choice)),
            response_format: None,
        };
        let started = Instant::now();
        let prompt_estimate = (context::total(messages) + budget::tools_tokens(tools)) as u64;
        let streamed = Arc::new(AtomicU64::new(0));
        // Until the answer is complete, a drop (Stop) records the call as cancelled.
        let mut in_flight = InFlight {
            record: Some(self.usage_record(prompt_estimate, 0, 0, "cancelled")),
            pool: self.state.pool.clone(),
            streamed_bytes: streamed.clone(),
            cancelled_tokens: self.cancelled_tokens.clone(),
            started,
        };
        let (log, turn) = (self.log.clone(), self.turn_id.clone());
        // Text and the pieces of a call being written both stream to the turn's card.
        let on_text = move |t: &str, tool: Option<&str>| {
            streamed.fetch_add(t.len() as u64, Ordering::Relaxed);
            log.push(
                "token",
                serde_json::json!({"turn": turn, "text": t, "tool": tool}),
            );
        };
        let mut result = collect(
            self.target.adapter.chat(&self.target.model, request).await,
            on_text,
        )
        .await;
        in_flight.record = None;
        self.model_ms += started.elapsed().as_millis() as u64;
        if let (Ok(reply), false) = (&mut result, native) {
            if !tools.is_empty() {
                let parsed = textcalls::parse(&reply.text, &format!("c{}-", self.calls));
                reply.text = parsed.text;
                reply.calls = parsed.calls;
                reply.format_errors.extend(parsed.errors);
            }
        }
        if let Ok(r) = &mut result {
            if r.prompt_tokens == 0 && r.completion_tokens == 0 {
                // A server that streams without the usage chunk: estimated, not free.
                r.prompt_tokens = prompt_estimate;
                r.completion_tokens = (context::estimate(&r.text)
                    + r.calls
                        .iter()
                        .map(|c| context::estimate(&c.arguments))
                        .sum::<usize>()) as u64;
            }
        }
        let (prompt_tokens, completion_tokens, outcome) = match &result {
            Ok(r) => (r.prompt_tokens, r.completion_tokens, "finished"),
            Err(_) => (0, 0, "failed"),
        };
        let record = self.usage_record(
            prompt_tokens,
            completion_tokens,
            started.elapsed().as_millis() as u64,
            outcome,
        );
        if let Err(e) = usage::record(&self.state.pool, &record).await {
            tracing::error!(error = %e, "could not record model usage");
        }
        result
    }
}

impl ProviderModel {
    fn usage_record(
        &self,
        prompt_tokens: u64,
        completion_tokens: u64,
        duration_ms: u64,
        outcome: &'static str,
    ) -> usage::UsageRecord {
        usage::UsageRecord {
            user_id: self.user_id,
            project_id: Some(self.project_id.clone()),
            provider: self.target.provider_id.clone(),
            model: self.target.public_name.clone(),
            endpoint: "agent",
            prompt_tokens,
            completion_tokens,
            duration_ms,
            outcome,
        }
    }
}

/// A model call under way. Dropped before its end (Stop drops the call's
/// future), it records the call as cancelled with estimated tokens (what
/// was sent, and what streamed back by then) and adds them to the turn's
/// charge.
struct InFlight {
    record: Option<usage::UsageRecord>,
    pool: sqlx::SqlitePool,
    streamed_bytes: Arc<AtomicU64>,
    cancelled_tokens: Arc<AtomicU64>,
    started: Instant,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let Some(mut record) = self.record.take() else {
            return;
        };
        record.completion_tokens = self.streamed_bytes.load(Ordering::Relaxed).div_ceil(3);
        record.duration_ms = self.started.elapsed().as_millis() as u64;
        self.cancelled_tokens.fetch_add(
            record.prompt_tokens + record.completion_tokens,
            Ordering::Relaxed,
        );
        let pool = self.pool.clone();
        tokio::spawn(async move {
            if let Err(e) = usage::record(&pool, &record).await {
                tracing::error!(error = %e, "could not record a cancelled model call");
            }
        });
    }
}

async fn collect(
    events: Result<crate::llm::EventStream, crate::llm::LlmError>,
    on_text: impl Fn(&str, Option<&str>),
) -> Result<Reply, ModelError> {
    let mut events = events.map_err(model_error)?;
    let mut reply = Reply::default();
    let mut cut = false;
    // The name of the call being streamed, for its pieces.
    let mut writing: Option<String> = None;
    while let Some(event) = events.next().await {
        match event.map_err(|e| ModelError::Broken(e.to_string()))? {
            ChatEvent::Text(t) => {
                on_text(&t, None);
                reply.text.push_str(&t);
            }
            ChatEvent::ToolCallDelta {
                name, arguments, ..
            } => {
                if name.is_some() {
                    writing = name;
                }
                if !arguments.is_empty() {
                    on_text(&arguments, writing.as_deref());
                }
            }
            ChatEvent::ToolCall(c) => reply.calls.push(Call {
                id: c.id,
                name: c.function.name,
                arguments: c.function.arguments,
            }),
            ChatEvent::Finish { usage, reason } => {
                reply.prompt_tokens = usage.prompt_tokens;
                reply.completion_tokens = usage.completion_tokens;
                cut = reason == "length";
            }
        }
    }
    if cut {
        // A call cut off by max_tokens (streamed in pieces, so it arrived
        // half-written) is no call.
        reply
            .calls
            .retain(|c| serde_json::from_str::<serde_json::Value>(&c.arguments).is_ok());
    }
    if cut && reply.calls.is_empty() {
        // The answer ran into max_tokens: a call cut off there (a
        // constrained local model writes calls as text until they close) is
        // not an answer; the model is asked for a shorter one.
        reply.format_errors.push(format!("your answer was cut off after {} tokens, the most one answer may have; make one smaller call", reply.completion_tokens));
    }
    Ok(reply)
}

/// What the agent makes of a gateway error: worth another try later, or not.
fn model_error(e: LlmError) -> ModelError {
    let message = e.to_string();
    match e {
        LlmError::Busy { .. } | LlmError::Unavailable(_) => ModelError::Unavailable(message),
        LlmError::Upstream { status, .. } if status >= 500 || status == 429 => {
            ModelError::Unavailable(message)
        }
        LlmError::BadRequest(_)
        | LlmError::ModelNotFound(_)
        | LlmError::NoKey { .. }
        | LlmError::Upstream { .. } => ModelError::Refused(message),
        LlmError::Internal(_) => ModelError::Broken(message),
    }
}

/// What the agent makes of a sandbox error.
fn tool_error(e: SandboxError) -> ToolError {
    match e {
        SandboxError::CommandRefused(m) => ToolError::Refused(m),
        other => ToolError::Sandbox(other.to_string()),
    }
}

/// A message in OpenAI's shape. Without native tools, calls and results
/// are written as the text format the model was asked for.
fn to_wire(m: &ChatMsg, native: bool) -> ChatMessage {
    if !native {
        let mut content = m.content.clone();
        for c in &m.tool_calls {
            content.push_str(&format!(
                "\n<tool_call>\n{{\"name\": {}, \"arguments\": {}}}\n</tool_call>",
                serde_json::json!(c.name),
                c.arguments
            ));
        }
        let (role, content) = match m.role {
            "tool" => (
                "user".to_string(),
                format!(
                    "Result of tool call {}:\n{}",
                    m.tool_call_id.as_deref().unwrap_or(""),
                    content
                ),
            ),
            r => (r.to_string(), content),
        };
        return ChatMessage {
            role,
            content: Some(with_images(content, &m.images)),
            tool_calls: None,
            tool_call_id: None,
            name: None,
        };
    }
    ChatMessage {
        role: m.role.to_string(),
        content: Some(with_images(m.content.clone(), &m.images)),
        tool_calls: (!m.tool_calls.is_empty()).then(|| {
            m.tool_calls
                .iter()
                .map(|c| ToolCall {
                    id: c.id.clone(),
                    kind: "function".into(),
                    function: FunctionCall {
                        name: c.name.clone(),
                        arguments: c.arguments.clone(),
                    },
                })
                .collect()
        }),
        tool_call_id: m.tool_call_id.clone(),
        name: None,
    }
}

/// Text alone, or text and images as OpenAI's content parts (data URLs;
/// the Anthropic and Gemini adapters turn them into their own blocks).
fn with_images(text: String, images: &[Image]) -> Content {
    if images.is_empty() {
        return Content::Text(text);
    }
    let mut parts = vec![ContentPart {
        kind: "text".into(),
        text: Some(text),
        image_url: None,
    }];
    parts.extend(images.iter().map(|i| ContentPart {
        kind: "image_url".into(),
        text: None,
        image_url: Some(
            serde_json::json!({ "url": format!("data:{};base64,{}", i.media_type, i.base64) }),
        ),
    }));
    Content::Parts(parts)
}

/// The project's sandbox for `send_terminal_command` (under the exec
/// policy) and `check_for_errors`.
pub struct SandboxBridge {
    pub state: AppState,
    pub project_id: String,
    pub template: String,
}

impl SandboxTools for SandboxBridge {
    async fn exec(&self, command: &str, timeout_secs: Option<u64>) -> Result<String, ToolError> {
        let r = self
            .state
            .sandboxes
            .exec(&self.project_id, &self.template, command, timeout_secs)
            .await
            .map_err(tool_error)?;
        let status = match (r.exit_code, r.timed_out) {
            (_, true) => "timed out".to_string(),
            (Some(c), _) => format!("exit code {c}"),
            (None, _) => "no exit code".to_string(),
        };
        Ok(format!(
            "{status}{}\n{}",
            if r.truncated { " (output cut)" } else { "" },
            r.output
        ))
    }

    async fn check(&self) -> Result<Vec<Diagnostic>, ToolError> {
        match self
            .state
            .sandboxes
            .check_for_errors(&self.project_id, &self.template)
            .await
        {
            // Without sandboxes nothing can be checked: a warning the model
            // and the user see, not a failed turn.
            Err(SandboxError::Disabled) => Ok(vec![Diagnostic {
                file: None,
                line: None,
                column: None,
                severity: "warning".into(),
                message: "not checked: sandboxes are turned off on this appliance".into(),
                source: "autocrea".into(),
            }]),
            other => other.map_err(tool_error),
        }
    }
}
