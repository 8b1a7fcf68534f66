//! Projects of the caller. Another user's project answers 404 on every route,
//! exactly like one that does not exist.

use crate::error::{blocking, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use autocrea_core::audit;
use autocrea_core::projects::{self, ListQuery, ProjectView, SortKey, SortOrder};
use autocrea_core::templates::DEFAULT_TEMPLATE;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Text to find in the name, slug or description (case-insensitive).
    pub q: Option<String>,
    /// `updated` (default), `created` or `name`.
    pub sort: Option<SortKey>,
    /// `desc` (default) or `asc`.
    pub order: Option<SortOrder>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProjectList {
    pub projects: Vec<ProjectView>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateProject {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A template id from `GET /api/v1/templates`; `static` when left out.
    pub template: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UpdateProject {
    pub name: Option<String>,
    pub description: Option<String>,
}

/// Lists the caller's projects.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", params(ListParams),
    responses((status = 200, body = ProjectList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ProjectList>> {
    let Query(params) = params.map_err(|e| crate::error::ApiError::invalid(e.body_text()))?;
    let query = ListQuery {
        search: params.q,
        sort: params.sort.unwrap_or_default(),
        order: params.order.unwrap_or_default(),
    };
    let rows = projects::list(&state.pool, auth.user.id, &query).await?;
    Ok(Json(ProjectList {
        projects: rows.iter().map(|p| view(&state, p)).collect(),
    }))
}

/// The API's view of a project, with its preview URL.
pub fn view(state: &AppState, project: &projects::Project) -> ProjectView {
    let mut v = ProjectView::from(project);
    v.preview_url = Some(format!("{}/", state.preview.origin(&project.id)));
    v
}

/// Creates a project from a template.
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = CreateProject,
    responses((status = 201, body = ProjectView), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateProject>,
) -> ApiResult<(StatusCode, Json<ProjectView>)> {
    let template = body.template.as_deref().unwrap_or(DEFAULT_TEMPLATE);
    let project = projects::create(
        &state.pool,
        auth.user.id,
        &body.name,
        &body.description,
        template,
    )
    .await?;
    let (git, id, template, author) = (
        state.git.clone(),
        project.id.clone(),
        project.template.clone(),
        person(&auth),
    );
    if let Err(e) = blocking(move || git.create(&id, &template, &author).map(|_| ())).await {
        // No project without its repository: undo the row.
        let _ = projects::delete(&state.pool, auth.user.id, &project.id).await;
        return Err(e);
    }
    audit::record(
        &state.pool,
        &auth.actor(),
        "project.create",
        Some(&format!("project:{}", project.id)),
        Some(&project.name),
    )
    .await;
    Ok((StatusCode::CREATED, Json(view(&state, &project))))
}

/// One project.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "projects",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = ProjectView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ProjectView>> {
    Ok(Json(view(&state, &projects::get(&state.pool, auth.user.id, &id).await?)))
}

/// Renames a project or changes its description.
#[utoipa::path(patch, path = "/api/v1/projects/{id}", tag = "projects", request_body = UpdateProject,
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = ProjectView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateProject>,
) -> ApiResult<Json<ProjectView>> {
    let project = projects::update(
        &state.pool,
        auth.user.id,
        &id,
        body.name.as_deref(),
        body.description.as_deref(),
    )
    .await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "project.update",
        Some(&format!("project:{id}")),
        None,
    )
    .await;
    Ok(Json(view(&state, &project)))
}

/// Deletes a project for good.
#[utoipa::path(delete, path = "/api/v1/projects/{id}", tag = "projects",
    params(("id" = String, Path, description = "project id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    projects::get(&state.pool, auth.user.id, &id).await?;
    // The sandbox mounts the working tree: it goes first.
    if let Err(e) = state.sandboxes.stop(&id).await {
        tracing::warn!(project = %id, error = %e, "could not stop the sandbox of a deleted project");
    }
    let _lock = state.git.lock(&id).await;
    let project = projects::delete(&state.pool, auth.user.id, &id).await?;
    let git = state.git.clone();
    let repo_id = id.clone();
    // The row is gone; a leftover repository is removed at the next start if this fails.
    if let Err(e) = blocking(move || git.delete(&repo_id)).await {
        tracing::warn!(project = %id, error = ?e, "could not remove the repository");
    }
    audit::record(
        &state.pool,
        &auth.actor(),
        "project.delete",
        Some(&format!("project:{id}")),
        Some(&project.name),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Copies a project as "<name> (copy)".
#[utoipa::path(post, path = "/api/v1/projects/{id}/duplicate", tag = "projects",
    params(("id" = String, Path, description = "project id")),
    responses((status = 201, body = ProjectView), (status = 404, body = ErrorBody)))]
pub async fn duplicate(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<ProjectView>)> {
    // Authorise first: taking the lock ends the owner's previewed version
    // (and waits behind their agent turn), which no one else may cause.
    projects::get(&state.pool, auth.user.id, &id).await?;
    let _lock = state.git.lock(&id).await;
    let copy = projects::duplicate(&state.pool, auth.user.id, &id).await?;
    let (git, from, to) = (state.git.clone(), id.clone(), copy.id.clone());
    if let Err(e) = blocking(move || git.duplicate(&from, &to)).await {
        let _ = projects::delete(&state.pool, auth.user.id, &copy.id).await;
        return Err(e);
    }
    audit::record(
        &state.pool,
        &auth.actor(),
        "project.duplicate",
        Some(&format!("project:{}", copy.id)),
        Some(&format!("from project:{id}")),
    )
    .await;
    Ok((StatusCode::CREATED, Json(view(&state, &copy))))
}

/// The caller as a commit author.
pub fn person(auth: &Auth) -> autocrea_core::gitstore::Author {
    autocrea_core::gitstore::Author {
        name: auth.user.name.clone(),
        email: auth.user.email.clone(),
    }
}
