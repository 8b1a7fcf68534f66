//! A project's sandbox: status, start / stop / restart, the dev server's
//! output as a stream, commands, errors, an interactive terminal, and the
//! way into the preview origin.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Admin, ApiJson, Auth};
use crate::state::AppState;
use autocrea_core::projects::{self, Project};
use autocrea_core::replay::kept_then_live;
use autocrea_core::sandbox::{ExecResult, SandboxError, SandboxView};
use autocrea_wire::sandbox::{
    ErrorList, ExecRequest, Health, LogList, PreviewTicket, RunningSandbox, SandboxOverview,
};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

async fn owned(state: &AppState, auth: &Auth, id: &str) -> ApiResult<Project> {
    Ok(projects::get(&state.pool, auth.user.id, id).await?)
}

fn view(state: &AppState, project: &Project) -> SandboxView {
    let mut v = state.sandboxes.view(&project.id, &project.template);
    v.preview_url = Some(format!("{}/", state.preview.origin(&project.id)));
    v
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitParams {
    /// Wait up to this many seconds (at most 120) for the dev server to answer.
    pub wait_secs: Option<u64>,
}

async fn wait(running: &autocrea_core::sandbox::Running, q: &WaitParams) {
    if let Some(secs) = q.wait_secs.filter(|s| *s > 0) {
        running.wait_ready(Duration::from_secs(secs.min(120))).await;
    }
}

/// The sandbox's state: stopped, starting, ready, crashed or failed, with restarts and timing.
#[utoipa::path(get, path = "/api/v1/projects/{id}/sandbox", tag = "sandbox",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = SandboxView), (status = 404, body = ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<SandboxView>> {
    let project = owned(&state, &auth, &id).await?;
    if let Some(r) = state.sandboxes.running(&id) {
        r.touch();
    }
    Ok(Json(view(&state, &project)))
}

/// Starts the sandbox (from the warm pool when one waits); a running one is left as it is.
#[utoipa::path(post, path = "/api/v1/projects/{id}/sandbox/start", tag = "sandbox",
    params(("id" = String, Path, description = "project id"), WaitParams),
    responses((status = 200, body = SandboxView), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<WaitParams>,
) -> ApiResult<Json<SandboxView>> {
    let project = owned(&state, &auth, &id).await?;
    let running = state.sandboxes.start(&id, &project.template).await?;
    wait(&running, &q).await;
    Ok(Json(view(&state, &project)))
}

/// Stops the sandbox and removes its container; the project's files stay.
#[utoipa::path(post, path = "/api/v1/projects/{id}/sandbox/stop", tag = "sandbox",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = SandboxView), (status = 404, body = ErrorBody)))]
pub async fn stop(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<SandboxView>> {
    let project = owned(&state, &auth, &id).await?;
    state.sandboxes.stop(&id).await?;
    Ok(Json(view(&state, &project)))
}

/// A fresh container for the project.
#[utoipa::path(post, path = "/api/v1/projects/{id}/sandbox/restart", tag = "sandbox",
    params(("id" = String, Path, description = "project id"), WaitParams),
    responses((status = 200, body = SandboxView), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn restart(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<WaitParams>,
) -> ApiResult<Json<SandboxView>> {
    let project = owned(&state, &auth, &id).await?;
    state.sandboxes.stop(&id).await?;
    let running = state.sandboxes.start(&id, &project.template).await?;
    wait(&running, &q).await;
    Ok(Json(view(&state, &project)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// Only lines after this sequence number (resume a stream).
    pub after: Option<u64>,
    /// Keep the stream open and send new lines as they come (default true).
    pub follow: Option<bool>,
}

/// The dev server's output: kept lines, then (with `follow`) a server-sent
/// event stream of `log` events whose id is the line's sequence number.
#[utoipa::path(get, path = "/api/v1/projects/{id}/sandbox/logs", tag = "sandbox",
    params(("id" = String, Path, description = "project id"), LogParams),
    responses((status = 200, description = "text/event-stream of `log` events, or JSON with follow=false", body = LogList),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn logs(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<LogParams>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    owned(&state, &auth, &id).await?;
    let follow = q.follow.unwrap_or(true);
    let Some(running) = state.sandboxes.running(&id) else {
        // A stopped sandbox has no output (its container is gone); only a
        // stream of what comes next needs one.
        return match follow {
            true => Err(SandboxError::NotRunning.into()),
            false => Ok(Json(LogList { lines: Vec::new() }).into_response()),
        };
    };
    running.touch();
    // EventSource resumes with Last-Event-ID.
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let (kept, rx) = running.logs.since(q.after.or(resume).unwrap_or(0));
    if !follow {
        return Ok(Json(LogList {
            lines: kept.into_iter().map(|(_, l)| l).collect(),
        })
        .into_response());
    }
    let events = kept_then_live(kept, rx).map(|(_, line)| {
        Ok::<_, Infallible>(
            Event::default()
                .event("log")
                .id(line.seq.to_string())
                .json_data(&line)
                .unwrap_or_else(|_| Event::default()),
        )
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// Runs a command in the project's sandbox (starting it if needed) under the
/// command policy, with a timeout and an output cap.
#[utoipa::path(post, path = "/api/v1/projects/{id}/sandbox/exec", tag = "sandbox", request_body = ExecRequest,
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = ExecResult), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn exec(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ExecRequest>,
) -> ApiResult<Json<ExecResult>> {
    let project = owned(&state, &auth, &id).await?;
    let result = state
        .sandboxes
        .exec(&id, &project.template, &body.command, body.timeout_secs)
        .await?;
    Ok(Json(result))
}

/// Errors known now: the last check run, the dev server's output since it
/// last started, and the browser console of the preview.
#[utoipa::path(get, path = "/api/v1/projects/{id}/sandbox/errors", tag = "sandbox",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = ErrorList), (status = 404, body = ErrorBody)))]
pub async fn errors(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ErrorList>> {
    owned(&state, &auth, &id).await?;
    Ok(Json(ErrorList {
        errors: state.sandboxes.known_errors(&id),
    }))
}

/// `check_for_errors`: runs the template's build, lint and type-check in the
/// sandbox and returns what they found with the dev-server and browser errors.
#[utoipa::path(post, path = "/api/v1/projects/{id}/sandbox/errors", tag = "sandbox",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = ErrorList), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn check(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ErrorList>> {
    let project = owned(&state, &auth, &id).await?;
    let errors = state
        .sandboxes
        .check_for_errors(&id, &project.template)
        .await?;
    Ok(Json(ErrorList { errors }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OpenParams {
    /// Path on the preview to land on (default `/`).
    pub next: Option<String>,
}

/// Opens the preview: redirects to the preview origin with a one-time
/// ticket that becomes a cookie of that origin only.
#[utoipa::path(get, path = "/api/v1/projects/{id}/preview/open", tag = "sandbox",
    params(("id" = String, Path, description = "project id"), OpenParams),
    responses((status = 303, description = "to the preview origin"), (status = 404, body = ErrorBody)))]
pub async fn open_preview(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<OpenParams>,
) -> ApiResult<Response> {
    owned(&state, &auth, &id).await?;
    let ticket = state.preview.mint_ticket(auth.user.id, &id);
    let next = q
        .next
        .filter(|n| crate::preview::is_local_path(n))
        .unwrap_or_else(|| "/".into());
    let url = state.preview.entry_url(&id, &ticket, &next);
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response())
}

/// A one-time preview entry URL, for clients that follow redirects themselves.
#[utoipa::path(post, path = "/api/v1/projects/{id}/preview/ticket", tag = "sandbox",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = PreviewTicket), (status = 404, body = ErrorBody)))]
pub async fn preview_ticket(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<PreviewTicket>> {
    owned(&state, &auth, &id).await?;
    let ticket = state.preview.mint_ticket(auth.user.id, &id);
    Ok(Json(PreviewTicket {
        url: state.preview.entry_url(&id, &ticket, "/"),
    }))
}

/// An interactive shell in the sandbox over a WebSocket: binary or text
/// frames are keystrokes, binary frames back are terminal output, and a text
/// frame `{"resize":[cols,rows]}` resizes the terminal. A shell changes
/// things: it needs a token with a write scope, or the session cookie from
/// a page of the console's own origin.
#[utoipa::path(get, path = "/api/v1/projects/{id}/sandbox/terminal", tag = "sandbox",
    params(("id" = String, Path, description = "project id")),
    responses((status = 101, description = "WebSocket"), (status = 400, body = ErrorBody, description = "not a WebSocket handshake"),
        (status = 403, body = ErrorBody, description = "a read-only token, or a cookie sent from another origin"), (status = 404, body = ErrorBody)))]
pub async fn terminal(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let project = owned(&state, &auth, &id).await?;
    let ws = ws.map_err(|e| ApiError::invalid(format!("open this route as a WebSocket ({e})")))?;
    // Before the shell starts: nothing runs for a caller who may not drive it.
    crate::extract::authorize_upgrade(&auth, &headers, &state)?;
    let (term, running) = state.sandboxes.terminal(&id, &project.template).await?;
    let sandboxes = state.sandboxes.clone();
    Ok(ws.on_upgrade(move |socket| pump_terminal(socket, term, running, sandboxes)))
}

#[derive(Deserialize)]
struct Resize {
    resize: (u16, u16),
}

async fn pump_terminal(
    socket: WebSocket,
    term: autocrea_core::sandbox::Terminal,
    running: std::sync::Arc<autocrea_core::sandbox::Running>,
    sandboxes: std::sync::Arc<autocrea_core::sandbox::Sandboxes>,
) {
    let (mut ws_tx, mut ws_rx) = socket.split();
    let autocrea_core::sandbox::Terminal {
        exec_id,
        mut output,
        mut input,
    } = term;
    let out = async {
        while let Some(Ok(chunk)) = output.next().await {
            running.touch();
            if futures_util::SinkExt::send(&mut ws_tx, Message::Binary(chunk.into_bytes()))
                .await
                .is_err()
            {
                break;
            }
        }
        let _ = futures_util::SinkExt::close(&mut ws_tx).await;
    };
    let inp = async {
        while let Some(Ok(msg)) = ws_rx.next().await {
            let bytes = match msg {
                Message::Text(t) => {
                    if let Ok(Resize {
                        resize: (cols, rows),
                    }) = serde_json::from_str::<Resize>(&t)
                    {
                        let _ = sandboxes.resize_terminal(&exec_id, cols, rows).await;
                        continue;
                    }
                    t.as_bytes().to_vec()
                }
                Message::Binary(b) => b.to_vec(),
                Message::Close(_) => break,
                _ => continue,
            };
            if input.write_all(&bytes).await.is_err() {
                break;
            }
            let _ = input.flush().await;
        }
        // Closing the shell's input ends it.
        let _ = input.shutdown().await;
    };
    tokio::select! { _ = out => {}, _ = inp => {} }
}

fn health(r: Result<(), String>) -> Health {
    Health {
        ok: r.is_ok(),
        message: r.err(),
    }
}

/// Every running sandbox, the warm pool and the engine's health (admins).
#[utoipa::path(get, path = "/api/v1/admin/sandboxes", tag = "admin",
    responses((status = 200, body = SandboxOverview), (status = 403, body = ErrorBody)))]
pub async fn overview(
    State(state): State<AppState>,
    _admin: Admin,
) -> ApiResult<Json<SandboxOverview>> {
    let sandboxes = &state.sandboxes;
    let engine = sandboxes.engine_health().await;
    let running = sandboxes
        .running_projects()
        .into_iter()
        .map(|(project_id, template)| RunningSandbox {
            sandbox: sandboxes.view(&project_id, &template),
            project_id,
        })
        .collect();
    Ok(Json(SandboxOverview {
        enabled: sandboxes.config().enabled,
        instance: sandboxes.instance().to_string(),
        engine: health(engine),
        host_guard: sandboxes.host_guard().map(health),
        warm: sandboxes.warm_counts(),
        running,
    }))
}
