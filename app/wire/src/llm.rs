//! Models: the provider policy admins set, what each person may use, the
//! local model's state, keys (never shown, only their last characters) and usage.

use serde::{Deserialize, Serialize};

/// The vendor protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Any OpenAI-compatible endpoint: OpenAI, vLLM, Ollama, llama-server.
    Openai,
    /// The Anthropic Messages API.
    Anthropic,
    /// The Gemini API.
    Gemini,
}

names!(ProviderKind { Openai => "openai", Anthropic => "anthropic", Gemini => "gemini" });

impl ProviderKind {
    pub fn default_base_url(self) -> &'static str {
        match self {
            ProviderKind::Openai => "https://api.openai.com/v1",
            ProviderKind::Anthropic => "https://api.anthropic.com",
            ProviderKind::Gemini => "https://generativelanguage.googleapis.com",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ToolFormat {
    #[default]
    Native,
    Text,
}

names!(ToolFormat { Native => "native", Text => "text" });

/// Which providers and models people may pick, as admins set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Checks ids, URLs, contexts and model names; the message names the
    /// provider at fault. The server checks before it saves, the form before it sends.
    pub fn validate(&self) -> Result<(), String> {
        let bad = |m: String| Err(m);
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

/// A provider users may add a key for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderView {
    pub id: String,
    pub kind: ProviderKind,
    pub models: Vec<String>,
    /// The caller stored a key for it.
    pub has_key: bool,
    /// The admin set a key everyone may use.
    pub shared_key: bool,
    /// Its models read images (attached images go to them).
    pub images: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProvidersView {
    /// The local model may be used.
    pub local: bool,
    pub local_model: Option<String>,
    /// Whether the local model can serve agent turns, and what to do if not.
    pub local_status: LocalStatus,
    pub providers: Vec<ProviderView>,
}

impl ProvidersView {
    /// The `<provider>/<model>` names the caller can use now (a key is set).
    pub fn usable_models(&self) -> Vec<String> {
        self.providers
            .iter()
            .filter(|p| p.has_key || p.shared_key)
            .flat_map(|p| p.models.iter().map(move |m| format!("{}/{m}", p.id)))
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LocalState {
    /// It can serve agent turns.
    Ready,
    /// A model for the appliance's own tests (`purpose = "test"`).
    TestModel,
    /// Its context per request cannot hold an agent turn.
    ContextTooSmall,
    /// The worker is off, loading, restarting, or the manifest is broken.
    Unavailable,
}

names!(LocalState { Ready => "ready", TestModel => "test_model", ContextTooSmall => "context_too_small", Unavailable => "unavailable" });

/// Whether the local model can serve an agent turn, and if not, why and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LocalStatus {
    /// The model's id in models.toml, when the manifest could be read.
    pub model: Option<String>,
    /// Tokens each request gets on the worker.
    pub context: Option<u32>,
    pub test_model: bool,
    /// It can serve an agent turn now (`state` is `ready`).
    pub agent_ready: bool,
    pub state: LocalState,
    /// What is wrong and what to do, or what it is.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum WorkerState {
    /// Started, loading the model.
    Starting,
    Ready,
    /// Exited or unhealthy; waiting out the backoff before the next start.
    Restarting,
    /// Turned off in the configuration.
    Disabled,
}

names!(WorkerState { Starting => "starting", Ready => "ready", Restarting => "restarting", Disabled => "disabled" });

/// What admins see of the local model's worker process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkerStatus {
    pub state: WorkerState,
    /// The model it serves (from its first line).
    pub model: Option<String>,
    pub pid: Option<u32>,
    /// Starts after the first.
    pub restarts: u32,
    /// Why the last run ended.
    pub last_exit: Option<String>,
    /// Seconds until the next start, while restarting.
    pub retry_in_secs: Option<u64>,
    /// The newest stderr lines, oldest first.
    pub stderr_tail: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminLlmView {
    pub worker: WorkerStatus,
    /// "ready" only when the local model can serve an agent turn.
    pub local_status: LocalStatus,
    pub policy: LlmPolicy,
    /// Keys the admin set for everyone (last four characters only).
    pub shared_keys: Vec<SharedKeyInfo>,
}

/// A person's key for a provider, as listed: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderKeyInfo {
    pub id: i64,
    pub provider: String,
    /// The key's last four characters, to tell keys apart.
    pub last4: String,
    /// RFC 3339.
    pub created_at: String,
}

/// A key the admin set for everyone: never the key, only its last four characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SharedKeyInfo {
    pub provider: String,
    pub last4: String,
    /// RFC 3339.
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PutKey {
    pub key: String,
}

/// Usage totals per user, project and model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct UsageTotal {
    pub user_id: i64,
    pub username: String,
    /// The person's display name.
    pub user_name: String,
    pub project_id: Option<String>,
    /// The project's name; None for calls outside a project (the OpenAI
    /// API) and for a project deleted since.
    pub project_name: Option<String>,
    pub provider: String,
    pub model: String,
    pub requests: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub duration_ms: i64,
}
