//! `/user`, `/user/repos`, `/users/{u}/repos`, `/repos/{o}/{r}`: repositories
//! are projects, and the reverse.

use super::types::{self, RepoFacts};
use super::{base_url, owned_repo, paging_headers, Caller, GiteaError, GiteaResult, Paging};
use crate::state::AppState;
use autocrea_core::accounts::{users, User};
use autocrea_core::audit;
use autocrea_core::gitstore::{validate_branch_name, Author, GitStore, DEFAULT_BRANCH};
use autocrea_core::projects::{self, ListQuery, Project, SortKey, SortOrder};
use autocrea_core::text;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

pub async fn current_user(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Json<Value> {
    Json(types::user(&caller.user, &base_url(&headers, &state)))
}

fn facts(git: &GitStore, project_id: &str) -> RepoFacts {
    let empty = git.is_empty(project_id).unwrap_or(true);
    // HEAD names the default branch even before its first commit.
    let default_branch = git
        .current_branch(project_id)
        .unwrap_or_else(|_| DEFAULT_BRANCH.into());
    RepoFacts {
        empty,
        default_branch,
        size_kib: git.size_kib(project_id),
    }
}

pub async fn repo_json(
    state: &AppState,
    project: &Project,
    owner: &User,
    base: &str,
) -> GiteaResult<Value> {
    let id = project.id.clone();
    let facts = state.git.run(move |git| Ok(facts(git, &id))).await?;
    Ok(types::repository(project, owner, &facts, base))
}

async fn list_of(
    state: &AppState,
    owner: &User,
    paging: &Paging,
    headers: &HeaderMap,
    path: &str,
) -> GiteaResult<Response> {
    let base = base_url(headers, state);
    let all = projects::list(
        &state.pool,
        owner.id,
        &ListQuery {
            search: None,
            sort: SortKey::Name,
            order: SortOrder::Asc,
        },
    )
    .await?;
    let mut items = Vec::new();
    for p in paging.slice(&all) {
        items.push(repo_json(state, &p, owner, &base).await?);
    }
    Ok((
        paging_headers(all.len(), paging, &format!("{base}/git/api/v1{path}")),
        Json(items),
    )
        .into_response())
}

pub async fn list_mine(
    State(state): State<AppState>,
    caller: Caller,
    Query(paging): Query<Paging>,
    headers: HeaderMap,
) -> GiteaResult<Response> {
    list_of(&state, &caller.user, &paging, &headers, "/user/repos").await
}

/// Another user's repositories are all private: an empty list. An unknown user is 404.
pub async fn list_for_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
    Query(paging): Query<Paging>,
    headers: HeaderMap,
) -> GiteaResult<Response> {
    if caller.user.username.eq_ignore_ascii_case(&username) {
        return list_of(
            &state,
            &caller.user,
            &paging,
            &headers,
            &format!("/users/{username}/repos"),
        )
        .await;
    }
    if users::find_by_username(&state.pool, &username)
        .await?
        .is_none()
    {
        return Err(GiteaError::not_found());
    }
    Ok((paging_headers(0, &paging, ""), Json(Vec::<Value>::new())).into_response())
}

#[derive(Deserialize)]
pub struct CreateRepoOption {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Start with the static template's files; otherwise the repository is
    /// empty. (`private` is accepted and ignored: every project is private.)
    #[serde(default)]
    pub auto_init: bool,
    #[serde(default)]
    pub default_branch: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Json<CreateRepoOption>, axum::extract::rejection::JsonRejection>,
) -> GiteaResult<(StatusCode, Json<Value>)> {
    let Json(body) = body.map_err(|e| GiteaError::unprocessable(e.body_text()))?;
    // The client's branch name is the project's default branch (Gitea's own
    // default when none is given is `main`, as here).
    let branch = body
        .default_branch
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .unwrap_or(DEFAULT_BRANCH)
        .to_string();
    validate_branch_name(&branch)
        .map_err(|e| GiteaError::unprocessable(format!("default_branch: {e}")))?;
    let name = body.name.trim();
    let valid = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !name.starts_with('.');
    if !valid {
        return Err(GiteaError::unprocessable(
            "name: only letters, digits, '-', '_' and '.' are allowed, up to 100 characters",
        ));
    }
    let slug = text::slug(name, "", 48);
    if slug.is_empty()
        || projects::find_by_slug(&state.pool, caller.user.id, &slug)
            .await
            .is_ok()
    {
        return Err(GiteaError::new(
            StatusCode::CONFLICT,
            "The repository with the same name already exists.",
        ));
    }
    let project = projects::create(
        &state.pool,
        caller.user.id,
        name,
        &body.description,
        "static",
    )
    .await?;
    let (id, auto_init) = (project.id.clone(), body.auto_init);
    let author = Author {
        name: caller.user.name.clone(),
        email: caller.user.email.clone(),
    };
    let made = state
        .git
        .run(move |git| {
            if auto_init {
                git.create_on(&id, "static", &author, &branch).map(|_| ())
            } else {
                git.create_empty(&id, &branch)
            }
        })
        .await;
    if let Err(e) = made {
        let _ = projects::delete(&state.pool, caller.user.id, &project.id).await;
        return Err(e.into());
    }
    let actor = audit::Actor {
        user_id: Some(caller.user.id),
        label: Some(caller.user.email.clone()),
        ip: None,
    };
    audit::record(
        &state.pool,
        &actor,
        "project.create",
        Some(&format!("project:{}", project.id)),
        Some("gitea api"),
    )
    .await;
    let base = base_url(&headers, &state);
    Ok((
        StatusCode::CREATED,
        Json(repo_json(&state, &project, &caller.user, &base).await?),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
) -> GiteaResult<Json<Value>> {
    let project = owned_repo(&state, &caller, &owner, &repo).await?;
    Ok(Json(
        repo_json(&state, &project, &caller.user, &base_url(&headers, &state)).await?,
    ))
}

#[derive(Deserialize)]
pub struct EditRepoOption {
    pub name: Option<String>,
    pub description: Option<String>,
    pub default_branch: Option<String>,
}

pub async fn edit(
    State(state): State<AppState>,
    caller: Caller,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Json<EditRepoOption>, axum::extract::rejection::JsonRejection>,
) -> GiteaResult<Json<Value>> {
    let Json(body) = body.map_err(|e| GiteaError::unprocessable(e.body_text()))?;
    let project = owned_repo(&state, &caller, &owner, &repo).await?;
    if let Some(name) = &body.name {
        let slug = text::slug(name, "", 48);
        if slug != project.slug
            && projects::find_by_slug(&state.pool, caller.user.id, &slug)
                .await
                .is_ok()
        {
            return Err(GiteaError::new(
                StatusCode::CONFLICT,
                "The repository with the same name already exists.",
            ));
        }
    }
    if let Some(branch) = body.default_branch.clone() {
        let _lock = state.git.lock(&project.id).await;
        state.git.switch_branch(&project.id, &branch).await?;
    }
    let project = projects::update(
        &state.pool,
        caller.user.id,
        &project.id,
        body.name.as_deref(),
        body.description.as_deref(),
    )
    .await?;
    Ok(Json(
        repo_json(&state, &project, &caller.user, &base_url(&headers, &state)).await?,
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((owner, repo)): Path<(String, String)>,
) -> GiteaResult<StatusCode> {
    let project = owned_repo(&state, &caller, &owner, &repo).await?;
    let _lock = state.git.lock(&project.id).await;
    projects::delete(&state.pool, caller.user.id, &project.id).await?;
    if let Err(e) = state.git.delete(&project.id).await {
        tracing::warn!(error = ?e, "repository left behind; removed at the next start");
    }
    Ok(StatusCode::NO_CONTENT)
}
