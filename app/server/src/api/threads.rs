//! Chat threads of a project and the agent turns they run.

use crate::agent::turn;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use autocrea_core::agent::pipeline::{Approval, Mode};
use autocrea_core::agent::store::{self, Thread, Turn};
use autocrea_core::projects::{self, Project};
use autocrea_core::replay::kept_then_live;
use autocrea_wire::agent::{
    AgentSettings, CreateThread, EditMessage, EventList, EventView, MessageList, PlanAnswer,
    SendMessage, ThreadList, TurnList, TurnOptions, TurnView,
};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use serde::Deserialize;
use std::convert::Infallible;

async fn owned(state: &AppState, auth: &Auth, id: &str) -> ApiResult<Project> {
    Ok(projects::get(&state.pool, auth.user.id, id).await?)
}

async fn owned_thread(
    state: &AppState,
    auth: &Auth,
    id: &str,
    thread_id: &str,
) -> ApiResult<(Project, Thread)> {
    let project = owned(state, auth, id).await?;
    let thread = store::thread(&state.pool, &project.id, thread_id).await?;
    Ok((project, thread))
}

/// Starts a new chat thread in the project.
#[utoipa::path(post, path = "/api/v1/projects/{id}/threads", tag = "agent", request_body = CreateThread,
    params(("id" = String, Path, description = "project id")),
    responses((status = 201, body = Thread), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CreateThread>,
) -> ApiResult<(StatusCode, Json<Thread>)> {
    let project = owned(&state, &auth, &id).await?;
    let thread = store::create_thread(&state.pool, &project.id, auth.user.id, &body.title).await?;
    Ok((StatusCode::CREATED, Json(thread)))
}

/// The project's threads, most recently active first.
#[utoipa::path(get, path = "/api/v1/projects/{id}/threads", tag = "agent",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = ThreadList), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ThreadList>> {
    let project = owned(&state, &auth, &id).await?;
    Ok(Json(ThreadList {
        threads: store::threads(&state.pool, &project.id).await?,
    }))
}

/// Every message of a thread (user, assistant and tool), oldest first.
#[utoipa::path(get, path = "/api/v1/projects/{id}/threads/{thread}/messages", tag = "agent",
    params(("id" = String, Path, description = "project id"), ("thread" = String, Path, description = "thread id")),
    responses((status = 200, body = MessageList), (status = 404, body = ErrorBody)))]
pub async fn messages(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, thread_id)): Path<(String, String)>,
) -> ApiResult<Json<MessageList>> {
    let (_, thread) = owned_thread(&state, &auth, &id, &thread_id).await?;
    let messages = store::messages(&state.pool, &thread.id).await?;
    let branch = store::branch(&messages, store::active_leaf(&messages))
        .into_iter()
        .map(|m| m.id.clone())
        .collect();
    Ok(Json(MessageList {
        messages,
        branch,
        running: state.agents.is_running(&thread.id),
    }))
}

/// A request's turn options, checked.
fn turn_options(o: TurnOptions) -> ApiResult<turn::Options> {
    let mode = match o.mode.as_deref() {
        None => None,
        Some(m) => Some(Mode::parse(m).ok_or_else(|| ApiError::invalid("mode: quick or full"))?),
    };
    Ok(turn::Options {
        mode,
        model: o.model.filter(|m| !m.is_empty()),
        auto_approve: o.auto_approve,
        open_files: o.open_files,
    })
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
    let turn = turn::start(
        &state,
        auth.user.id,
        &project,
        &thread,
        turn::Ask::New {
            content: body.content,
            attachments: body.attachments,
        },
        turn_options(body.options)?,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(turn)))
}

/// Edits one of your earlier messages: the edit is a new message beside the
/// old one (the old branch stays) and a turn answers it, starting from the
/// code the old answer started from (202, like send).
#[utoipa::path(post, path = "/api/v1/projects/{id}/threads/{thread}/messages/{message}/edit", tag = "agent", request_body = EditMessage,
    params(("id" = String, Path, description = "project id"), ("thread" = String, Path, description = "thread id"), ("message" = String, Path, description = "a user message")),
    responses((status = 202, body = Turn), (status = 400, body = ErrorBody), (status = 402, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn edit(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, thread_id, message_id)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<EditMessage>,
) -> ApiResult<(StatusCode, Json<Turn>)> {
    let (project, thread) = owned_thread(&state, &auth, &id, &thread_id).await?;
    let ask = turn::Ask::Edit {
        message_id,
        content: body.content,
        attachments: body.attachments,
    };
    let turn = turn::start(
        &state,
        auth.user.id,
        &project,
        &thread,
        ask,
        turn_options(body.options)?,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(turn)))
}

/// Answers one of your earlier messages again: a new answer branch beside
/// the old one, from the code the old answer started from (202).
#[utoipa::path(post, path = "/api/v1/projects/{id}/threads/{thread}/messages/{message}/regenerate", tag = "agent", request_body = TurnOptions,
    params(("id" = String, Path, description = "project id"), ("thread" = String, Path, description = "thread id"), ("message" = String, Path, description = "a user message")),
    responses((status = 202, body = Turn), (status = 400, body = ErrorBody), (status = 402, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn regenerate(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, thread_id, message_id)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<TurnOptions>,
) -> ApiResult<(StatusCode, Json<Turn>)> {
    let (project, thread) = owned_thread(&state, &auth, &id, &thread_id).await?;
    let turn = turn::start(
        &state,
        auth.user.id,
        &project,
        &thread,
        turn::Ask::Regenerate { message_id },
        turn_options(body)?,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(turn)))
}

/// The thread's turns, oldest first, with their steps.
#[utoipa::path(get, path = "/api/v1/projects/{id}/threads/{thread}/turns", tag = "agent",
    params(("id" = String, Path, description = "project id"), ("thread" = String, Path, description = "thread id")),
    responses((status = 200, body = TurnList), (status = 404, body = ErrorBody)))]
pub async fn turns(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, thread_id)): Path<(String, String)>,
) -> ApiResult<Json<TurnList>> {
    let (_, thread) = owned_thread(&state, &auth, &id, &thread_id).await?;
    let turns = store::turns_with_steps(&state.pool, &thread.id).await?;
    Ok(Json(TurnList {
        turns: turns
            .into_iter()
            .map(|(turn, steps)| TurnView {
                plan_waiting: state.agents.plan_waits(&turn.id),
                turn,
                steps,
            })
            .collect(),
    }))
}

/// Approves (optionally edited) or rejects the plan a full-mode turn's
/// Architect wrote; 409 when no plan of that turn waits.
#[utoipa::path(post, path = "/api/v1/projects/{id}/threads/{thread}/turns/{turn}/plan", tag = "agent", request_body = PlanAnswer,
    params(("id" = String, Path, description = "project id"), ("thread" = String, Path, description = "thread id"), ("turn" = String, Path, description = "turn id")),
    responses((status = 202), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn answer_plan(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, thread_id, turn_id)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<PlanAnswer>,
) -> ApiResult<StatusCode> {
    let (_, thread) = owned_thread(&state, &auth, &id, &thread_id).await?;
    let turn = store::turn(&state.pool, &thread.id, &turn_id).await?;
    let answer = match (body.approve, body.plan) {
        (true, Some(plan)) => {
            let plan = plan.trim().to_string();
            if plan.is_empty() || plan.chars().count() > 32_000 {
                return Err(ApiError::invalid("plan: 1 to 32000 characters"));
            }
            Approval::Approved(plan)
        }
        // No edit: the plan as the Architect wrote it (the waiting turn has it).
        (true, None) => Approval::Approved(String::new()),
        (false, _) => Approval::Rejected(body.reason.trim().chars().take(500).collect()),
    };
    if state.agents.answer_plan(&turn.id, answer) {
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_plan_waiting",
            "no plan of this turn waits for an answer",
        ))
    }
}

/// The agent's model and mode for the project.
#[utoipa::path(get, path = "/api/v1/projects/{id}/agent", tag = "agent",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = AgentSettings), (status = 404, body = ErrorBody)))]
pub async fn agent_settings(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<AgentSettings>> {
    let project = owned(&state, &auth, &id).await?;
    Ok(Json(AgentSettings {
        model: project.agent_model,
        mode: project.agent_mode,
    }))
}

/// Picks the agent's model (one you may use: the local model, or a
/// provider's model the admin allows and you or the admin have a key for)
/// and mode for the project.
#[utoipa::path(put, path = "/api/v1/projects/{id}/agent", tag = "agent", request_body = AgentSettings,
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = AgentSettings), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_agent_settings(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AgentSettings>,
) -> ApiResult<Json<AgentSettings>> {
    let project = owned(&state, &auth, &id).await?;
    let model = body.model.filter(|m| !m.trim().is_empty());
    if let Some(m) = &model {
        // Resolving checks the policy and the key; the local model may be down now and still be chosen.
        match crate::llm::resolve::resolve(&state, auth.user.id, Some(m)).await {
            Ok(_) | Err(crate::llm::LlmError::Unavailable(_)) => {}
            Err(e) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "model_unavailable",
                    e.to_string(),
                ))
            }
        }
    }
    if let Some(m) = &body.mode {
        Mode::parse(m).ok_or_else(|| ApiError::invalid("mode: quick or full"))?;
    }
    let p = projects::set_agent(
        &state.pool,
        auth.user.id,
        &project.id,
        model.as_deref(),
        body.mode.as_deref(),
    )
    .await?;
    Ok(Json(AgentSettings {
        model: p.agent_model,
        mode: p.agent_mode,
    }))
}

/// Stops the thread's running turn: its changes are discarded, the project
/// stays at its last version.
#[utoipa::path(post, path = "/api/v1/projects/{id}/threads/{thread}/stop", tag = "agent",
    params(("id" = String, Path, description = "project id"), ("thread" = String, Path, description = "thread id")),
    responses((status = 202), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn stop(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, thread_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (_, thread) = owned_thread(&state, &auth, &id, &thread_id).await?;
    if state.agents.stop(&thread.id) {
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_turn_running",
            "no turn is running on this thread",
        ))
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

/// Server-sent events of the thread: `turn:start`, `step` (a role's status,
/// time, tokens, output), `plan` (waits for approval), `token` (model text
/// as it is written), `message`, `tool:start`, `tool:end`, `file:updated`,
/// `preview:refresh`, `error:detected`, `editor`, `turn:end`; each with an
/// id to resume from (Last-Event-ID or `after`).
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
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let (kept, rx) = state
        .agents
        .log(&thread.id)
        .since(q.after.or(resume).unwrap_or(0));
    if !q.follow.unwrap_or(true) {
        let events = kept
            .into_iter()
            .map(|(_, e)| EventView {
                id: e.id,
                kind: e.kind.to_string(),
                data: e.data,
            })
            .collect();
        return Ok(Json(EventList { events }).into_response());
    }
    let stream = kept_then_live(kept, rx).map(|(_, e)| {
        Ok::<_, Infallible>(
            Event::default()
                .event(e.kind)
                .id(e.id.to_string())
                .json_data(&e.data)
                .unwrap_or_default(),
        )
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}
