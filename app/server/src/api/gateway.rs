//! The OpenAI-compatible gateway under `/v1`: one API for the local model
//! and the providers an admin allows, authenticated with the user's API
//! tokens (or session), every call's usage recorded per user and project.
//!
//! Model names: the local model's id (or `local`), and `<provider>/<model>`
//! for a provider in the admin's policy, used with the caller's own key.
//! `X-Autocrea-Project: <project id>` charges the call to a project.

use crate::error::{ApiError, ErrorBody};
use crate::extract::Auth;
use crate::llm::encode::{self, Meta, Outcome, Shape};
use crate::llm::resolve::{resolve, Target};
use crate::llm::wire::{ChatRequest, CompletionRequest};
use crate::llm::LlmError;
use crate::state::AppState;
use autocrea_core::llm::{keys, policy, shared_keys, usage};
use autocrea_core::projects;
use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::time::Instant;

pub const PROJECT_HEADER: &str = "x-autocrea-project";

/// Models the caller may use: the local model, and each allowed provider's
/// models when the caller has stored a key for it.
#[utoipa::path(get, path = "/v1/models", tag = "gateway",
    responses((status = 200, description = "OpenAI's model list", body = Object), (status = 401, body = ErrorBody)))]
pub async fn models(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    let policy = policy::load(&state.pool).await?;
    let mut mine: Vec<String> = keys::list(&state.pool, auth.user.id)
        .await?
        .into_iter()
        .map(|k| k.provider)
        .collect();
    mine.extend(
        shared_keys::list(&state.pool)
            .await?
            .into_iter()
            .map(|k| k.provider),
    );
    let mut data = Vec::new();
    if let (true, Some(id)) = (policy.local, &state.llm.local_model) {
        if state.config.llm.worker {
            data.push(json!({ "id": id, "object": "model", "created": 0, "owned_by": "local" }));
        }
    }
    for p in policy.providers.iter().filter(|p| p.enabled) {
        if !mine.contains(&p.id) {
            continue;
        }
        for m in &p.models {
            data.push(json!({ "id": format!("{}/{m}", p.id), "object": "model", "created": 0, "owned_by": p.id }));
        }
    }
    Ok(Json(json!({ "object": "list", "data": data })))
}

/// OpenAI's chat completions, streamed (`"stream": true`) or whole.
#[utoipa::path(post, path = "/v1/chat/completions", tag = "gateway", request_body = Object,
    responses((status = 200, description = "chat.completion, or text/event-stream of chat.completion.chunk ending with data: [DONE]", body = Object),
        (status = 400, body = Object), (status = 401, body = ErrorBody), (status = 404, body = Object),
        (status = 429, body = Object), (status = 502, body = Object), (status = 503, body = Object)))]
pub async fn chat_completions(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    body: Result<Json<ChatRequest>, JsonRejection>,
) -> Response {
    let prepared = prepare(&state, &auth, &headers, body, |r: &ChatRequest| {
        if r.messages.is_empty() {
            return Err(LlmError::BadRequest("messages must not be empty".into()));
        }
        Ok(r.model.as_deref())
    })
    .await;
    let (request, project, target) = match prepared {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let stream = request.options.stream;
    let started = Instant::now();
    let events = target.adapter.chat(&target.model, request).await;
    answer(
        state,
        auth.user.id,
        project,
        target,
        "chat",
        Shape::Chat,
        stream,
        started,
        events,
    )
    .await
}

/// OpenAI's raw-prompt completions (the editor's code completion).
#[utoipa::path(post, path = "/v1/completions", tag = "gateway", request_body = Object,
    responses((status = 200, description = "text_completion, or its event stream", body = Object),
        (status = 400, body = Object), (status = 401, body = ErrorBody), (status = 404, body = Object),
        (status = 429, body = Object), (status = 503, body = Object)))]
pub async fn completions(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    body: Result<Json<CompletionRequest>, JsonRejection>,
) -> Response {
    let prepared = prepare(&state, &auth, &headers, body, |r: &CompletionRequest| {
        Ok(r.model.as_deref())
    })
    .await;
    let (request, project, target) = match prepared {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let stream = request.options.stream;
    let started = Instant::now();
    let events = target.adapter.complete(&target.model, request).await;
    answer(
        state,
        auth.user.id,
        project,
        target,
        "completion",
        Shape::Text,
        stream,
        started,
        events,
    )
    .await
}

/// The checked request, the project it is charged to and the model it goes to.
async fn prepare<T>(
    state: &AppState,
    auth: &Auth,
    headers: &HeaderMap,
    body: Result<Json<T>, JsonRejection>,
    check: impl Fn(&T) -> Result<Option<&str>, LlmError>,
) -> Result<(T, Option<String>, Target), LlmError> {
    let Json(request) = body.map_err(|e| LlmError::BadRequest(e.body_text()))?;
    let model = check(&request)?.map(str::to_string);
    let project = project_of(state, auth, headers).await?;
    let target = resolve(state, auth.user.id, model.as_deref()).await?;
    Ok((request, project, target))
}

/// Sends the provider's answer back and records its usage when it ends.
#[allow(clippy::too_many_arguments)]
async fn answer(
    state: AppState,
    user_id: i64,
    project: Option<String>,
    target: Target,
    endpoint: &'static str,
    shape: Shape,
    stream: bool,
    started: Instant,
    events: Result<crate::llm::EventStream, LlmError>,
) -> Response {
    let record = {
        let pool = state.pool.clone();
        let (provider, model) = (target.provider_id.clone(), target.public_name.clone());
        move |outcome: Outcome| {
            let (prompt_tokens, completion_tokens, outcome) = match outcome {
                Outcome::Finished { usage, .. } => {
                    (usage.prompt_tokens, usage.completion_tokens, "finished")
                }
                Outcome::Failed(_) => (0, 0, "failed"),
                Outcome::Cancelled => (0, 0, "cancelled"),
            };
            let record = usage::UsageRecord {
                user_id,
                project_id: project,
                provider,
                model,
                endpoint,
                prompt_tokens,
                completion_tokens,
                duration_ms: started.elapsed().as_millis() as u64,
                outcome,
            };
            tokio::spawn(async move {
                if let Err(e) = usage::record(&pool, &record).await {
                    tracing::error!(error = %e, "could not record model usage");
                }
            });
        }
    };
    let events = match events {
        Ok(e) => e,
        Err(e) => {
            record(Outcome::Failed(e.to_string()));
            return local_error(&target, e).into_response();
        }
    };
    // A local worker that dies mid-answer: say that it is coming back.
    let events: crate::llm::EventStream = if target.provider_id == "local" {
        Box::pin(futures_util::StreamExt::map(events, |r| {
            r.map_err(explain_local)
        }))
    } else {
        events
    };
    let meta = Meta::new(shape, &target.public_name);
    if stream {
        return encode::streamed(meta, events, record);
    }
    match encode::whole(&meta, events).await {
        Ok((body, usage)) => {
            record(Outcome::Finished {
                reason: String::new(),
                usage,
            });
            Json(body).into_response()
        }
        Err(e) => {
            record(Outcome::Failed(e.to_string()));
            local_error(&target, e).into_response()
        }
    }
}

/// The local worker's transport errors say what happens next.
fn local_error(target: &Target, e: LlmError) -> LlmError {
    if target.provider_id == "local" {
        explain_local(e)
    } else {
        e
    }
}

fn explain_local(e: LlmError) -> LlmError {
    match e {
        LlmError::Unavailable(m) => LlmError::Unavailable(format!(
            "{m}; the worker is restarting and the next request will be served once it is ready"
        )),
        e => e,
    }
}

/// The project named in `X-Autocrea-Project`, which the caller must own.
async fn project_of(
    state: &AppState,
    auth: &Auth,
    headers: &HeaderMap,
) -> Result<Option<String>, LlmError> {
    let Some(value) = headers.get(PROJECT_HEADER) else {
        return Ok(None);
    };
    let id = value
        .to_str()
        .map_err(|_| LlmError::BadRequest("X-Autocrea-Project is not text".into()))?;
    match projects::get(&state.pool, auth.user.id, id).await {
        Ok(p) => Ok(Some(p.id)),
        Err(projects::ProjectError::NotFound) => Err(LlmError::BadRequest(format!(
            "X-Autocrea-Project: project {id:?} not found"
        ))),
        Err(e) => Err(LlmError::Internal(e.to_string())),
    }
}
