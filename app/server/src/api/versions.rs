//! The version timeline of a project: history, diffs, revert, branches.

use super::projects::person;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use autocrea_core::audit;
use autocrea_core::gitstore::{Branch, Version};
use autocrea_core::projects;
use autocrea_wire::versions::{
    BranchList, Diff, History, NewBranch, PreviewVersion, Previewing, SwitchBranch,
};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// A branch name; the current branch when left out.
    pub branch: Option<String>,
    /// 1-based page (default 1).
    pub page: Option<usize>,
    /// Versions per page (1 to 100, default 30).
    pub limit: Option<usize>,
}

/// Checks the caller owns the project (404 otherwise) and returns its id.
async fn owned(state: &AppState, auth: &Auth, id: &str) -> ApiResult<String> {
    Ok(projects::get(&state.pool, auth.user.id, id).await?.id)
}

/// Every commit of a branch, newest first, with author, message, time and files changed.
#[utoipa::path(get, path = "/api/v1/projects/{id}/versions", tag = "versions",
    params(("id" = String, Path, description = "project id"), HistoryParams),
    responses((status = 200, body = History), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(p): Query<HistoryParams>,
) -> ApiResult<Json<History>> {
    let id = owned(&state, &auth, &id).await?;
    let limit = p.limit.unwrap_or(30).clamp(1, 100);
    let page = p.page.unwrap_or(1).max(1);
    let (branch, (versions, total)) = state
        .git
        .run(move |git| {
            let branch = match p.branch {
                Some(b) => b,
                None => git.current_branch(&id)?,
            };
            let history = git.history(&id, Some(&branch), (page - 1) * limit, limit)?;
            Ok((branch, history))
        })
        .await?;
    Ok(Json(History {
        branch,
        versions,
        total,
        page,
        limit,
    }))
}

/// One version.
#[utoipa::path(get, path = "/api/v1/projects/{id}/versions/{sha}", tag = "versions",
    params(("id" = String, Path, description = "project id"), ("sha" = String, Path, description = "full version id")),
    responses((status = 200, body = Version), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, sha)): Path<(String, String)>,
) -> ApiResult<Json<Version>> {
    let id = owned(&state, &auth, &id).await?;
    Ok(Json(state.git.version(&id, &sha).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffParams {
    /// The older version.
    pub from: String,
    /// The newer version.
    pub to: String,
}

/// Unified diffs, per file, between any two versions.
#[utoipa::path(get, path = "/api/v1/projects/{id}/diff", tag = "versions",
    params(("id" = String, Path, description = "project id"), DiffParams),
    responses((status = 200, body = Diff), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn diff(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(p): Query<DiffParams>,
) -> ApiResult<Json<Diff>> {
    let id = owned(&state, &auth, &id).await?;
    let (from, to) = (p.from.clone(), p.to.clone());
    let files = state.git.diff(&id, &p.from, &p.to).await?;
    Ok(Json(Diff { from, to, files }))
}

/// Restores the files of a version as a new commit on the current branch.
#[utoipa::path(post, path = "/api/v1/projects/{id}/versions/{sha}/revert", tag = "versions",
    params(("id" = String, Path, description = "project id"), ("sha" = String, Path, description = "full version id")),
    responses((status = 201, body = Version, description = "the new version"), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the files already match")))]
pub async fn revert(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, sha)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Version>)> {
    let id = owned(&state, &auth, &id).await?;
    let _lock = state.git.lock(&id).await;
    let version = state.git.restore(&id, &sha, &person(&auth)).await?;
    projects::touch(&state.pool, &id).await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "project.revert",
        Some(&format!("project:{id}")),
        Some(&format!("to {sha}")),
    )
    .await;
    Ok((StatusCode::CREATED, Json(version)))
}

/// Branches, the current one first.
#[utoipa::path(get, path = "/api/v1/projects/{id}/branches", tag = "versions",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = BranchList), (status = 404, body = ErrorBody)))]
pub async fn branches(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<BranchList>> {
    let id = owned(&state, &auth, &id).await?;
    Ok(Json(BranchList {
        branches: state.git.branches(&id).await?,
    }))
}

/// Creates a branch.
#[utoipa::path(post, path = "/api/v1/projects/{id}/branches", tag = "versions", request_body = NewBranch,
    params(("id" = String, Path, description = "project id")),
    responses((status = 201, body = Branch), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_branch(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewBranch>,
) -> ApiResult<(StatusCode, Json<Branch>)> {
    let id = owned(&state, &auth, &id).await?;
    let _lock = state.git.lock(&id).await;
    let name = body.name.clone();
    let branch = state
        .git
        .create_branch(&id, &body.name, body.from.as_deref())
        .await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "branch.create",
        Some(&format!("project:{id}")),
        Some(&name),
    )
    .await;
    Ok((StatusCode::CREATED, Json(branch)))
}

/// Makes another branch current; the working tree follows it.
#[utoipa::path(post, path = "/api/v1/projects/{id}/branches/switch", tag = "versions", request_body = SwitchBranch,
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = BranchList), (status = 404, body = ErrorBody)))]
pub async fn switch_branch(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SwitchBranch>,
) -> ApiResult<Json<BranchList>> {
    let id = owned(&state, &auth, &id).await?;
    let _lock = state.git.lock(&id).await;
    let (pid, name) = (id.clone(), body.name.clone());
    let branches = state
        .git
        .run(move |git| {
            git.switch_branch(&pid, &body.name)?;
            git.branches(&pid)
        })
        .await?;
    projects::touch(&state.pool, &id).await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "branch.switch",
        Some(&format!("project:{id}")),
        Some(&name),
    )
    .await;
    Ok(Json(BranchList { branches }))
}

/// Deletes a branch (not the current one).
#[utoipa::path(delete, path = "/api/v1/projects/{id}/branches/{name}", tag = "versions",
    params(("id" = String, Path, description = "project id"), ("name" = String, Path, description = "branch name")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_branch(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id = owned(&state, &auth, &id).await?;
    let _lock = state.git.lock(&id).await;
    state.git.delete_branch(&id, &name).await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "branch.delete",
        Some(&format!("project:{id}")),
        Some(&name),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Which version the preview shows (null: the latest).
#[utoipa::path(get, path = "/api/v1/projects/{id}/preview-version", tag = "versions",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = Previewing), (status = 404, body = ErrorBody)))]
pub async fn previewing(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Previewing>> {
    let id = owned(&state, &auth, &id).await?;
    let version = state
        .git
        .run(move |git| {
            git.pinned(&id)
                .map(|sha| git.version(&id, &sha))
                .transpose()
        })
        .await?;
    Ok(Json(Previewing { version }))
}

/// Shows an earlier version in the preview without changing the history.
/// The next change (a save, an agent turn, a push, a revert) brings the
/// latest back first; so does DELETE.
#[utoipa::path(put, path = "/api/v1/projects/{id}/preview-version", tag = "versions", request_body = PreviewVersion,
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = Previewing), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "an agent turn or a save is changing the files")))]
pub async fn preview_version(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PreviewVersion>,
) -> ApiResult<Json<Previewing>> {
    let id = owned(&state, &auth, &id).await?;
    let lock = super::files::writer_lock(&state, &id)?;
    let version = state
        .git
        .run(move |git| {
            let sha = git.pin_version(&id, &body.sha, lock)?;
            git.version(&id, &sha)
        })
        .await?;
    Ok(Json(Previewing {
        version: Some(version),
    }))
}

/// Brings the latest version back into the preview.
#[utoipa::path(delete, path = "/api/v1/projects/{id}/preview-version", tag = "versions",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = Previewing), (status = 404, body = ErrorBody)))]
pub async fn preview_latest(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Previewing>> {
    let id = owned(&state, &auth, &id).await?;
    state.git.unpin(&id).await?;
    Ok(Json(Previewing { version: None }))
}
