//! Which providers and models users may pick, chosen by admins and kept in
//! the settings table as JSON.

use super::LlmStoreError;
use sqlx::SqlitePool;

pub use autocrea_wire::llm::{LlmPolicy, ProviderKind, ProviderPolicy, ToolFormat};

const KEY: &str = "llm_policy";

pub async fn load(pool: &SqlitePool) -> Result<LlmPolicy, LlmStoreError> {
    let value: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = ?")
        .bind(KEY)
        .fetch_optional(pool)
        .await?;
    Ok(value
        .and_then(|(v,)| serde_json::from_str(&v).ok())
        .unwrap_or_default())
}

pub async fn save(pool: &SqlitePool, policy: &LlmPolicy) -> Result<(), LlmStoreError> {
    policy.validate().map_err(LlmStoreError::Invalid)?;
    sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        .bind(KEY)
        .bind(serde_json::to_string(policy).expect("policy serializes"))
        .execute(pool)
        .await?;
    Ok(())
}

/// A provider the configuration file names, its key read: what
/// `apply_config` writes. Built by `config::ProviderConfig::configured`.
#[derive(Clone)]
pub struct ConfiguredProvider {
    pub policy: ProviderPolicy,
    pub key: Option<String>,
}

/// Never the key itself: a logged provider cannot leak it.
impl std::fmt::Debug for ConfiguredProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfiguredProvider")
            .field("policy", &self.policy)
            .field("key", &self.key.as_ref().map(|_| "(redacted)"))
            .finish()
    }
}

/// Writes autocrea.toml's `[[providers]]` into the policy (enabled; an
/// entry replaces the provider with its id) and their keys into the shared
/// keys. Run at start, so the file wins over earlier edits in the console.
pub async fn apply_config(
    pool: &SqlitePool,
    master: &super::master_key::MasterKey,
    providers: &[ConfiguredProvider],
) -> Result<(), LlmStoreError> {
    if providers.is_empty() {
        return Ok(());
    }
    let mut policy = load(pool).await?;
    for p in providers {
        policy.upsert(p.policy.clone());
    }
    save(pool, &policy).await?;
    for p in providers {
        if let Some(key) = &p.key {
            super::shared_keys::put(pool, master, &p.policy.id, key).await?;
        }
    }
    Ok(())
}
