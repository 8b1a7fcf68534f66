//! The contents API: read a file or folder at a ref; create, update and
//! delete a file, each as one commit.

use super::types;
use super::{base_url, owned_repo, Caller, GiteaError, GiteaResult};
use crate::state::AppState;
use autocrea_core::gitstore::{Author, Content, Entry};
use autocrea_core::projects;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub struct RefQuery {
    #[serde(rename = "ref")]
    pub reference: Option<String>,
}

struct Where {
    repo_url: String,
    base: String,
    full: String,
}

fn where_(headers: &HeaderMap, state: &AppState, owner: &str, slug: &str) -> Where {
    let base = base_url(headers, state);
    let full = format!("{owner}/{slug}");
    Where {
        repo_url: format!("{base}/git/api/v1/repos/{full}"),
        base,
        full,
    }
}

async fn read(
    state: &AppState,
    caller: &Caller,
    owner: &str,
    repo: &str,
    path: String,
    reference: Option<String>,
    headers: &HeaderMap,
) -> GiteaResult<Json<Value>> {
    let project = owned_repo(state, caller, owner, repo).await?;
    let w = where_(headers, state, &caller.user.username, &project.slug);
    let id = project.id.clone();
    let (content, reference) = state
        .git
        .run(move |git| {
            let reference = match reference {
                Some(r) => r,
                None => git.current_branch(&id)?,
            };
            let (content, commit) = git.read(&id, Some(&reference), &path)?;
            Ok(((content, commit), reference))
        })
        .await?;
    let (content, commit) = content;
    let entry_json = |e: &Entry, b64: Option<String>| {
        types::contents(e, &commit, b64, &w.repo_url, &w.base, &w.full, &reference)
    };
    Ok(Json(match content {
        Content::Dir(entries) => {
            Value::Array(entries.iter().map(|e| entry_json(e, None)).collect())
        }
        Content::File { entry, data } => entry_json(
            &entry,
            Some(base64::engine::general_purpose::STANDARD.encode(data)),
        ),
    }))
}

pub async fn root(
    State(state): State<AppState>,
    caller: Caller,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<RefQuery>,
    headers: HeaderMap,
) -> GiteaResult<Json<Value>> {
    read(
        &state,
        &caller,
        &owner,
        &repo,
        String::new(),
        q.reference,
        &headers,
    )
    .await
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((owner, repo, path)): Path<(String, String, String)>,
    Query(q): Query<RefQuery>,
    headers: HeaderMap,
) -> GiteaResult<Json<Value>> {
    read(&state, &caller, &owner, &repo, path, q.reference, &headers).await
}

#[derive(Deserialize)]
pub struct Identity {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// Create (`sha` absent), update (`sha` of the file now) or delete options.
#[derive(Deserialize)]
pub struct FileOptions {
    pub content: Option<String>,
    pub sha: Option<String>,
    pub message: Option<String>,
    pub branch: Option<String>,
    pub new_branch: Option<String>,
    pub author: Option<Identity>,
}

enum Change {
    Create,
    Update,
    Delete,
}

async fn change(
    state: AppState,
    caller: Caller,
    (owner, repo, path): (String, String, String),
    headers: HeaderMap,
    body: Result<Json<FileOptions>, axum::extract::rejection::JsonRejection>,
    kind: Change,
) -> GiteaResult<(StatusCode, Json<Value>)> {
    let Json(opts) = body.map_err(|e| GiteaError::unprocessable(e.body_text()))?;
    let project = owned_repo(&state, &caller, &owner, &repo).await?;
    let data = match (&kind, &opts.content) {
        (Change::Delete, _) => None,
        (_, Some(c)) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(c.trim())
                .map_err(|_| GiteaError::unprocessable("content must be base64"))?,
        ),
        (_, None) => return Err(GiteaError::unprocessable("content is required")),
    };
    if matches!(kind, Change::Update | Change::Delete) && opts.sha.is_none() {
        return Err(GiteaError::unprocessable("sha is required"));
    }
    let verb = match kind {
        Change::Create => "Add",
        Change::Update => "Update",
        Change::Delete => "Delete",
    };
    let message = opts
        .message
        .clone()
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| format!("{verb} {path}"));
    let author = Author {
        name: opts
            .author
            .as_ref()
            .and_then(|a| a.name.clone())
            .unwrap_or_else(|| caller.user.name.clone()),
        email: opts
            .author
            .as_ref()
            .and_then(|a| a.email.clone())
            .unwrap_or_else(|| caller.user.email.clone()),
    };
    let _lock = state.git.lock(&project.id).await;
    let (id, file) = (project.id.clone(), path.clone());
    let target_branch = opts.new_branch.clone().or(opts.branch.clone());
    let (version, content) = state
        .git
        .run(move |git| {
            let (oid, _) = git.write_file(
                &id,
                opts.branch.as_deref(),
                opts.new_branch.as_deref(),
                &file,
                data.as_deref(),
                opts.sha.as_deref(),
                &message,
                &author,
            )?;
            let version = git.version(&id, &oid.to_string())?;
            let content = match data {
                Some(_) => match git.read(&id, Some(&oid.to_string()), &file)?.0 {
                    Content::File { entry, .. } => Some(entry),
                    Content::Dir(_) => None,
                },
                None => None,
            };
            Ok((version, content))
        })
        .await?;
    projects::touch(&state.pool, &project.id).await?;
    let w = where_(&headers, &state, &caller.user.username, &project.slug);
    let reference = target_branch.unwrap_or_else(|| version.sha.clone());
    let content_json = content.map(|e| {
        types::contents(
            &e,
            &version.sha,
            None,
            &w.repo_url,
            &w.base,
            &w.full,
            &reference,
        )
    });
    let body = json!({
        "content": content_json,
        "commit": types::file_commit(&version, &w.repo_url, &w.base, &w.full),
        "verification": types::verification(),
    });
    let status = if matches!(kind, Change::Create) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(body)))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Result<Json<FileOptions>, axum::extract::rejection::JsonRejection>,
) -> GiteaResult<(StatusCode, Json<Value>)> {
    change(state, caller, p, headers, body, Change::Create).await
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Result<Json<FileOptions>, axum::extract::rejection::JsonRejection>,
) -> GiteaResult<(StatusCode, Json<Value>)> {
    change(state, caller, p, headers, body, Change::Update).await
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Result<Json<FileOptions>, axum::extract::rejection::JsonRejection>,
) -> GiteaResult<(StatusCode, Json<Value>)> {
    change(state, caller, p, headers, body, Change::Delete).await
}
