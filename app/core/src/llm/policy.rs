//! Which providers and models users may pick, chosen by admins and kept in
//! the settings table as JSON.

use super::LlmStoreError;
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

/// The vendor protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Any OpenAI-compatible endpoint: OpenAI, vLLM, Ollama, llama-server.
    Openai,
    /// The Anthropic Messages API.
    Anthropic,
    /// The Gemini API.
    Gemini,
}

impl ProviderKind {
    pub fn default_base_url(self) -> &'static str {
        match self {
            ProviderKind::Openai => "https://api.openai.com/v1",
            ProviderKind::Anthropic => "https://api.anthropic.com",
            ProviderKind::Gemini => "https://generativelanguage.googleapis.com",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderPolicy {
    /// Short id users see in model names: `<id>/<model>`.
    pub id: String,
    pub kind: ProviderKind,
    pub base_url: String,
    /// Users may pick its models (with their own key, or the admin's shared one).
    pub enabled: bool,
    pub models: Vec<String>,
    /// How the agent calls tools through it: `native` (the API's tool calls)
    /// or `text` (blocks in the reply, for endpoints without tool calls).
    #[serde(default)]
    pub tools: ToolFormat,
    /// The models' context window in tokens (the agent's budget); 32768 when unset.
    #[serde(default)]
    pub context: Option<u32>,
    /// The models accept images in messages: attached images go to them
    /// (models that do not get a note that an image was left out).
    #[serde(default)]
    pub images: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ToolFormat {
    #[default]
    Native,
    Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LlmPolicy {
    /// Users may pick the local model.
    pub local: bool,
    pub providers: Vec<ProviderPolicy>,
}

impl Default for LlmPolicy {
    /// The local model only; the three vendors listed but off until an admin
    /// turns them on (an air-gapped appliance cannot reach them anyway).
    fn default() -> Self {
        let vendor = |id: &str, kind: ProviderKind, models: &[&str]| ProviderPolicy {
            id: id.into(),
            kind,
            base_url: kind.default_base_url().into(),
            enabled: false,
            models: models.iter().map(|m| m.to_string()).collect(),
            tools: ToolFormat::Native,
            context: None,
            // Every model listed for these vendors reads images.
            images: true,
        };
        Self {
            local: true,
            providers: vec![
                vendor("openai", ProviderKind::Openai, &["gpt-4.1", "gpt-4.1-mini"]),
                vendor(
                    "anthropic",
                    ProviderKind::Anthropic,
                    &["claude-sonnet-4-5", "claude-haiku-4-5"],
                ),
                vendor(
                    "gemini",
                    ProviderKind::Gemini,
                    &["gemini-2.5-pro", "gemini-2.5-flash"],
                ),
            ],
        }
    }
}

impl LlmPolicy {
    pub fn validate(&self) -> Result<(), LlmStoreError> {
        let bad = |m: String| Err(LlmStoreError::Invalid(m));
        let mut seen = std::collections::HashSet::new();
        if self.providers.len() > 32 {
            return bad("at most 32 providers".into());
        }
        for p in &self.providers {
            let id_ok = !p.id.is_empty()
                && p.id.len() <= 32
                && p.id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !id_ok {
                return bad(format!(
                    "provider id {:?}: 1 to 32 lowercase letters, digits or '-'",
                    p.id
                ));
            }
            if p.id == "local" {
                return bad("provider id \"local\" is the local model's".into());
            }
            if !seen.insert(p.id.clone()) {
                return bad(format!("provider id {:?} appears twice", p.id));
            }
            let url_ok = (p.base_url.starts_with("https://") || p.base_url.starts_with("http://"))
                && p.base_url.len() <= 300
                && !p.base_url.chars().any(|c| c.is_whitespace());
            if !url_ok {
                return bad(format!(
                    "provider {}: base_url must be an http(s) URL",
                    p.id
                ));
            }
            if p.context.is_some_and(|c| !(512..=10_000_000).contains(&c)) {
                return bad(format!(
                    "provider {}: context is 512 to 10000000 tokens",
                    p.id
                ));
            }
            if p.models.len() > 100 {
                return bad(format!("provider {}: at most 100 models", p.id));
            }
            for m in &p.models {
                if m.is_empty()
                    || m.len() > 100
                    || m.chars().any(|c| c.is_whitespace() || c.is_control())
                {
                    return bad(format!("provider {}: model name {m:?} is not valid", p.id));
                }
            }
        }
        Ok(())
    }

    pub fn provider(&self, id: &str) -> Option<&ProviderPolicy> {
        self.providers.iter().find(|p| p.id == id)
    }

    /// Puts `p` in place of the provider with its id, or adds it.
    pub fn upsert(&mut self, p: ProviderPolicy) {
        match self.providers.iter_mut().find(|q| q.id == p.id) {
            Some(q) => *q = p,
            None => self.providers.push(p),
        }
    }
}

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
    policy.validate()?;
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
