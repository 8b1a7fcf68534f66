//! A project's external git remote: link, push now, pull now, the webhook
//! secret, and the webhook itself. The flow is core's `remote::Remotes`;
//! this is its HTTP edge. Ownership is checked through `projects::get`
//! (another user's project is 404, like everywhere else).

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use autocrea_core::audit;
use autocrea_core::projects;
use autocrea_core::remote::{PullResult, RemoteLink, RemoteRequest, RemoteView, WebhookAccepted};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;

/// Largest webhook delivery accepted. GitHub caps payloads at 25 MB, but a
/// push event's `ref` is all we read, and the body is unauthenticated
/// until its signature checks.
pub const WEBHOOK_BODY_MAX: usize = 2 * 1024 * 1024;

/// The project's link, or `{"remote": null}`.
#[utoipa::path(get, path = "/api/v1/projects/{id}/remote", tag = "remote",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = RemoteLink), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<RemoteLink>> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    Ok(Json(RemoteLink {
        remote: state.remotes.get(&project.id).await?,
    }))
}

/// Links the project to a remote, or changes the link. The token is
/// stored encrypted and never returned (only its last four characters).
/// A new link's answer carries the webhook secret, once.
#[utoipa::path(put, path = "/api/v1/projects/{id}/remote", tag = "remote", request_body = RemoteRequest,
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = RemoteView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RemoteRequest>,
) -> ApiResult<Json<RemoteView>> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    let view = state.remotes.link(&project.id, &body).await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "project.remote.link",
        Some(&format!("project:{id}")),
        Some(&format!("{} (push mirror {})", view.url, view.push_mirror)),
    )
    .await;
    Ok(Json(view))
}

/// Unlinks the project: the token and secret are deleted; the project's
/// versions stay.
#[utoipa::path(delete, path = "/api/v1/projects/{id}/remote", tag = "remote",
    params(("id" = String, Path, description = "project id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    state.remotes.unlink(&project.id).await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "project.remote.unlink",
        Some(&format!("project:{id}")),
        None,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Pushes the default branch now (never forced). 409 `remote_has_changes`
/// when the remote has commits this project lacks: pull first.
#[utoipa::path(post, path = "/api/v1/projects/{id}/remote/push", tag = "remote",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = RemoteView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the remote has changes this project lacks"),
        (status = 502, body = ErrorBody, description = "the remote failed or cannot be reached")))]
pub async fn push(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<RemoteView>> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    Ok(Json(state.remotes.push(&project.id).await?))
}

/// Pulls the remote's branch now: a fast-forward or a clean merge becomes
/// versions here; a conflict changes nothing and is described in the
/// answer (`outcome: conflict`, `remote.conflict`).
#[utoipa::path(post, path = "/api/v1/projects/{id}/remote/pull", tag = "remote",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = PullResult), (status = 404, body = ErrorBody),
        (status = 502, body = ErrorBody, description = "the remote failed or cannot be reached")))]
pub async fn pull(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<PullResult>> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    let result = state.remotes.pull(&project.id).await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "project.remote.pull",
        Some(&format!("project:{id}")),
        Some(result.outcome.as_str()),
    )
    .await;
    Ok(Json(result))
}

/// A new webhook secret, in this answer only; the old one stops working.
#[utoipa::path(post, path = "/api/v1/projects/{id}/remote/webhook-secret", tag = "remote",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = RemoteView), (status = 404, body = ErrorBody)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<RemoteView>> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    let view = state.remotes.rotate_secret(&project.id).await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "project.remote.rotate_secret",
        Some(&format!("project:{id}")),
        None,
    )
    .await;
    Ok(Json(view))
}

/// The remote's push webhook (GitHub or Gitea; content type
/// application/json). No session: the delivery is signed with the
/// project's webhook secret (`X-Hub-Signature-256: sha256=<hex>` or
/// `X-Gitea-Signature: <hex>`, HMAC-SHA256 of the body). 401 when it does
/// not check (or the project has no link). A push to the followed branch
/// answers 202 at once and pulls in the background.
#[utoipa::path(post, path = "/api/v1/hooks/remote/{id}", tag = "remote", security(()),
    request_body(content = String, content_type = "application/json", description = "the push event, as the remote sends it"),
    params(("id" = String, Path, description = "project id")),
    responses((status = 202, body = WebhookAccepted), (status = 401, body = ErrorBody),
        (status = 413, description = "the body is too large")))]
pub async fn webhook(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<WebhookAccepted>)> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let accepted = state
        .remotes
        .webhook(
            &id,
            &body,
            header("x-hub-signature-256"),
            header("x-gitea-signature"),
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}
