//! A project's deployments: publish a version, list, one, its build log
//! (SSE, resumable), promote (roll back or forward), delete. The flow
//! itself is core's `publish::Publisher`; this is its HTTP edge.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Auth;
use crate::state::AppState;
use autocrea_core::audit;
use autocrea_core::clock::rfc3339;
use autocrea_core::projects;
use autocrea_core::publish::{store, DeploymentRow};
use autocrea_core::replay::kept_then_live;
use autocrea_wire::publish::{Deployment, DeploymentList, PublishRequest};
use autocrea_wire::sandbox::{LogLine, LogList};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use serde::Deserialize;
use std::convert::Infallible;

/// The API's view of a deployment row.
pub async fn view(
    state: &AppState,
    site: &str,
    live: Option<&str>,
    d: DeploymentRow,
) -> Deployment {
    let runtime = state
        .publisher
        .runtime(&d)
        .await
        .map(|r| r.as_str().to_string());
    Deployment {
        url: state.apps.origin(&format!("{site}-{}", d.short_id)),
        live: live == Some(d.id.as_str()),
        build_ms: match (d.started_at, d.finished_at) {
            (Some(s), Some(f)) => Some((f - s) * 1000),
            _ => None,
        },
        created_at: rfc3339(d.created_at),
        started_at: d.started_at.map(rfc3339),
        finished_at: d.finished_at.map(rfc3339),
        id: d.id,
        project_id: d.project_id,
        version: d.commit_sha,
        message: d.message,
        template: d.template,
        status: d.status,
        error: d.error,
        author: d.author,
        size_bytes: d.size_bytes,
        runtime,
    }
}

/// Publishes a version (the latest when none is given): answers at once
/// with the queued deployment; follow its log or poll it to see it go live.
/// The live deployment keeps serving until the new one has passed its checks.
#[utoipa::path(post, path = "/api/v1/projects/{id}/deployments", tag = "publish", request_body = PublishRequest,
    params(("id" = String, Path, description = "project id")),
    responses((status = 202, body = Deployment), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "a build of this project is running"), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Deployment>)> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    // The body is optional: none publishes the latest version.
    let request: PublishRequest = if body.iter().all(u8::is_ascii_whitespace) {
        PublishRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::invalid(format!("the JSON does not fit: {e}")))?
    };
    let version = request.version;
    let d = state
        .publisher
        .publish(&project, auth.user.id, version.as_deref())
        .await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "project.publish",
        Some(&format!("project:{id}")),
        Some(&format!("deployment {} of {}", d.id, d.commit_sha)),
    )
    .await;
    let site = state.publisher.site(&project).await?;
    let view = view(&state, &site.name, site.live_id.as_deref(), d).await;
    Ok((StatusCode::ACCEPTED, Json(view)))
}

/// Every deployment of the project, newest first.
#[utoipa::path(get, path = "/api/v1/projects/{id}/deployments", tag = "publish",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = DeploymentList), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<DeploymentList>> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    let Some(site) = store::site(&state.pool, &project.id).await? else {
        return Ok(Json(DeploymentList {
            deployments: Vec::new(),
        }));
    };
    let mut deployments = Vec::new();
    for d in store::deployments(&state.pool, &project.id).await? {
        deployments.push(view(&state, &site.name, site.live_id.as_deref(), d).await);
    }
    Ok(Json(DeploymentList { deployments }))
}

async fn one(state: &AppState, auth: &Auth, id: &str, deployment: &str) -> ApiResult<Deployment> {
    let project = projects::get(&state.pool, auth.user.id, id).await?;
    let d = store::deployment(&state.pool, &project.id, deployment).await?;
    let site = state.publisher.site(&project).await?;
    Ok(view(state, &site.name, site.live_id.as_deref(), d).await)
}

#[utoipa::path(get, path = "/api/v1/projects/{id}/deployments/{deployment}", tag = "publish",
    params(("id" = String, Path, description = "project id"), ("deployment" = String, Path, description = "deployment id")),
    responses((status = 200, body = Deployment), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, deployment)): Path<(String, String)>,
) -> ApiResult<Json<Deployment>> {
    Ok(Json(one(&state, &auth, &id, &deployment).await?))
}

/// Makes a built deployment live again without building it (a rollback,
/// or forward again); the one it replaces stays built.
#[utoipa::path(post, path = "/api/v1/projects/{id}/deployments/{deployment}/promote", tag = "publish",
    params(("id" = String, Path, description = "project id"), ("deployment" = String, Path, description = "deployment id")),
    responses((status = 200, body = Deployment), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "not built")))]
pub async fn promote(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, deployment)): Path<(String, String)>,
) -> ApiResult<Json<Deployment>> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    state.publisher.promote(&project.id, &deployment).await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "project.promote",
        Some(&format!("project:{id}")),
        Some(&format!("deployment {deployment}")),
    )
    .await;
    Ok(Json(one(&state, &auth, &id, &deployment).await?))
}

/// Removes a deployment that is neither live nor building.
#[utoipa::path(delete, path = "/api/v1/projects/{id}/deployments/{deployment}", tag = "publish",
    params(("id" = String, Path, description = "project id"), ("deployment" = String, Path, description = "deployment id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "live or building")))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, deployment)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    state.publisher.delete(&project.id, &deployment).await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "project.deployment_delete",
        Some(&format!("project:{id}")),
        Some(&format!("deployment {deployment}")),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// Only lines after this sequence number (resume a stream).
    pub after: Option<u64>,
    /// Keep the stream open while the build runs (default true).
    pub follow: Option<bool>,
}

/// The build's output: kept lines, then, while it builds and with
/// `follow`, a server-sent event stream of `log` events (the id is the
/// line's sequence number, so EventSource resumes) ending with `end`.
#[utoipa::path(get, path = "/api/v1/projects/{id}/deployments/{deployment}/logs", tag = "publish",
    params(("id" = String, Path, description = "project id"), ("deployment" = String, Path, description = "deployment id"), LogParams),
    responses((status = 200, description = "text/event-stream of `log` events then `end`, or JSON with follow=false", body = LogList),
        (status = 404, body = ErrorBody)))]
pub async fn logs(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, deployment)): Path<(String, String)>,
    Query(q): Query<LogParams>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    store::deployment(&state.pool, &project.id, &deployment).await?;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let after = q.after.or(resume).unwrap_or(0);
    let follow = q.follow.unwrap_or(true);
    let live = state.publisher.live_log(&deployment, after);
    let (kept, rx): (Vec<LogLine>, _) = match live {
        Some((kept, rx)) => (kept.into_iter().map(|(_, l)| l).collect(), Some(rx)),
        None => (
            state
                .publisher
                .kept_log(&project.id, &deployment, after)
                .await,
            None,
        ),
    };
    if !follow {
        return Ok(Json(LogList { lines: kept }).into_response());
    }
    let event = |line: &LogLine| {
        Ok::<_, Infallible>(
            Event::default()
                .event("log")
                .id(line.seq.to_string())
                .json_data(line)
                .unwrap_or_else(|_| Event::default()),
        )
    };
    let end = futures_util::stream::once(async {
        Ok::<_, Infallible>(Event::default().event("end").data("{}"))
    });
    let stream = match rx {
        Some(rx) => {
            let keyed: Vec<(u64, LogLine)> = kept.into_iter().map(|l| (l.seq, l)).collect();
            kept_then_live(keyed, rx)
                .map(move |(_, l)| event(&l))
                .chain(end)
                .boxed()
        }
        None => futures_util::stream::iter(kept.iter().map(event).collect::<Vec<_>>())
            .chain(end)
            .boxed(),
    };
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}
