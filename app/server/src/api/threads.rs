//! Chat threads of a project and the agent turns they run.

use crate::agent::turn::{self, store_error as map_store_error};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use autocrea_core::agent::store::{self, Message, Thread, Turn};
use autocrea_core::projects::{self, Project};
use autocrea_core::replay::kept_then_live;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::convert::Infallible;

async fn owned(state: &AppState, auth: &Auth, id: &str) -> ApiResult<Project> {
    Ok(projects::get(&state.pool, auth.user.id, id).await?)
}

async fn owned_thread(state: &AppState, auth: &Auth, id: &str, thread_id: &str) -> ApiResult<(Project, Thread)> {
    let project = owned(state, auth, id).await?;
    let thread = store::thread(&state.pool, &project.id, thread_id).await.map_err(map_store_error)?;
    Ok((project, thread))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateThread {
    #[serde(default)]
    pub title: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ThreadList {
    pub threads: Vec<Thread>,
}

/// Starts a new chat thread in the project.
#[utoipa::path(post, path = "/api/v1/projects/{id}/threads", tag = "agent", request_body = CreateThread,
    params(("id" = String, Path, description = "project id")),
    responses((status = 201, body = Thread), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create(State(state): State<AppState>, auth: Auth, Path(id): Path<String>, ApiJson(body): ApiJson<CreateThread>) -> ApiResult<(StatusCode, Json<Thread>)> {
    let project = owned(&state, &auth, &id).await?;
    let thread = store::create_thread(&state.pool, &project.id, auth.user.id, &body.title).await.map_err(map_store_error)?;
    Ok((StatusCode::CREATED, Json(thread)))
}

/// The project's threads, most recently active first.
#[utoipa::path(get, path = "/api/v1/projects/{id}/threads", tag = "agent",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = ThreadList), (status = 404, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<ThreadList>> {
    let project = owned(&state, &auth, &id).await?;
    Ok(Json(ThreadList { threads: store::threads(&state.pool, &project.id).await.map_err(map_store_error)? }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MessageList {
    pub messages: Vec<Message>,
    /// Whether a turn is running on the thread now.
    pub running: bool,
}

/// Every message of a thread (user, assistant and tool), oldest first.
#[utoipa::path(get, path = "/api/v1/projects/{id}/threads/{thread}/messages", tag = "agent",
    params(("id" = String, Path, description = "project id"), ("thread" = String, Path, description = "thread id")),
    responses((status = 200, body = MessageList), (status = 404, body = ErrorBody)))]
pub async fn messages(State(state): State<AppState>, auth: Auth, Path((id, thread_id)): Path<(String, String)>) -> ApiResult<Json<MessageList>> {
    let (_, thread) = owned_thread(&state, &auth, &id, &thread_id).await?;
    Ok(Json(MessageList {
        messages: store::messages(&state.pool, &thread.id).await.map_err(map_store_error)?,
        running: state.agents.is_running(&thread.id),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SendMessage {
    pub content: String,
    /// `local`, the local model's id, or `<provider>/<model>`; the local model when left out.
    pub model: Option<String>,
}

/// Sends a message: the agent's turn starts at once (202) and reports on the
/// thread's event stream. Refused before it starts when the balance is not
/// positive (402) or a turn already runs on the thread (409).
#[utoipa::path(post, path = "/api/v1/projects/{id}/threads/{thread}/messages", tag = "agent", request_body = SendMessage,
    params(("id" = String, Path, description = "project id"), ("thread" = String, Path, description = "thread id")),
    responses((status = 202, body = Turn), (status = 400, body = ErrorBody), (status = 402, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, thread_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<SendMessage>,
) -> ApiResult<(StatusCode, Json<Turn>)> {
    let (project, thread) = owned_thread(&state, &auth, &id, &thread_id).await?;
    let turn = turn::start(&state, auth.user.id, &project, &thread, &body.content, body.model.as_deref()).await?;
    Ok((StatusCode::ACCEPTED, Json(turn)))
}

/// Stops the thread's running turn: its changes are discarded, the project
/// stays at its last version.
#[utoipa::path(post, path = "/api/v1/projects/{id}/threads/{thread}/stop", tag = "agent",
    params(("id" = String, Path, description = "project id"), ("thread" = String, Path, description = "thread id")),
    responses((status = 202), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn stop(State(state): State<AppState>, auth: Auth, Path((id, thread_id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let (_, thread) = owned_thread(&state, &auth, &id, &thread_id).await?;
    if state.agents.stop(&thread.id) {
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(ApiError::new(StatusCode::CONFLICT, "no_turn_running", "no turn is running on this thread"))
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// Resume after this event id (EventSource sends Last-Event-ID itself).
    pub after: Option<u64>,
    /// Keep the stream open for events to come (default true); false lists the kept ones as JSON.
    pub follow: Option<bool>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventList {
    pub events: Vec<EventView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub id: u64,
    #[serde(rename = "type")]
    pub kind: String,
    pub data: serde_json::Value,
}

/// Server-sent events of the thread: `step`, `message`, `tool:start`,
/// `tool:end`, `file:updated`, `preview:refresh`, `error:detected`,
/// `editor`, `turn:end`; each with an id to resume from.
#[utoipa::path(get, path = "/api/v1/projects/{id}/threads/{thread}/events", tag = "agent",
    params(("id" = String, Path, description = "project id"), ("thread" = String, Path, description = "thread id"), EventParams),
    responses((status = 200, description = "text/event-stream, or JSON with follow=false", body = EventList), (status = 404, body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, thread_id)): Path<(String, String)>,
    Query(q): Query<EventParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (_, thread) = owned_thread(&state, &auth, &id, &thread_id).await?;
    let resume = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let (kept, rx) = state.agents.log(&thread.id).since(q.after.or(resume).unwrap_or(0));
    if !q.follow.unwrap_or(true) {
        let events = kept.into_iter().map(|(_, e)| EventView { id: e.id, kind: e.kind.to_string(), data: e.data }).collect();
        return Ok(Json(EventList { events }).into_response());
    }
    let stream = kept_then_live(kept, rx).map(|(_, e)| {
        Ok::<_, Infallible>(Event::default().event(e.kind).id(e.id.to_string()).json_data(&e.data).unwrap_or_default())
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}
