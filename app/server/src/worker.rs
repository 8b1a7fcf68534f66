//! `autocrea llm-worker`: one model behind the OpenAI chat-completions and
//! completions protocol on loopback. The server starts it as a child process
//! (see `llm::supervisor`), so a llama.cpp abort can never take the web
//! server down.
//!
//! Requests go to the continuous-batching scheduler: up to `slots` decode
//! together, more wait in a bounded queue (beyond it, 429 with Retry-After),
//! and a client that disconnects leaves its slot at the next step.
//! `tools` / `tool_choice` and `response_format` constrain decoding with a
//! grammar built from their JSON schemas.

use crate::llm::call_stream::{CallStream, Piece};
use crate::llm::encode::{self, Meta, Shape};
use crate::llm::wire::{ChatRequest, CompletionRequest, FunctionCall, Options, ToolCall, Usage};
use crate::llm::{ChatEvent, EventStream, LlmError};
use autocrea_inference::structured::{self, ToolChoice, ToolSpec};
use autocrea_inference::{
    Engine, Event, Job, LoadOptions, Manifest, ModelError, Sampling, Scheduler, SchedulerOptions,
    SubmitError,
};
use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc;

pub struct WorkerOptions {
    pub manifest: PathBuf,
    pub model: Option<String>,
    pub listen: SocketAddr,
    pub threads: i32,
    pub queue: usize,
    pub slots: usize,
    pub context: u32,
    /// AUTOCREA's output head for CPU models (see `Engine::load_with`).
    pub output_head: bool,
}

struct Worker {
    scheduler: Scheduler,
}

impl Worker {
    fn engine(&self) -> &Engine {
        self.scheduler.engine()
    }
}

pub async fn run(opts: WorkerOptions) -> anyhow::Result<()> {
    let manifest = Manifest::load(&opts.manifest)?;
    let spec = match &opts.model {
        Some(id) => manifest
            .get(id)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("model {id} is not in {}", opts.manifest.display()))?,
        None => manifest.default_model().clone(),
    };
    let sched_opts = SchedulerOptions {
        slots: opts.slots,
        threads: opts.threads,
        queue: opts.queue,
        context: opts.context,
        ..Default::default()
    };
    let scheduler = tokio::task::spawn_blocking(move || {
        let engine = Arc::new(Engine::load_with(
            &manifest,
            &spec,
            LoadOptions {
                output_head: opts.output_head,
            },
        )?);
        Scheduler::start(engine, sched_opts)
    })
    .await??;
    let worker = Arc::new(Worker { scheduler });
    let app = Router::new()
        .route("/health", get(health))
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(chat))
        .route("/v1/completions", post(completions))
        .with_state(worker.clone());
    let listener = tokio::net::TcpListener::bind(opts.listen).await?;
    let status = worker.scheduler.status();
    println!(
        "llm-worker {} listening on http://{} ({} slots, {} context)",
        worker.engine().id(),
        listener.local_addr()?,
        status.slots,
        status.context
    );
    axum::serve(listener, app).await?;
    Ok(())
}

/// Liveness plus what the scheduler is doing.
async fn health(State(w): State<Arc<Worker>>) -> Json<Value> {
    let s = w.scheduler.status();
    Json(
        json!({ "status": "ok", "model": w.engine().id(), "slots": s.slots, "busy": s.busy,
                 "waiting": s.waiting, "context": s.context, "kv_bytes": s.kv_bytes,
                 "model_bytes": w.engine().model_bytes(),
                 "output_head": w.engine().uses_output_head() }),
    )
}

async fn models(State(w): State<Arc<Worker>>) -> Json<Value> {
    let spec = &w.engine().spec;
    Json(
        json!({ "object": "list", "data": [{ "id": spec.id, "object": "model", "created": 0,
        "owned_by": "autocrea", "context_length": spec.context }] }),
    )
}

async fn chat(
    State(w): State<Arc<Worker>>,
    body: Result<Json<ChatRequest>, JsonRejection>,
) -> Response {
    respond(chat_events(&w, body), Shape::Chat, &w).await
}

async fn completions(
    State(w): State<Arc<Worker>>,
    body: Result<Json<CompletionRequest>, JsonRejection>,
) -> Response {
    let events = (|| {
        let Json(req) = body.map_err(|e| LlmError::BadRequest(e.body_text()))?;
        check_model(&w, req.model.as_deref())?;
        let job = job(&w, req.prompt, &req.options, None)?;
        Ok((submit(&w, job, None)?, req.options.stream))
    })();
    respond(events, Shape::Text, &w).await
}

async fn respond(
    events: Result<(EventStream, bool), LlmError>,
    shape: Shape,
    w: &Worker,
) -> Response {
    let (events, stream) = match events {
        Ok(e) => e,
        Err(e) => return e.into_response(),
    };
    let meta = Meta::new(shape, w.engine().id());
    if stream {
        encode::streamed(meta, events, |_| {})
    } else {
        match encode::whole(&meta, events).await {
            Ok((body, _)) => Json(body).into_response(),
            Err(e) => e.into_response(),
        }
    }
}

fn chat_events(
    w: &Worker,
    body: Result<Json<ChatRequest>, JsonRejection>,
) -> Result<(EventStream, bool), LlmError> {
    let Json(req) = body.map_err(|e| LlmError::BadRequest(e.body_text()))?;
    check_model(w, req.model.as_deref())?;
    if req.messages.is_empty() {
        return Err(LlmError::BadRequest("messages must not be empty".into()));
    }
    let tools: Vec<ToolSpec> = req
        .tools
        .iter()
        .filter(|t| t.kind == "function")
        .map(|t| ToolSpec {
            name: t.function.name.clone(),
            description: t.function.description.clone().unwrap_or_default(),
            parameters: t
                .function
                .parameters
                .clone()
                .unwrap_or(json!({ "type": "object" })),
        })
        .collect();
    let choice = tool_choice(req.tool_choice.as_ref(), !tools.is_empty())?;
    let (grammar, tools) = if choice != ToolChoice::None && !tools.is_empty() {
        (
            structured::tools_grammar(&tools, &choice).map_err(model_error)?,
            Some(tools),
        )
    } else {
        (response_format_grammar(req.response_format.as_ref())?, None)
    };

    let mut messages: Vec<(String, String)> = Vec::new();
    if let Some(tools) = &tools {
        messages.push(("system".into(), structured::tools_prompt(tools, &choice)));
    }
    for m in &req.messages {
        let mut content = m.text_content();
        if let Some(calls) = &m.tool_calls {
            for c in calls {
                content.push_str(&format!(
                    "{{\"name\": {}, \"arguments\": {}}}",
                    json!(c.function.name),
                    c.function.arguments
                ));
            }
        }
        // Chat templates of small models know user, assistant and system only.
        let role = match m.role.as_str() {
            "tool" | "function" => {
                content = format!("Tool result: {content}");
                "user"
            }
            "developer" => "system",
            other => other,
        };
        match messages.last_mut() {
            // Consecutive system messages become one (templates take one).
            Some((r, c)) if r == "system" && role == "system" => {
                c.push_str("\n\n");
                c.push_str(&content);
            }
            _ => messages.push((role.to_string(), content)),
        }
    }
    let prompt = w.engine().chat_prompt(&messages).map_err(model_error)?;
    let job = job(w, prompt, &req.options, grammar)?;
    Ok((submit(w, job, tools)?, req.options.stream))
}

fn tool_choice(value: Option<&Value>, has_tools: bool) -> Result<ToolChoice, LlmError> {
    Ok(match value {
        None => {
            if has_tools {
                ToolChoice::Auto
            } else {
                ToolChoice::None
            }
        }
        Some(Value::String(s)) => match s.as_str() {
            "none" => ToolChoice::None,
            "auto" => ToolChoice::Auto,
            "required" => ToolChoice::Required,
            other => {
                return Err(LlmError::BadRequest(format!(
                    "tool_choice {other:?} is not none, auto, required or a function"
                )))
            }
        },
        Some(v) => {
            match v.pointer("/function/name").and_then(Value::as_str) {
                Some(name) => ToolChoice::Named(name.to_string()),
                None => return Err(LlmError::BadRequest(
                    "tool_choice must be {\"type\": \"function\", \"function\": {\"name\": ...}}"
                        .into(),
                )),
            }
        }
    })
}

fn response_format_grammar(format: Option<&Value>) -> Result<Option<String>, LlmError> {
    let Some(format) = format else {
        return Ok(None);
    };
    let schema = match format.get("type").and_then(Value::as_str) {
        None | Some("text") => return Ok(None),
        Some("json_object") => json!({ "type": "object" }),
        Some("json_schema") => format
            .pointer("/json_schema/schema")
            .cloned()
            .ok_or_else(|| {
                LlmError::BadRequest("response_format.json_schema.schema is missing".into())
            })?,
        Some(other) => {
            return Err(LlmError::BadRequest(format!(
                "response_format type {other:?} is not text, json_object or json_schema"
            )))
        }
    };
    structured::schema_grammar(&schema)
        .map(Some)
        .map_err(model_error)
}

fn check_model(w: &Worker, model: Option<&str>) -> Result<(), LlmError> {
    match model {
        Some(m) if m != w.engine().id() => Err(LlmError::ModelNotFound(m.to_string())),
        _ => Ok(()),
    }
}

fn job(w: &Worker, prompt: String, o: &Options, grammar: Option<String>) -> Result<Job, LlmError> {
    let mut logit_bias = Vec::new();
    for (token, bias) in &o.logit_bias {
        let id: i32 = token.parse().map_err(|_| {
            LlmError::BadRequest(format!("logit_bias key {token:?} is not a token id"))
        })?;
        logit_bias.push((id, bias.clamp(-100.0, 100.0)));
    }
    let temperature = o.temperature.filter(|t| *t > 0.0).map(|t| t as f32);
    if let Some(p) = o.top_p {
        if !(0.0..=1.0).contains(&p) {
            return Err(LlmError::BadRequest("top_p must be between 0 and 1".into()));
        }
    }
    let seed = temperature.map(|_| o.seed.map(|s| s as u32).unwrap_or_else(rand::random));
    let max_tokens = o
        .max_tokens()
        .map(|m| m as usize)
        .unwrap_or(256)
        .clamp(1, w.engine().spec.context as usize);
    Ok(Job {
        prompt,
        max_tokens,
        sampling: Sampling {
            temperature,
            top_p: o.top_p.map(|p| p as f32),
            seed,
            logit_bias,
            stop: o.stops(),
        },
        grammar,
    })
}

fn model_error(e: ModelError) -> LlmError {
    match e {
        ModelError::PromptTooLong { .. } | ModelError::BadGrammar(_) | ModelError::BadSchema(_) => {
            LlmError::BadRequest(e.to_string())
        }
        other => LlmError::Internal(other.to_string()),
    }
}

fn submit(w: &Worker, job: Job, tools: Option<Vec<ToolSpec>>) -> Result<EventStream, LlmError> {
    let rx = w.scheduler.submit(job).map_err(|e| match e {
        SubmitError::QueueFull { .. } => LlmError::Busy { retry_after: 1 },
        SubmitError::Model(m) => model_error(m),
    })?;
    Ok(events(rx, tools))
}

/// The scheduler's events as chat events. With tools, a call is streamed
/// in pieces while it is written (`call_stream`), so a client sees progress
/// on a long call; whether the reply is a call or text is decided on the
/// whole text at the end, as the grammar allows either under `auto`.
fn events(rx: mpsc::UnboundedReceiver<Event>, tools: Option<Vec<ToolSpec>>) -> EventStream {
    let state = Pending {
        rx,
        tools,
        queue: VecDeque::new(),
        done: false,
        calls: CallStream::default(),
        call_id: None,
    };
    Box::pin(futures_util::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(e) = s.queue.pop_front() {
                return Some((e, s));
            }
            if s.done {
                return None;
            }
            let event = s.rx.recv().await;
            s.take(event);
        }
    }))
}

struct Pending {
    rx: mpsc::UnboundedReceiver<Event>,
    tools: Option<Vec<ToolSpec>>,
    queue: VecDeque<Result<ChatEvent, LlmError>>,
    done: bool,
    calls: CallStream,
    /// The id of the call being streamed, once its name is known.
    call_id: Option<String>,
}

impl Pending {
    fn take(&mut self, event: Option<Event>) {
        match event {
            Some(Event::Text(t)) if self.tools.is_none() => {
                self.queue.push_back(Ok(ChatEvent::Text(t)))
            }
            Some(Event::Text(t)) => {
                for piece in self.calls.push(&t) {
                    let delta = match piece {
                        Piece::Name(name) => {
                            let id = format!("call_{}", autocrea_core::secrets::random_token(24));
                            self.call_id = Some(id.clone());
                            ChatEvent::ToolCallDelta {
                                index: 0,
                                id: Some(id),
                                name: Some(name),
                                arguments: String::new(),
                            }
                        }
                        Piece::Arguments(a) => ChatEvent::ToolCallDelta {
                            index: 0,
                            id: None,
                            name: None,
                            arguments: a,
                        },
                    };
                    self.queue.push_back(Ok(delta));
                }
            }
            Some(Event::Done(g)) => {
                self.done = true;
                let usage = Usage {
                    prompt_tokens: g.prompt_tokens as u64,
                    completion_tokens: g.completion_tokens as u64,
                };
                let call = self
                    .tools
                    .as_ref()
                    .and_then(|t| structured::parse_tool_call(&g.text, t));
                let reason = match call {
                    Some((name, arguments)) => {
                        let id = self.call_id.take().unwrap_or_else(|| {
                            format!("call_{}", autocrea_core::secrets::random_token(24))
                        });
                        let function = FunctionCall {
                            name,
                            arguments: arguments.to_string(),
                        };
                        self.queue.push_back(Ok(ChatEvent::ToolCall(ToolCall {
                            id,
                            kind: "function".into(),
                            function,
                        })));
                        "tool_calls".to_string()
                    }
                    None => {
                        // Not a whole call: text, or a call cut off by max_tokens.
                        // A call already streamed in pieces is not sent again as text
                        // (the client has it, half-written, with finish_reason "length").
                        if self.tools.is_some() && !g.text.is_empty() && self.call_id.is_none() {
                            self.queue.push_back(Ok(ChatEvent::Text(g.text.clone())));
                        }
                        g.finish_reason.to_string()
                    }
                };
                self.queue
                    .push_back(Ok(ChatEvent::Finish { reason, usage }));
            }
            Some(Event::Failed(e)) => {
                self.done = true;
                self.queue.push_back(Err(model_error(e)));
            }
            None => {
                self.done = true;
                self.queue
                    .push_back(Err(LlmError::Internal("the decode thread stopped".into())));
            }
        }
    }
}
