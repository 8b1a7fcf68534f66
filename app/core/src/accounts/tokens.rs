//! Personal API tokens: `acr_` followed by 40 random characters (≈ 238 bits),
//! shown once, stored as a SHA-256 hash.

use super::{users, AccountError, User};

#[derive(sqlx::FromRow)]
struct TokenOwner {
    token_id: i64,
    scopes: String,
    #[sqlx(flatten)]
    user: User,
}
use crate::{clock, secrets, text};
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::sync::Mutex;

pub const PREFIX: &str = "acr_";
pub const NAME_MAX: usize = 100;

pub use autocrea_wire::accounts::{CreatedToken, TokenView};

/// A token as stored, without the secret (its hash stays in the table).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    /// The first characters of the token, to tell tokens apart.
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// Gitea-style scopes, comma-separated: `all`, `read:repository`, `write:repository`.
    pub scopes: String,
    /// The secret's last eight characters.
    pub last_eight: String,
}

impl ApiToken {
    pub fn scope_list(&self) -> Vec<String> {
        self.scopes
            .split(',')
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The token as the API lists it.
    pub fn view(&self) -> TokenView {
        TokenView {
            id: self.id,
            name: self.name.clone(),
            prefix: self.prefix.clone(),
            created_at: clock::rfc3339(self.created_at),
            last_used_at: self.last_used_at.map(clock::rfc3339),
            scopes: self.scope_list(),
            last_eight: self.last_eight.clone(),
        }
    }
}

/// Scope names accepted (Gitea's). A token may change things only with `all`
/// or some `write:` scope; otherwise it is read-only.
pub const SCOPES: &[&str] = &[
    "all",
    "read:activitypub",
    "write:activitypub",
    "read:admin",
    "write:admin",
    "read:issue",
    "write:issue",
    "read:misc",
    "write:misc",
    "read:notification",
    "write:notification",
    "read:organization",
    "write:organization",
    "read:package",
    "write:package",
    "read:repository",
    "write:repository",
    "read:user",
    "write:user",
];

/// Checks and normalises a list of scopes (empty means `all`).
pub fn normalise_scopes(scopes: &[String]) -> Result<String, AccountError> {
    if scopes.is_empty() {
        return Ok("all".into());
    }
    let mut out: Vec<&str> = Vec::new();
    for scope in scopes {
        let s = scope.trim();
        let known = SCOPES.iter().find(|k| **k == s).ok_or_else(|| {
            AccountError::Invalid(text::InvalidText {
                field: "scopes",
                reason: format!("unknown scope {s:?}"),
            })
        })?;
        if !out.contains(known) {
            out.push(known);
        }
    }
    Ok(out.join(","))
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub can_write: bool,
}

fn grant_of(scopes: &str) -> Grant {
    Grant {
        can_write: scopes
            .split(',')
            .any(|s| s == "all" || s.starts_with("write:")),
    }
}

pub async fn create(
    pool: &SqlitePool,
    user_id: i64,
    name: &str,
    scopes: &[String],
) -> Result<CreatedToken, AccountError> {
    let name = text::display_name("name", name, NAME_MAX)?;
    let scopes = normalise_scopes(scopes)?;
    let token = format!("{PREFIX}{}", secrets::random_token(40));
    let prefix: String = token.chars().take(PREFIX.len() + 6).collect();
    let last_eight: String = token[token.len() - 8..].to_string();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, scopes, last_eight)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(user_id)
    .bind(&name)
    .bind(secrets::sha256_hex(&token))
    .bind(&prefix)
    .bind(clock::now())
    .bind(&scopes)
    .bind(&last_eight)
    .fetch_one(pool)
    .await?;
    Ok(CreatedToken {
        id,
        name,
        token,
        scopes: scopes.split(',').map(str::to_string).collect(),
        last_eight,
    })
}

pub async fn list(pool: &SqlitePool, user_id: i64) -> Result<Vec<ApiToken>, AccountError> {
    Ok(sqlx::query_as::<_, ApiToken>(
        "SELECT id, name, prefix, created_at, last_used_at, scopes, last_eight FROM api_tokens WHERE user_id = ? ORDER BY id DESC",
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

/// Resolves a bearer token to its enabled owner and what it may do.
pub async fn authenticate(
    pool: &SqlitePool,
    token: &str,
    usage: &UsageClock,
) -> Result<Option<(User, Grant)>, AccountError> {
    if !token.starts_with(PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    // One query for token and owner: this runs on every API request.
    let row = sqlx::query_as::<_, TokenOwner>(&format!(
        "SELECT t.id AS token_id, t.scopes, {} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
        users::COLUMNS_U
    ))
    .bind(secrets::sha256_hex(token))
    .fetch_optional(pool)
    .await?;
    let Some(TokenOwner {
        token_id,
        scopes,
        user,
    }) = row
    else {
        return Ok(None);
    };
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
    Ok(Some((user, grant_of(&scopes))))
}
