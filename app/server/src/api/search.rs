//! Search and replace across the project's files for the workspace: the
//! search reads the current version; a replace names the files (and the blob
//! each search saw) and lands as one commit by the signed-in person.

use super::files::writer_lock;
use super::projects::person;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use autocrea_core::gitstore::{SearchQuery, SearchResult};
use autocrea_core::projects;
use autocrea_wire::files::{ReplaceRequest, ReplaceResult};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The text (or regular expression) to find.
    pub q: String,
    /// Treat `q` as a regular expression (Rust `regex` syntax). Default false.
    #[serde(default)]
    pub regex: bool,
    /// Match upper and lower case exactly. Default false.
    #[serde(default)]
    pub case: bool,
    /// Most matches listed (1 to 2000, default 500).
    pub limit: Option<usize>,
}

/// Every match in the text files of the current version.
#[utoipa::path(get, path = "/api/v1/projects/{id}/search", tag = "files",
    params(("id" = String, Path, description = "project id"), SearchParams),
    responses((status = 200, body = SearchResult), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(p): Query<SearchParams>,
) -> ApiResult<Json<SearchResult>> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    let query = SearchQuery::new(&p.q, p.regex, p.case)?;
    let limit = p.limit.unwrap_or(500).clamp(1, 2000);
    Ok(Json(state.git.search(&project.id, query, limit).await?))
}

/// Replaces every match in the named files as one new version. A file
/// changed since the search is a 409 and nothing is written.
#[utoipa::path(post, path = "/api/v1/projects/{id}/replace", tag = "files", request_body = ReplaceRequest,
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = ReplaceResult), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReplaceRequest>,
) -> ApiResult<Json<ReplaceResult>> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    let query = SearchQuery::new(&body.q, body.regex, body.case)?;
    let _lock = writer_lock(&state, &project.id)?;
    let files: Vec<(String, String)> = body.files.into_iter().map(|f| (f.path, f.sha)).collect();
    let message = format!(
        "Replace {:?} with {:?} in {} file{}",
        short(&body.q),
        short(&body.replacement),
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    );
    let (author, pid) = (person(&auth), project.id.clone());
    let (oid, replaced) = state
        .git
        .run(move |git| {
            git.replace_in_files(&pid, &query, &body.replacement, &files, &message, &author)
        })
        .await?;
    projects::touch(&state.pool, &project.id).await?;
    let replacements = replaced.iter().map(|r| r.replacements).sum();
    Ok(Json(ReplaceResult {
        version: oid.to_string(),
        files: replaced,
        replacements,
    }))
}

/// A search or replacement as it appears in a commit message.
fn short(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}
