//! The project's files for the workspace editor: the tree of the current
//! version, one file with its blob id, and saves, deletions and renames as
//! one commit each by the signed-in person. A save names the blob it
//! started from, so an edit over someone else's (or the agent's) change is
//! a 409 conflict instead of a lost update. While an agent turn writes the
//! working tree, changes are refused with 409 `agent_running`.

use super::projects::person;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use autocrea_core::gitstore::Content;
use autocrea_core::projects::{self, Project};
use autocrea_wire::files::{FileEntry, FileTree, FileView, RenameFile, SaveFile, Saved};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

/// Largest file the editor saves, in bytes.
const SAVE_MAX: usize = 2 * 1024 * 1024;

async fn owned(state: &AppState, auth: &Auth, id: &str) -> ApiResult<Project> {
    Ok(projects::get(&state.pool, auth.user.id, id).await?)
}

/// Every file of the project's current version.
#[utoipa::path(get, path = "/api/v1/projects/{id}/files", tag = "files",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = FileTree), (status = 404, body = ErrorBody)))]
pub async fn tree(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<FileTree>> {
    let project = owned(&state, &auth, &id).await?;
    let (version, entries) = state.git.all_files(&project.id).await?;
    Ok(Json(FileTree {
        version,
        files: entries
            .into_iter()
            .map(|e| FileEntry {
                path: e.path,
                sha: e.sha,
                size: e.size,
            })
            .collect(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// The file's path in the project, e.g. src/App.tsx.
    pub path: String,
    /// Deleting: the blob id last read.
    pub sha: Option<String>,
    /// Reading: a version (commit sha) or branch; the current version when left out.
    #[serde(rename = "ref")]
    #[param(rename = "ref")]
    pub reference: Option<String>,
}

/// One file of the current version (or of `ref`), as text (null content when binary).
#[utoipa::path(get, path = "/api/v1/projects/{id}/file", tag = "files",
    params(("id" = String, Path, description = "project id"), FileQuery),
    responses((status = 200, body = FileView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<FileQuery>,
) -> ApiResult<Json<FileView>> {
    let project = owned(&state, &auth, &id).await?;
    let (path, reference) = (q.path.clone(), q.reference.clone());
    let (content, version) = state
        .git
        .read(&project.id, reference.as_deref(), &path)
        .await?;
    match content {
        Content::File { entry, data } => Ok(Json(FileView {
            path: entry.path,
            sha: entry.sha,
            size: entry.size,
            version,
            content: String::from_utf8(data).ok(),
        })),
        Content::Dir(_) => Err(ApiError::invalid(format!("{} is a folder", q.path))),
    }
}

/// The agent writes the working tree during a turn: edits wait for its end.
pub(super) fn writer_lock(
    state: &AppState,
    project_id: &str,
) -> ApiResult<autocrea_core::gitstore::WriterLock> {
    state.git.try_lock(project_id).ok_or_else(|| {
        ApiError::new(StatusCode::CONFLICT, "agent_running", "the agent (or another save) is changing this project's files; try again when it is done")
    })
}

/// Saves a file as a new version (creates it when no `sha` is sent).
#[utoipa::path(put, path = "/api/v1/projects/{id}/file", tag = "files", request_body = SaveFile,
    params(("id" = String, Path, description = "project id"), FileQuery),
    responses((status = 200, body = Saved), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn save(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<FileQuery>,
    ApiJson(body): ApiJson<SaveFile>,
) -> ApiResult<Json<Saved>> {
    let project = owned(&state, &auth, &id).await?;
    if body.content.len() > SAVE_MAX {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("a file saved from the editor has at most {SAVE_MAX} bytes"),
        ));
    }
    let verb = if body.sha.is_some() { "Update" } else { "Add" };
    let message = body
        .message
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| format!("{verb} {}", q.path));
    let _lock = writer_lock(&state, &project.id)?;
    let (author, path) = (person(&auth), q.path.clone());
    let pid = project.id.clone();
    let (oid, blob) = state
        .git
        .run(move |git| {
            git.write_file(
                &pid,
                None,
                None,
                &path,
                Some(body.content.as_bytes()),
                body.sha.as_deref(),
                &message,
                &author,
            )
        })
        .await?;
    projects::touch(&state.pool, &project.id).await?;
    Ok(Json(Saved {
        path: q.path,
        sha: blob.map(|b| b.to_string()),
        version: oid.to_string(),
    }))
}

/// Deletes a file as a new version (`sha`: the blob id last read).
#[utoipa::path(delete, path = "/api/v1/projects/{id}/file", tag = "files",
    params(("id" = String, Path, description = "project id"), FileQuery),
    responses((status = 200, body = Saved), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<FileQuery>,
) -> ApiResult<Json<Saved>> {
    let project = owned(&state, &auth, &id).await?;
    let sha = q
        .sha
        .clone()
        .ok_or_else(|| ApiError::invalid("sha: the blob id of the file you delete"))?;
    let _lock = writer_lock(&state, &project.id)?;
    let (author, path) = (person(&auth), q.path.clone());
    let pid = project.id.clone();
    let message = format!("Delete {}", q.path);
    let (oid, _) = state
        .git
        .run(move |git| {
            git.write_file(&pid, None, None, &path, None, Some(&sha), &message, &author)
        })
        .await?;
    projects::touch(&state.pool, &project.id).await?;
    Ok(Json(Saved {
        path: q.path,
        sha: None,
        version: oid.to_string(),
    }))
}

/// Renames (moves) a file as one new version.
#[utoipa::path(post, path = "/api/v1/projects/{id}/file/rename", tag = "files", request_body = RenameFile,
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = Saved), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rename(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RenameFile>,
) -> ApiResult<Json<Saved>> {
    let project = owned(&state, &auth, &id).await?;
    let _lock = writer_lock(&state, &project.id)?;
    let author = person(&auth);
    let pid = project.id.clone();
    let message = format!("Rename {} to {}", body.from, body.to);
    let (from, to, sha) = (body.from.clone(), body.to.clone(), body.sha.clone());
    let (oid, blob) = state
        .git
        .run(move |git| git.rename_file(&pid, &from, &to, &sha, &message, &author))
        .await?;
    projects::touch(&state.pool, &project.id).await?;
    Ok(Json(Saved {
        path: body.to,
        sha: Some(blob.to_string()),
        version: oid.to_string(),
    }))
}
