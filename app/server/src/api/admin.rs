//! Administration: instance settings, people, the audit log.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Admin, ApiJson};
use crate::state::AppState;
use autocrea_core::accounts::users::{self, UserView};
use autocrea_core::audit::{self};
use autocrea_core::settings::{self, InstanceSettings};
use autocrea_wire::accounts::UserList;
use autocrea_wire::audit::AuditList;
use autocrea_wire::settings::{SettingsView, UpdateSettings};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::Json;
use serde::Deserialize;

fn settings_view(
    state: &AppState,
    headers: &HeaderMap,
    settings: InstanceSettings,
) -> SettingsView {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    SettingsView {
        settings,
        warnings: state.preview.cookie_warning(host).into_iter().collect(),
    }
}

/// Instance settings.
#[utoipa::path(get, path = "/api/v1/admin/settings", tag = "admin",
    responses((status = 200, body = SettingsView), (status = 403, body = ErrorBody)))]
pub async fn get_settings(
    State(state): State<AppState>,
    _admin: Admin,
    headers: HeaderMap,
) -> ApiResult<Json<SettingsView>> {
    let settings = settings::load(&state.pool).await?;
    Ok(Json(settings_view(&state, &headers, settings)))
}

/// Changes instance settings.
#[utoipa::path(patch, path = "/api/v1/admin/settings", tag = "admin", request_body = UpdateSettings,
    responses((status = 200, body = SettingsView), (status = 403, body = ErrorBody)))]
pub async fn update_settings(
    State(state): State<AppState>,
    Admin(auth): Admin,
    headers: HeaderMap,
    ApiJson(body): ApiJson<UpdateSettings>,
) -> ApiResult<Json<SettingsView>> {
    let mut s = settings::load(&state.pool).await?;
    if let Some(open) = body.open_signup {
        s.open_signup = open;
    }
    settings::save(&state.pool, &s).await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "settings.update",
        None,
        Some(&format!("open_signup={}", s.open_signup)),
    )
    .await;
    Ok(Json(settings_view(&state, &headers, s)))
}

/// Everyone with an account.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin",
    responses((status = 200, body = UserList), (status = 403, body = ErrorBody)))]
pub async fn list_users(State(state): State<AppState>, _admin: Admin) -> ApiResult<Json<UserList>> {
    let users = users::list(&state.pool).await?;
    Ok(Json(UserList {
        users: users.iter().map(UserView::from).collect(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// At most this many entries (1 to 500, default 100).
    pub limit: Option<i64>,
    /// Only entries older than this id (for paging).
    pub before: Option<i64>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", params(AuditParams),
    responses((status = 200, body = AuditList), (status = 403, body = ErrorBody)))]
pub async fn audit_log(
    State(state): State<AppState>,
    _admin: Admin,
    Query(p): Query<AuditParams>,
) -> ApiResult<Json<AuditList>> {
    Ok(Json(AuditList {
        entries: audit::list(&state.pool, p.limit.unwrap_or(100), p.before).await?,
    }))
}
