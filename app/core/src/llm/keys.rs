//! Users' own provider API keys. Stored encrypted; only the last four
//! characters ever leave this module except through [`secret`], which the
//! gateway calls for the key's owner.

use super::master_key::MasterKey;
use super::LlmStoreError;
use sqlx::SqlitePool;

pub use autocrea_wire::llm::ProviderKeyInfo;

/// A key's row without the key: what `ProviderKeyInfo` shows.
#[derive(sqlx::FromRow)]
struct InfoRow {
    id: i64,
    provider: String,
    last4: String,
    created_at: i64,
}

impl From<InfoRow> for ProviderKeyInfo {
    fn from(r: InfoRow) -> Self {
        ProviderKeyInfo {
            id: r.id,
            provider: r.provider,
            last4: r.last4,
            created_at: crate::clock::rfc3339(r.created_at),
        }
    }
}

fn context(user_id: i64, provider: &str) -> Vec<u8> {
    format!("provider-key\0{user_id}\0{provider}").into_bytes()
}

/// Checks a key's shape: printable ASCII without spaces, 8 to 512 characters.
pub fn validate(key: &str) -> Result<(), LlmStoreError> {
    if key.len() < 8 || key.len() > 512 {
        return Err(LlmStoreError::Invalid(
            "an API key has 8 to 512 characters".into(),
        ));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(LlmStoreError::Invalid(
            "an API key has no spaces or control characters".into(),
        ));
    }
    Ok(())
}

/// The last four characters, the only part of a key ever shown.
pub fn last4(key: &str) -> String {
    key.chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

/// Stores (or replaces) the user's key for `provider`.
pub async fn put(
    pool: &SqlitePool,
    master: &MasterKey,
    user_id: i64,
    provider: &str,
    key: &str,
) -> Result<ProviderKeyInfo, LlmStoreError> {
    validate(key)?;
    let (nonce, ciphertext) = master.seal(key.as_bytes(), &context(user_id, provider));
    let last4 = last4(key);
    let info = sqlx::query_as::<_, InfoRow>(
        "INSERT INTO provider_keys (user_id, provider, nonce, ciphertext, last4, created_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_id, provider) DO UPDATE SET nonce = excluded.nonce,
           ciphertext = excluded.ciphertext, last4 = excluded.last4, created_at = excluded.created_at
         RETURNING id, provider, last4, created_at",
    )
    .bind(user_id)
    .bind(provider)
    .bind(nonce)
    .bind(ciphertext)
    .bind(last4)
    .bind(crate::clock::now())
    .fetch_one(pool)
    .await?;
    Ok(info.into())
}

pub async fn list(pool: &SqlitePool, user_id: i64) -> Result<Vec<ProviderKeyInfo>, LlmStoreError> {
    let rows = sqlx::query_as::<_, InfoRow>(
        "SELECT id, provider, last4, created_at FROM provider_keys WHERE user_id = ? ORDER BY provider",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Deletes the user's key for `provider`; none is `NotFound`.
pub async fn delete(pool: &SqlitePool, user_id: i64, provider: &str) -> Result<(), LlmStoreError> {
    let done = sqlx::query("DELETE FROM provider_keys WHERE provider = ? AND user_id = ?")
        .bind(provider)
        .bind(user_id)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(LlmStoreError::NotFound);
    }
    Ok(())
}

/// The user's own key for `provider`, decrypted, if they stored one.
pub async fn secret(
    pool: &SqlitePool,
    master: &MasterKey,
    user_id: i64,
    provider: &str,
) -> Result<Option<String>, LlmStoreError> {
    let row: Option<(Vec<u8>, Vec<u8>)> = sqlx::query_as(
        "SELECT nonce, ciphertext FROM provider_keys WHERE user_id = ? AND provider = ?",
    )
    .bind(user_id)
    .bind(provider)
    .fetch_optional(pool)
    .await?;
    let Some((nonce, ct)) = row else {
        return Ok(None);
    };
    let plain = master.open(&nonce, &ct, &context(user_id, provider))?;
    String::from_utf8(plain)
        .map(Some)
        .map_err(|_| LlmStoreError::Decrypt)
}
