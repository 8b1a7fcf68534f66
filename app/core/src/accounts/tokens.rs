//! Personal API tokens: `acr_` followed by 40 random characters (≈ 238 bits),
//! shown once, stored as a SHA-256 hash.

use super::{users, AccountError, User};

#[derive(sqlx::FromRow)]
struct TokenOwner {
    token_id: i64,
    #[sqlx(flatten)]
    user: User,
}
use crate::{clock, secrets, text};
use serde::Serialize;
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::sync::Mutex;

pub const PREFIX: &str = "acr_";
pub const NAME_MAX: usize = 100;

/// A token as listed: never the secret itself.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    /// The first characters of the token, to tell tokens apart.
    pub prefix: String,
    #[serde(serialize_with = "clock::ser_rfc3339")]
    #[schema(value_type = String)]
    pub created_at: i64,
    #[serde(serialize_with = "clock::ser_opt_rfc3339")]
    #[schema(value_type = Option<String>)]
    pub last_used_at: Option<i64>,
}

/// A token just made: the only time its secret exists outside the client.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    pub id: i64,
    pub name: String,
    /// The secret. Shown once; store it now.
    pub token: String,
}

pub async fn create(pool: &SqlitePool, user_id: i64, name: &str) -> Result<CreatedToken, AccountError> {
    let name = text::display_name("name", name, NAME_MAX)?;
    let token = format!("{PREFIX}{}", secrets::random_token(40));
    let prefix: String = token.chars().take(PREFIX.len() + 6).collect();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(user_id)
    .bind(&name)
    .bind(secrets::sha256_hex(&token))
    .bind(&prefix)
    .bind(clock::now())
    .fetch_one(pool)
    .await?;
    Ok(CreatedToken { id, name, token })
}

pub async fn list(pool: &SqlitePool, user_id: i64) -> Result<Vec<ApiToken>, AccountError> {
    Ok(sqlx::query_as::<_, ApiToken>(
        "SELECT id, name, prefix, created_at, last_used_at FROM api_tokens WHERE user_id = ? ORDER BY id DESC",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?)
}

/// Deletes a token of this user; another user's token id is "not found".
pub async fn revoke(pool: &SqlitePool, user_id: i64, token_id: i64) -> Result<(), AccountError> {
    let done = sqlx::query("DELETE FROM api_tokens WHERE id = ? AND user_id = ?")
        .bind(token_id)
        .bind(user_id)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AccountError::TokenNotFound);
    }
    Ok(())
}

/// Remembers when each token was last written as used, so that a busy client
/// costs one write a minute, not one per request.
#[derive(Default)]
pub struct UsageClock(Mutex<HashMap<i64, i64>>);

/// Resolves a bearer token to its enabled owner.
pub async fn authenticate(pool: &SqlitePool, token: &str, usage: &UsageClock) -> Result<Option<User>, AccountError> {
    if !token.starts_with(PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    // One query for token and owner: this runs on every API request.
    let row = sqlx::query_as::<_, TokenOwner>(&format!(
        "SELECT t.id AS token_id, {} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
        users::COLUMNS_U
    ))
    .bind(secrets::sha256_hex(token))
    .fetch_optional(pool)
    .await?;
    let Some(TokenOwner { token_id, user }) = row else { return Ok(None) };
    if user.disabled {
        return Ok(None);
    }
    let now = clock::now();
    let stale = {
        let mut seen = usage.0.lock().expect("usage clock lock");
        let last = seen.get(&token_id).copied().unwrap_or(0);
        if now - last >= 60 {
            seen.insert(token_id, now);
            true
        } else {
            false
        }
    };
    if stale {
        sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
            .bind(now)
            .bind(token_id)
            .execute(pool)
            .await?;
    }
    Ok(Some(user))
}
