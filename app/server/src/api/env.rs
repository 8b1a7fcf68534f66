//! A project's environment variables and secrets: names and hints out,
//! values in. The store is core's `env_vars`; this is its HTTP edge.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use autocrea_core::audit;
use autocrea_core::projects::{self, Project};
use autocrea_core::publish::store;
use autocrea_wire::env::{EnvChange, EnvScope, EnvVar, EnvVarList, EnvVarPut};
use axum::extract::{Path, State};
use axum::Json;

/// Every variable of the project, both scopes: names, hints, never values.
#[utoipa::path(get, path = "/api/v1/projects/{id}/env", tag = "env",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = EnvVarList), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<EnvVarList>> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    Ok(Json(EnvVarList {
        vars: state.env.list(&project.id).await?,
    }))
}

fn scope_of(s: &str) -> Result<EnvScope, ApiError> {
    EnvScope::parse(s)
        .ok_or_else(|| ApiError::invalid(format!("unknown scope {s:?}: use preview or production")))
}

/// Sets one variable. The answer says whether the live deployment should
/// be published again, or that the preview was restarted to use it.
#[utoipa::path(put, path = "/api/v1/projects/{id}/env/{scope}/{name}", tag = "env", request_body = EnvVarPut,
    params(("id" = String, Path, description = "project id"),
        ("scope" = String, Path, description = "preview or production"),
        ("name" = String, Path, description = "the variable's name")),
    responses((status = 200, body = EnvChange), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, scope, name)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<EnvVarPut>,
) -> ApiResult<Json<EnvChange>> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    let scope = scope_of(&scope)?;
    let var = state
        .env
        .set(&project.id, scope, &name, &body.value)
        .await?;
    record(
        &state,
        &auth,
        &project,
        "project.env_set",
        &var.scope,
        &var.name,
    )
    .await;
    Ok(Json(
        after_change(&state, &project, scope, Some(var)).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/projects/{id}/env/{scope}/{name}", tag = "env",
    params(("id" = String, Path, description = "project id"),
        ("scope" = String, Path, description = "preview or production"),
        ("name" = String, Path, description = "the variable's name")),
    responses((status = 200, body = EnvChange), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, scope, name)): Path<(String, String, String)>,
) -> ApiResult<Json<EnvChange>> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    let scope = scope_of(&scope)?;
    state.env.delete(&project.id, scope, &name).await?;
    record(&state, &auth, &project, "project.env_delete", &scope, &name).await;
    Ok(Json(after_change(&state, &project, scope, None).await?))
}

async fn record(
    state: &AppState,
    auth: &Auth,
    project: &Project,
    action: &str,
    scope: &EnvScope,
    name: &str,
) {
    // The name only: the audit log is read by admins, the value is the owner's.
    audit::record(
        &state.pool,
        &auth.actor(),
        action,
        Some(&format!("project:{}", project.id)),
        Some(&format!("{scope} {name}")),
    )
    .await;
}

/// A preview change restarts a running sandbox (its environment is fixed
/// at start); a production change suggests a redeploy when something is live.
async fn after_change(
    state: &AppState,
    project: &Project,
    scope: EnvScope,
    var: Option<EnvVar>,
) -> ApiResult<EnvChange> {
    let mut change = EnvChange {
        var,
        redeploy_suggested: false,
        live_version: None,
        preview_restarted: false,
    };
    match scope {
        EnvScope::Preview => {
            change.preview_restarted = state.sandboxes.stop(&project.id).await.unwrap_or(false);
        }
        EnvScope::Production => {
            let live = match store::site(&state.pool, &project.id).await? {
                Some(site) => match site.live_id {
                    Some(live) => Some(store::deployment(&state.pool, &project.id, &live).await?),
                    None => None,
                },
                None => None,
            };
            change.redeploy_suggested = live.is_some();
            change.live_version = live.map(|d| d.commit_sha);
        }
    }
    Ok(change)
}
