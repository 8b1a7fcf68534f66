//! Projects of the caller. Another user's project answers 404 on every route,
//! exactly like one that does not exist.

use crate::agent::turn;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorDetail};
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use autocrea_core::agent::store;
use autocrea_core::audit;
use autocrea_core::projects::{self, ListQuery, ProjectView, SortKey, SortOrder};
use autocrea_core::templates::DEFAULT_TEMPLATE;
use autocrea_wire::projects::{CreateProject, CreatedProject, ProjectList, UpdateProject};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

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

/// Longest first message (the chat's limit).
const PROMPT_MAX: usize = 32_000;
/// Longest name derived from a prompt, in characters.
const DERIVED_NAME_MAX: usize = 40;

/// A short, readable project name from a prompt: "Build a todo list app with
/// add and delete" gives "Todo list app". Leading requests ("build me a",
/// "create an", "I want") and what follows "with", "that", "which" or a
/// punctuation mark are left out; at most six words and 40 characters.
pub fn name_from_prompt(prompt: &str) -> String {
    const LEAD: &[&str] = &[
        "please", "build", "create", "make", "write", "generate", "design", "develop", "code", "i",
        "want", "would", "like", "need", "to", "me", "us", "a", "an", "the", "simple", "small",
        "new", "can", "you", "let's", "lets",
    ];
    const STOP: &[&str] = &["with", "that", "which", "where", "using"];
    let first = prompt
        .split(['.', ',', ';', ':', '!', '?', '\n', '(', '['])
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or("");
    let words: Vec<&str> = first
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-' && c != '\''))
        .filter(|w| !w.is_empty())
        .collect();
    let start = words
        .iter()
        .position(|w| !LEAD.contains(&w.to_lowercase().as_str()))
        .unwrap_or(words.len());
    let mut name = String::new();
    for (i, w) in words[start..].iter().enumerate() {
        if i >= 6 || (i > 0 && STOP.contains(&w.to_lowercase().as_str())) {
            break;
        }
        if name.chars().count() + 1 + w.chars().count() > DERIVED_NAME_MAX {
            break;
        }
        if !name.is_empty() {
            name.push(' ');
        }
        name.push_str(w);
    }
    if name.is_empty() {
        // Nothing but filler words (or none at all): the prompt's start.
        name = prompt
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(DERIVED_NAME_MAX)
            .collect();
        name = name.trim().to_string();
    }
    if name.is_empty() {
        return "New project".into();
    }
    let mut chars = name.chars();
    let head = chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>())
        .unwrap_or_default();
    head + chars.as_str()
}

/// Lists the caller's projects.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", params(ListParams),
    responses((status = 200, body = ProjectList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ProjectList>> {
    let Query(params) = params.map_err(|e| ApiError::invalid(e.body_text()))?;
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

/// Creates a project from a template. With a `prompt`, also a thread, and
/// the first turn starts with the prompt; a turn that cannot start (no model,
/// no credits) leaves the project in place and says why in `turn_error`.
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = CreateProject,
    responses((status = 201, body = CreatedProject), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateProject>,
) -> ApiResult<(StatusCode, Json<CreatedProject>)> {
    let template = body.template.as_deref().unwrap_or(DEFAULT_TEMPLATE);
    // Everything about the request is checked before anything is made.
    let prompt = match body.prompt.as_deref() {
        None => None,
        Some(p) => {
            let p = p.trim();
            if p.is_empty() || p.chars().count() > PROMPT_MAX {
                return Err(ApiError::invalid(format!(
                    "prompt: 1 to {PROMPT_MAX} characters"
                )));
            }
            if p.chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
            {
                return Err(ApiError::invalid(
                    "prompt: must not contain control characters",
                ));
            }
            Some(p.to_string())
        }
    };
    let model = body
        .model
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_string);
    if let Some(m) = &model {
        // As for the agent settings: the local model may be down now and still be chosen.
        match crate::llm::resolve::resolve(&state, auth.user.id, Some(m)).await {
            Ok(_) | Err(crate::llm::LlmError::Unavailable(_)) => {}
            Err(e) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "model_unavailable",
                    format!("model: {e}"),
                ))
            }
        }
    }
    let name = match (&prompt, body.name.trim().is_empty()) {
        (Some(p), true) => name_from_prompt(p),
        _ => body.name.clone(),
    };
    let description = match (&prompt, body.description.trim().is_empty()) {
        (Some(p), true) => p.chars().take(projects::DESCRIPTION_MAX).collect(),
        _ => body.description.clone(),
    };
    let mut project =
        projects::create(&state.pool, auth.user.id, &name, &description, template).await?;
    let created = state
        .git
        .create(&project.id, &project.template, &person(&auth))
        .await;
    if let Err(e) = created {
        // No project without its repository: undo the row.
        let _ = projects::delete(&state.pool, auth.user.id, &project.id).await;
        return Err(e.into());
    }
    audit::record(
        &state.pool,
        &auth.actor(),
        "project.create",
        Some(&format!("project:{}", project.id)),
        Some(&project.name),
    )
    .await;
    if model.is_some() {
        project = projects::set_agent(
            &state.pool,
            auth.user.id,
            &project.id,
            model.as_deref(),
            None,
        )
        .await?;
    }
    let mut created = CreatedProject {
        project: view(&state, &project),
        thread_id: None,
        turn_id: None,
        turn_error: None,
    };
    if let Some(prompt) = prompt {
        match first_turn(&state, auth.user.id, &project, prompt).await {
            Ok((thread, turn)) => {
                created.thread_id = Some(thread);
                created.turn_id = Some(turn);
            }
            Err((thread, e)) => {
                created.thread_id = thread;
                created.turn_error = Some(ErrorDetail {
                    code: e.code.to_string(),
                    message: e.message,
                });
            }
        }
    }
    Ok((StatusCode::CREATED, Json(created)))
}

/// A thread named like the project and the first turn on it; on failure the
/// thread (if made) and why.
async fn first_turn(
    state: &AppState,
    user_id: i64,
    project: &projects::Project,
    prompt: String,
) -> Result<(String, String), (Option<String>, ApiError)> {
    let thread = store::create_thread(&state.pool, &project.id, user_id, &project.name)
        .await
        .map_err(|e| (None, ApiError::from(e)))?;
    let ask = turn::Ask::New {
        content: prompt,
        attachments: vec![],
    };
    match turn::start(
        state,
        user_id,
        project,
        &thread,
        ask,
        turn::Options::default(),
    )
    .await
    {
        Ok(t) => Ok((thread.id, t.id)),
        Err(e) => {
            tracing::info!(project = %project.id, code = e.code, "the first turn of a new project did not start");
            Err((Some(thread.id), e))
        }
    }
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
    Ok(Json(view(
        &state,
        &projects::get(&state.pool, auth.user.id, &id).await?,
    )))
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
    // Its published apps stop answering with the rows gone; their
    // containers and files go now.
    state.publisher.forget_project(&id).await;
    // The row is gone; a leftover repository is removed at the next start if this fails.
    if let Err(e) = state.git.delete(&id).await {
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
    if let Err(e) = state.git.duplicate(&id, &copy.id).await {
        let _ = projects::delete(&state.pool, auth.user.id, &copy.id).await;
        return Err(e.into());
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

#[cfg(test)]
mod tests {
    use super::name_from_prompt;

    #[test]
    fn names_from_prompts() {
        for (prompt, name) in [
            ("Build a todo list app with add and delete", "Todo list app"),
            ("build me a recipe book, with photos", "Recipe book"),
            (
                "I want a landing page for my bakery",
                "Landing page for my bakery",
            ),
            (
                "Create an invoice tracker that emails reminders",
                "Invoice tracker",
            ),
            ("kanban board", "Kanban board"),
            ("Make a", "Make a"),
            ("   ", "New project"),
            (
                "A very long name for a project that goes on and on and on forever",
                "Very long name for a project",
            ),
        ] {
            assert_eq!(name_from_prompt(prompt), name, "for {prompt:?}");
        }
        for prompt in ["x".repeat(500), "é".repeat(300)] {
            assert!(name_from_prompt(&prompt).chars().count() <= 40);
        }
    }
}
