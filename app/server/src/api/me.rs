//! The signed-in user: profile, password, personal API tokens.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use autocrea_core::accounts::tokens::{self, ApiToken, CreatedToken};
use autocrea_core::accounts::users::{self, UserView};
use autocrea_core::audit;
use autocrea_wire::accounts::{ChangePassword, CreateToken, TokenList, UpdateMe};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

/// Who is calling.
#[utoipa::path(get, path = "/api/v1/me", tag = "me",
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
pub async fn get(auth: Auth) -> Json<UserView> {
    Json(UserView::from(&auth.user))
}

/// Changes the display name.
#[utoipa::path(patch, path = "/api/v1/me", tag = "me", request_body = UpdateMe,
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<UpdateMe>,
) -> ApiResult<Json<UserView>> {
    let mut user = auth.user.clone();
    if let Some(name) = body.name {
        user = users::rename(&state.pool, user.id, &name).await?;
        audit::record(&state.pool, &auth.actor(), "user.rename", None, None).await;
    }
    Ok(Json(UserView::from(&user)))
}

/// Changes the password. Every other session of this user ends; the one
/// making the change stays signed in.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "me", request_body = ChangePassword,
    responses((status = 204), (status = 400, body = ErrorBody, description = "wrong current password or weak new one")))]
pub async fn change_password(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<ChangePassword>,
) -> ApiResult<StatusCode> {
    users::change_password(
        &state.pool,
        auth.user.id,
        &body.current_password,
        &body.new_password,
        auth.session_hash(),
    )
    .await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "user.password_changed",
        None,
        Some("other sessions ended"),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates a personal API token. The secret is in this response only.
#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "me", request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 400, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let created = tokens::create(&state.pool, auth.user.id, &body.name, &body.scopes).await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "token.create",
        Some(&format!("token:{}", created.id)),
        Some(&created.name),
    )
    .await;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Lists the caller's tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "me", responses((status = 200, body = TokenList)))]
pub async fn list_tokens(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<TokenList>> {
    Ok(Json(TokenList {
        tokens: tokens::list(&state.pool, auth.user.id)
            .await?
            .iter()
            .map(ApiToken::view)
            .collect(),
    }))
}

/// Revokes a token at once.
#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", tag = "me",
    params(("id" = i64, Path, description = "token id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id: i64 = id
        .parse()
        .map_err(|_| crate::error::ApiError::not_found("API token"))?;
    tokens::revoke(&state.pool, auth.user.id, id).await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "token.revoke",
        Some(&format!("token:{id}")),
        None,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
