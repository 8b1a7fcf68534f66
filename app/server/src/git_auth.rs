//! Credentials of git-speaking clients (git over HTTP, the Gitea API): Basic
//! with a login name or email and a password or API token, or
//! `Authorization: token|Bearer <token>`. Passwords go through the login throttle.

use crate::error::ApiError;
use crate::extract::client_ip;
use crate::state::AppState;
use autocrea_core::accounts::{tokens, users, AccountError, User};
use autocrea_core::audit::{self, Actor};
use axum::http::{header, request::Parts};
use base64::Engine;

pub enum CredentialError {
    /// Wrong or malformed credentials: ask again.
    Invalid(&'static str),
    /// Throttled, or the server failed: an error response as is.
    Failed(ApiError),
}

/// Whether the caller proved who they are with a password (Basic) or a
/// token, and whether that token may change things.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Password,
    Token { can_write: bool },
}

impl Method {
    pub fn can_write(self) -> bool {
        match self {
            Method::Password => true,
            Method::Token { can_write } => can_write,
        }
    }
}

pub async fn caller(
    parts: &Parts,
    state: &AppState,
) -> Result<Option<(User, Method)>, CredentialError> {
    caller_with_method(parts, state).await
}

pub async fn caller_with_method(
    parts: &Parts,
    state: &AppState,
) -> Result<Option<(User, Method)>, CredentialError> {
    let Some(value) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    let failed = |e: AccountError| CredentialError::Failed(ApiError::from(e));
    if scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer") {
        return by_token(state, rest).await;
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(CredentialError::Invalid("unsupported authorization scheme"));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest)
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let Some((login, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
        return Err(CredentialError::Invalid("malformed credentials"));
    };
    if secret.starts_with(tokens::PREFIX) {
        return by_token(state, secret).await;
    }
    let ip = client_ip(parts);
    let email = if login.contains('@') {
        login.to_string()
    } else {
        match users::find_by_username(&state.pool, login)
            .await
            .map_err(failed)?
        {
            Some(u) => u.email,
            None => login.to_string(),
        }
    };
    // The same throttle as the sign-in form: a git client guessing from one
    // address is locked out there, never the account's owner elsewhere.
    state
        .throttle
        .wait_turn(&email, ip.as_deref())
        .await
        .map_err(failed)?;
    match users::authenticate(&state.pool, &email, secret).await {
        Ok(user) => {
            state.throttle.record_success(&email, ip.as_deref());
            Ok(Some((user, Method::Password)))
        }
        Err(AccountError::WrongCredentials) => {
            state.throttle.record_failure(&email, ip.as_deref());
            let actor = Actor {
                user_id: None,
                label: Some(email),
                ip,
            };
            audit::record(&state.pool, &actor, "git.auth_failed", None, None).await;
            Err(CredentialError::Invalid("wrong username or password"))
        }
        Err(e) => Err(failed(e)),
    }
}

async fn by_token(
    state: &AppState,
    token: &str,
) -> Result<Option<(User, Method)>, CredentialError> {
    let found = tokens::authenticate(&state.pool, token, &state.token_usage)
        .await
        .map_err(|e| CredentialError::Failed(ApiError::from(e)))?;
    found
        .map(|(user, grant)| {
            Some((
                user,
                Method::Token {
                    can_write: grant.can_write,
                },
            ))
        })
        .ok_or(CredentialError::Invalid("invalid token"))
}
