//! `autocrea llm-worker`: one model behind the OpenAI chat-completions and
//! completions protocol on loopback. The server starts it as a child process, so a
//! llama.cpp abort can never take the web server down.
//!
//! This first worker decodes one request at a time; waiting requests queue
//! (bounded: beyond it, 429 with Retry-After) and a client that disconnects
//! stops its generation at the next token.

use autocrea_inference::{Engine, Manifest, ModelError, Sampling};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, Semaphore};

pub struct WorkerOptions {
    pub manifest: PathBuf,
    pub model: Option<String>,
    pub listen: SocketAddr,
    pub threads: i32,
    pub queue: usize,
}

struct Worker {
    engine: Arc<Engine>,
    gate: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
    threads: i32,
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
    let engine = tokio::task::spawn_blocking(move || Engine::load(&manifest, &spec)).await??;
    let worker = Arc::new(Worker {
        engine: Arc::new(engine),
        gate: Arc::new(Semaphore::new(1)),
        waiting: AtomicUsize::new(0),
        queue: opts.queue,
        threads: opts.threads,
    });
    let app = Router::new()
        .route("/health", get(health))
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(chat))
        .route("/v1/completions", post(completions))
        .with_state(worker.clone());
    let listener = tokio::net::TcpListener::bind(opts.listen).await?;
    println!(
        "llm-worker {} listening on http://{}",
        worker.engine.id(),
        listener.local_addr()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}

/// OpenAI's error body.
fn openai_error(
    status: StatusCode,
    kind: &str,
    code: &str,
    message: impl Into<String>,
) -> Response {
    let body = json!({ "error": { "message": message.into(), "type": kind, "code": code, "param": null } });
    (status, Json(body)).into_response()
}

/// Liveness plus whether the model is decoding and how many requests wait.
async fn health(State(w): State<Arc<Worker>>) -> Json<Value> {
    Json(
        json!({ "status": "ok", "model": w.engine.id(), "busy": w.gate.available_permits() == 0,
                 "waiting": w.waiting.load(Ordering::SeqCst) }),
    )
}

async fn models(State(w): State<Arc<Worker>>) -> Json<Value> {
    Json(
        json!({ "object": "list", "data": [{ "id": w.engine.id(), "object": "model", "created": 0, "owned_by": "autocrea" }] }),
    )
}

#[derive(Deserialize)]
struct Message {
    role: String,
    content: String,
}

#[derive(Deserialize)]
struct ChatRequest {
    model: Option<String>,
    messages: Vec<Message>,
    #[serde(flatten)]
    options: Options,
}

/// What OpenAI's chat and completion requests share.
#[derive(Deserialize)]
struct Options {
    max_tokens: Option<usize>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    seed: Option<u32>,
    stop: Option<Stop>,
    /// Token id (as a string, OpenAI's way) to bias; -100 bans it.
    #[serde(default)]
    logit_bias: HashMap<String, f32>,
    #[serde(default)]
    stream: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Stop {
    One(String),
    Many(Vec<String>),
}

impl Options {
    fn sampling(&self) -> Result<Sampling, Response> {
        let mut logit_bias = Vec::new();
        for (token, bias) in &self.logit_bias {
            let id: i32 = token.parse().map_err(|_| {
                openai_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    "invalid_logit_bias",
                    format!("logit_bias key {token:?} is not a token id"),
                )
            })?;
            logit_bias.push((id, bias.clamp(-100.0, 100.0)));
        }
        let stop = match &self.stop {
            None => Vec::new(),
            Some(Stop::One(s)) => vec![s.clone()],
            Some(Stop::Many(v)) => v.clone(),
        };
        let stop: Vec<String> = stop.into_iter().filter(|s| !s.is_empty()).take(4).collect();
        let temperature = self.temperature.filter(|t| *t > 0.0);
        let seed = temperature.map(|_| self.seed.unwrap_or_else(rand_seed));
        Ok(Sampling {
            temperature,
            top_p: self.top_p,
            seed,
            logit_bias,
            stop,
        })
    }
}

/// Leaves the queue count when the request is done waiting (or gone).
struct Waiting<'a>(&'a AtomicUsize);
impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn chat(
    State(w): State<Arc<Worker>>,
    body: Result<Json<ChatRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let req = match accept(&w, body, |r| r.model.as_deref()) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if req.messages.is_empty() {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid_body",
            "messages must not be empty",
        );
    }
    let messages: Vec<(String, String)> = req
        .messages
        .into_iter()
        .map(|m| (m.role, m.content))
        .collect();
    match w.engine.chat_prompt(&messages) {
        Ok(prompt) => complete(w, prompt, req.options, Kind::Chat).await,
        Err(e) => openai_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "template",
            e.to_string(),
        ),
    }
}

#[derive(Deserialize)]
struct CompletionRequest {
    model: Option<String>,
    prompt: String,
    #[serde(flatten)]
    options: Options,
}

/// `/v1/completions`: a raw prompt, no chat template (the editor's code completion).
async fn completions(
    State(w): State<Arc<Worker>>,
    body: Result<Json<CompletionRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let req = match accept(&w, body, |r| r.model.as_deref()) {
        Ok(r) => r,
        Err(r) => return r,
    };
    complete(w, req.prompt, req.options, Kind::Text).await
}

/// A request body in our shape, naming this worker's model (or none).
fn accept<T>(
    w: &Worker,
    body: Result<Json<T>, axum::extract::rejection::JsonRejection>,
    model: impl Fn(&T) -> Option<&str>,
) -> Result<T, Response> {
    let Json(req) = body.map_err(|e| {
        openai_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid_body",
            e.body_text(),
        )
    })?;
    check_model(w, model(&req))?;
    Ok(req)
}

fn check_model(w: &Worker, model: Option<&str>) -> Result<(), Response> {
    match model {
        Some(m) if m != w.engine.id() => Err(openai_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "model_not_found",
            format!("this worker serves {}, not {m}", w.engine.id()),
        )),
        _ => Ok(()),
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Chat,
    Text,
}

impl Kind {
    fn object(self, chunk: bool) -> &'static str {
        match (self, chunk) {
            (Kind::Chat, false) => "chat.completion",
            (Kind::Chat, true) => "chat.completion.chunk",
            (Kind::Text, _) => "text_completion",
        }
    }
    /// One choice carrying `text` (a whole answer or a streamed piece).
    fn choice(self, text: &str, finish: Value, chunk: bool) -> Value {
        match (self, chunk) {
            (Kind::Chat, false) => {
                json!({ "index": 0, "message": { "role": "assistant", "content": text }, "finish_reason": finish })
            }
            (Kind::Chat, true) => {
                json!({ "index": 0, "delta": if finish.is_null() { json!({ "content": text }) } else { json!({}) }, "finish_reason": finish })
            }
            (Kind::Text, _) => {
                json!({ "index": 0, "text": text, "logprobs": null, "finish_reason": finish })
            }
        }
    }
}

/// Admission (bounded queue, one decode at a time), generation, and the
/// reply in OpenAI's shape, streamed as server-sent events or whole.
async fn complete(w: Arc<Worker>, prompt: String, options: Options, kind: Kind) -> Response {
    let sampling = match options.sampling() {
        Ok(s) => s,
        Err(r) => return r,
    };
    let max_tokens = options
        .max_tokens
        .unwrap_or(256)
        .clamp(1, w.engine.spec.context as usize);
    if w.waiting.fetch_add(1, Ordering::SeqCst) >= w.queue {
        w.waiting.fetch_sub(1, Ordering::SeqCst);
        let mut r = openai_error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "queue_full",
            "the model is busy; retry shortly",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    }
    let waiting = Waiting(&w.waiting);
    let permit = match w.gate.clone().acquire_owned().await {
        Ok(p) => p,
        Err(_) => {
            return openai_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "shutting_down",
                "the worker is stopping",
            )
        }
    };
    drop(waiting);
    let prefix = match kind {
        Kind::Chat => "chatcmpl",
        Kind::Text => "cmpl",
    };
    let id = format!("{prefix}-{}", autocrea_core::secrets::random_token(24));
    let created = autocrea_core::clock::now();
    let model = w.engine.id().to_string();
    let (engine, threads) = (w.engine.clone(), w.threads);
    let usage = |g: &autocrea_inference::Generation| json!({ "prompt_tokens": g.prompt_tokens, "completion_tokens": g.completion_tokens, "total_tokens": g.prompt_tokens + g.completion_tokens });

    if !options.stream {
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            engine.generate(&prompt, max_tokens, threads, &sampling)
        })
        .await;
        return match result {
            Ok(Ok(g)) => Json(json!({
                "id": id, "object": kind.object(false), "created": created, "model": model,
                "choices": [kind.choice(&g.text, json!(g.finish_reason), false)],
                "usage": usage(&g),
            }))
            .into_response(),
            Ok(Err(e)) => generation_error(e),
            Err(e) => openai_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "panic",
                e.to_string(),
            ),
        };
    }

    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let event = |v: Value| Bytes::from(format!("data: {v}\n\n"));
    let chunk = {
        let (id, model) = (id.clone(), model.clone());
        move |choice: Value| json!({ "id": id, "object": kind.object(true), "created": created, "model": model, "choices": [choice] })
    };
    if let Kind::Chat = kind {
        let _ = tx.try_send(event(chunk(json!({ "index": 0, "delta": { "role": "assistant", "content": "" }, "finish_reason": null }))));
    }
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let result = engine.generate_with(&prompt, max_tokens, threads, &sampling, |piece| {
            tx.blocking_send(event(chunk(kind.choice(piece, Value::Null, true))))
                .is_ok()
        });
        match result {
            Ok(g) if g.finish_reason != "cancelled" => {
                let mut last = chunk(kind.choice("", json!(g.finish_reason), true));
                last["usage"] = usage(&g);
                let _ = tx.blocking_send(event(last));
                let _ = tx.blocking_send(Bytes::from_static(b"data: [DONE]\n\n"));
            }
            Ok(_) => {} // the client went away
            Err(e) => {
                let _ = tx.blocking_send(event(
                    json!({ "error": { "message": e.to_string(), "type": "server_error" } }),
                ));
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
    });
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn generation_error(e: ModelError) -> Response {
    match e {
        ModelError::PromptTooLong { .. } => openai_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "context_length_exceeded",
            e.to_string(),
        ),
        other => openai_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "engine",
            other.to_string(),
        ),
    }
}

fn rand_seed() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(autocrea_core::clock::now() as u64);
    h.finish() as u32
}
