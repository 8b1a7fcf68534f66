//! Browser sessions. The cookie carries a random id; the database keeps only
//! its SHA-256, the CSRF token bound to it and when it expires.

use super::{users, AccountError, User};
use crate::{clock, secrets};
use sqlx::SqlitePool;

/// A live session, resolved from its cookie.
#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: String,
    pub csrf_token: String,
    pub user: User,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    csrf_token: String,
    last_seen_at: i64,
    #[sqlx(flatten)]
    user: User,
}

/// What a new session gives the browser: the cookie value and its CSRF token.
pub struct NewSession {
    pub cookie_value: String,
    pub csrf_token: String,
    pub id_hash: String,
}

/// Starts a session. Always a fresh random id (never reused across logins).
pub async fn create(
    pool: &SqlitePool,
    user_id: i64,
    idle_hours: i64,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> Result<NewSession, AccountError> {
    // 32 alphanumerics ≈ 190 bits, well above the 128 required.
    let cookie_value = secrets::random_token(32);
    let csrf_token = secrets::random_token(32);
    let id_hash = secrets::sha256_hex(&cookie_value);
    let now = clock::now();
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at, last_seen_at, ip, user_agent)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id_hash)
    .bind(user_id)
    .bind(&csrf_token)
    .bind(now)
    .bind(now + idle_hours * 3600)
    .bind(now)
    .bind(ip)
    .bind(user_agent.map(|ua| ua.chars().take(200).collect::<String>()))
    .execute(pool)
    .await?;
    Ok(NewSession {
        cookie_value,
        csrf_token,
        id_hash,
    })
}

/// Resolves a cookie value to a live session of an enabled user, sliding its
/// expiry forward (at most once a minute, to keep reads cheap).
pub async fn lookup(
    pool: &SqlitePool,
    cookie_value: &str,
    idle_hours: i64,
) -> Result<Option<Session>, AccountError> {
    let id_hash = secrets::sha256_hex(cookie_value);
    let now = clock::now();
    let row = sqlx::query_as::<_, SessionRow>(&format!(
        "SELECT s.csrf_token, s.last_seen_at, {} FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id_hash = ? AND s.expires_at > ?",
        users::COLUMNS_U
    ))
    .bind(&id_hash)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    let Some(SessionRow {
        csrf_token,
        last_seen_at: last_seen,
        user,
    }) = row
    else {
        return Ok(None);
    };
    if user.disabled {
        return Ok(None);
    }
    if now - last_seen > 60 {
        sqlx::query("UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?")
            .bind(now)
            .bind(now + idle_hours * 3600)
            .bind(&id_hash)
            .execute(pool)
            .await?;
    }
    Ok(Some(Session {
        id_hash,
        csrf_token,
        user,
    }))
}

/// Ends one session (logout).
pub async fn delete(pool: &SqlitePool, id_hash: &str) -> Result<(), AccountError> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
        .bind(id_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// Ends every session of a user (account disabled, admin action).
pub async fn delete_all_for_user(pool: &SqlitePool, user_id: i64) -> Result<u64, AccountError> {
    Ok(sqlx::query("DELETE FROM sessions WHERE user_id = ?")
        .bind(user_id)
        .execute(pool)
        .await?
        .rows_affected())
}

/// Removes expired sessions; run periodically.
pub async fn purge_expired(pool: &SqlitePool) -> Result<u64, AccountError> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
        .bind(clock::now())
        .execute(pool)
        .await?
        .rows_affected())
}
