//! Branches and commits.

use super::types;
use super::{base_url, owned_repo, paging_headers, Caller, GiteaError, GiteaResult, Paging};
use crate::state::AppState;
use autocrea_core::gitstore::validate_path;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

fn repo_url(
    headers: &HeaderMap,
    state: &AppState,
    owner: &str,
    slug: &str,
) -> (String, String, String) {
    let base = base_url(headers, state);
    let full = format!("{owner}/{slug}");
    (format!("{base}/git/api/v1/repos/{full}"), base, full)
}

pub async fn branches(
    State(state): State<AppState>,
    caller: Caller,
    Path((owner, repo)): Path<(String, String)>,
    Query(paging): Query<Paging>,
    headers: HeaderMap,
) -> GiteaResult<Response> {
    let project = owned_repo(&state, &caller, &owner, &repo).await?;
    let (url, _, _) = repo_url(&headers, &state, &caller.user.username, &project.slug);
    let all = all_branches(&state, &project.id).await?;
    let mut sorted = all.clone();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let items: Vec<Value> = paging
        .slice(&sorted)
        .iter()
        .map(|b| types::branch(&b.name, &b.head, &url))
        .collect();
    Ok((
        paging_headers(sorted.len(), &paging, &format!("{url}/branches")),
        Json(items),
    )
        .into_response())
}

pub async fn branch(
    State(state): State<AppState>,
    caller: Caller,
    Path((owner, repo, name)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> GiteaResult<Json<Value>> {
    let project = owned_repo(&state, &caller, &owner, &repo).await?;
    let (url, _, _) = repo_url(&headers, &state, &caller.user.username, &project.slug);
    let all = all_branches(&state, &project.id).await?;
    let b = all
        .into_iter()
        .find(|b| b.name == name)
        .ok_or_else(GiteaError::not_found)?;
    Ok(Json(types::branch(&b.name, &b.head, &url)))
}

#[derive(Deserialize)]
pub struct CreateBranchOption {
    pub new_branch_name: String,
    pub old_branch_name: Option<String>,
    pub old_ref_name: Option<String>,
}

pub async fn create_branch(
    State(state): State<AppState>,
    caller: Caller,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Json<CreateBranchOption>, axum::extract::rejection::JsonRejection>,
) -> GiteaResult<(StatusCode, Json<Value>)> {
    let Json(body) = body.map_err(|e| GiteaError::unprocessable(e.body_text()))?;
    let project = owned_repo(&state, &caller, &owner, &repo).await?;
    let (url, _, _) = repo_url(&headers, &state, &caller.user.username, &project.slug);
    let _lock = state.git.lock(&project.id).await;
    let id = project.id.clone();
    let branch = state
        .git
        .run(move |git| {
            let from = body.old_ref_name.or(body.old_branch_name);
            let start = match from {
                Some(r) => {
                    let repo = git.open(&id)?;
                    let sha = autocrea_core::gitstore::resolve_ref(
                        &repo,
                        r.trim_start_matches("refs/heads/"),
                    )?
                    .id()
                    .to_string();
                    Some(sha)
                }
                None => None,
            };
            git.create_branch(&id, &body.new_branch_name, start.as_deref())
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(types::branch(&branch.name, &branch.head, &url)),
    ))
}

pub async fn delete_branch(
    State(state): State<AppState>,
    caller: Caller,
    Path((owner, repo, name)): Path<(String, String, String)>,
) -> GiteaResult<StatusCode> {
    let project = owned_repo(&state, &caller, &owner, &repo).await?;
    let _lock = state.git.lock(&project.id).await;
    state.git.delete_branch(&project.id, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct CommitsQuery {
    /// A branch, tag or commit to start from (the default branch otherwise).
    pub sha: Option<String>,
    /// Only commits that changed this file or folder.
    pub path: Option<String>,
    pub page: Option<usize>,
    pub limit: Option<usize>,
}

pub async fn commits(
    State(state): State<AppState>,
    caller: Caller,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<CommitsQuery>,
    headers: HeaderMap,
) -> GiteaResult<Response> {
    let project = owned_repo(&state, &caller, &owner, &repo).await?;
    let (url, base, full) = repo_url(&headers, &state, &caller.user.username, &project.slug);
    let paging = Paging {
        page: q.page,
        limit: q.limit,
    };
    let path = match q.path.as_deref() {
        Some(p) => Some(validate_path(p).map_err(GiteaError::from)?).filter(|p| !p.is_empty()),
        None => None,
    };
    let id = project.id.clone();
    let (skip, limit) = ((paging.page() - 1) * paging.limit(), paging.limit());
    let found = state
        .git
        .run(move |git| {
            if git.is_empty(&id)? {
                return Ok(None);
            }
            let reference = match q.sha {
                Some(s) => s,
                None => git.current_branch(&id)?,
            };
            git.history_of(&id, &reference, path.as_deref(), skip, limit)
                .map(Some)
        })
        .await?;
    let Some((versions, total)) = found else {
        return Err(GiteaError::new(
            StatusCode::CONFLICT,
            "Git Repository is empty.",
        ));
    };
    let items: Vec<Value> = versions
        .iter()
        .map(|v| types::commit(v, &url, &base, &full))
        .collect();
    Ok((
        paging_headers(total, &paging, &format!("{url}/commits")),
        Json(items),
    )
        .into_response())
}

pub async fn commit(
    State(state): State<AppState>,
    caller: Caller,
    Path((owner, repo, sha)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> GiteaResult<Json<Value>> {
    let project = owned_repo(&state, &caller, &owner, &repo).await?;
    let (url, base, full) = repo_url(&headers, &state, &caller.user.username, &project.slug);
    let id = project.id.clone();
    let version = state
        .git
        .run(move |git| {
            let repo = git.open(&id)?;
            let oid = autocrea_core::gitstore::resolve_ref(&repo, &sha)?
                .id()
                .to_string();
            git.version(&id, &oid)
        })
        .await?;
    Ok(Json(types::commit(&version, &url, &base, &full)))
}

/// Every branch; none for an empty repository.
async fn all_branches(
    state: &AppState,
    project_id: &str,
) -> GiteaResult<Vec<autocrea_core::gitstore::Branch>> {
    let id = project_id.to_string();
    let branches = state
        .git
        .run(move |git| {
            if git.is_empty(&id)? {
                Ok(Vec::new())
            } else {
                git.branches(&id)
            }
        })
        .await?;
    Ok(branches)
}
