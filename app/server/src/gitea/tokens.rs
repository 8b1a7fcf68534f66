//! `/users/{u}/tokens`: Gitea's access tokens are our personal API tokens.
//! Creating one needs Basic authentication (a password) and at least one scope.

use super::{Caller, GiteaError, GiteaResult};
use crate::git_auth::Method;
use crate::state::AppState;
use autocrea_core::accounts::tokens;
use autocrea_core::audit::{self, Actor};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

fn same_user(caller: &Caller, username: &str) -> GiteaResult<()> {
    if caller.user.username.eq_ignore_ascii_case(username) {
        Ok(())
    } else {
        Err(GiteaError::new(
            StatusCode::FORBIDDEN,
            "you may only manage your own tokens",
        ))
    }
}

fn token_json(t: &tokens::ApiToken) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "sha1": "",
        "token_last_eight": t.last_eight,
        "scopes": t.scope_list(),
    })
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> GiteaResult<Json<Vec<Value>>> {
    same_user(&caller, &username)?;
    Ok(Json(
        tokens::list(&state.pool, caller.user.id)
            .await?
            .iter()
            .map(token_json)
            .collect(),
    ))
}

#[derive(Deserialize)]
pub struct CreateAccessTokenOption {
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<String>,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
    body: Result<Json<CreateAccessTokenOption>, axum::extract::rejection::JsonRejection>,
) -> GiteaResult<(StatusCode, Json<Value>)> {
    if caller.method != Method::Password {
        return Err(GiteaError::new(
            StatusCode::UNAUTHORIZED,
            "auth required: creating a token needs basic authentication with a password",
        ));
    }
    same_user(&caller, &username)?;
    let Json(body) = body.map_err(|e| GiteaError::unprocessable(e.body_text()))?;
    if body.scopes.is_empty() {
        return Err(GiteaError::unprocessable("access token must have a scope"));
    }
    if tokens::list(&state.pool, caller.user.id)
        .await?
        .iter()
        .any(|t| t.name == body.name.trim())
    {
        return Err(GiteaError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "access token name has been used already",
        ));
    }
    let created = tokens::create(&state.pool, caller.user.id, &body.name, &body.scopes).await?;
    let actor = Actor {
        user_id: Some(caller.user.id),
        label: Some(caller.user.email.clone()),
        ip: None,
    };
    audit::record(
        &state.pool,
        &actor,
        "token.create",
        Some(&format!("token:{}", created.id)),
        Some("gitea api"),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": created.id,
            "name": created.name,
            "sha1": created.token,
            "token_last_eight": created.last_eight,
            "scopes": created.scopes,
        })),
    ))
}

/// Deletes a token by id or by name.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((username, token)): Path<(String, String)>,
) -> GiteaResult<StatusCode> {
    same_user(&caller, &username)?;
    let all = tokens::list(&state.pool, caller.user.id).await?;
    let found = match token.parse::<i64>() {
        Ok(id) => all.iter().find(|t| t.id == id),
        Err(_) => all.iter().find(|t| t.name == token),
    }
    .ok_or_else(GiteaError::not_found)?;
    tokens::revoke(&state.pool, caller.user.id, found.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
