//! Provider keys an admin sets for every user (a team's OpenAI-compatible
//! endpoint, say). Encrypted like users' keys; a user's own key wins. Only
//! the last four characters are ever shown.

use super::master_key::MasterKey;
use super::{keys, LlmStoreError};
use sqlx::SqlitePool;

pub use autocrea_wire::llm::SharedKeyInfo;

/// A shared key's row without the key: what `SharedKeyInfo` shows.
#[derive(sqlx::FromRow)]
struct InfoRow {
    provider: String,
    last4: String,
    updated_at: i64,
}

impl From<InfoRow> for SharedKeyInfo {
    fn from(r: InfoRow) -> Self {
        SharedKeyInfo {
            provider: r.provider,
            last4: r.last4,
            updated_at: crate::clock::rfc3339(r.updated_at),
        }
    }
}

fn context(provider: &str) -> Vec<u8> {
    format!("shared-provider-key\0{provider}").into_bytes()
}

pub async fn put(
    pool: &SqlitePool,
    master: &MasterKey,
    provider: &str,
    key: &str,
) -> Result<SharedKeyInfo, LlmStoreError> {
    keys::validate(key)?;
    let (nonce, ciphertext) = master.seal(key.as_bytes(), &context(provider));
    let last4 = keys::last4(key);
    let row = sqlx::query_as::<_, InfoRow>(
        "INSERT INTO provider_shared_keys (provider, nonce, ciphertext, last4, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (provider) DO UPDATE SET nonce = excluded.nonce, ciphertext = excluded.ciphertext,
           last4 = excluded.last4, updated_at = excluded.updated_at
         RETURNING provider, last4, updated_at",
    )
    .bind(provider)
    .bind(nonce)
    .bind(ciphertext)
    .bind(last4)
    .bind(crate::clock::now())
    .fetch_one(pool)
    .await?;
    Ok(row.into())
}

pub async fn list(pool: &SqlitePool) -> Result<Vec<SharedKeyInfo>, LlmStoreError> {
    let rows = sqlx::query_as::<_, InfoRow>(
        "SELECT provider, last4, updated_at FROM provider_shared_keys ORDER BY provider",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn delete(pool: &SqlitePool, provider: &str) -> Result<(), LlmStoreError> {
    let done = sqlx::query("DELETE FROM provider_shared_keys WHERE provider = ?")
        .bind(provider)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(LlmStoreError::NotFound);
    }
    Ok(())
}

pub async fn secret(
    pool: &SqlitePool,
    master: &MasterKey,
    provider: &str,
) -> Result<Option<String>, LlmStoreError> {
    let row: Option<(Vec<u8>, Vec<u8>)> =
        sqlx::query_as("SELECT nonce, ciphertext FROM provider_shared_keys WHERE provider = ?")
            .bind(provider)
            .fetch_optional(pool)
            .await?;
    let Some((nonce, ct)) = row else {
        return Ok(None);
    };
    let plain = master.open(&nonce, &ct, &context(provider))?;
    String::from_utf8(plain)
        .map(Some)
        .map_err(|_| LlmStoreError::Decrypt)
}

/// The key a user calls `provider` with: their own, else the shared one.
pub async fn key_for(
    pool: &SqlitePool,
    master: &MasterKey,
    user_id: i64,
    provider: &str,
) -> Result<Option<String>, LlmStoreError> {
    match keys::secret(pool, master, user_id, provider).await? {
        Some(k) => Ok(Some(k)),
        None => secret(pool, master, provider).await,
    }
}
