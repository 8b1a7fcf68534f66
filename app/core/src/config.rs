//! Layered configuration: built-in defaults, then `autocrea.toml`, then
//! `AUTOCREA_*` environment variables. With nothing set the appliance serves
//! on 0.0.0.0:8080 with its data in `./data`.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name}={value:?} is not valid: {message}")]
    Env {
        name: &'static str,
        value: String,
        message: String,
    },
}

/// How logs are written.
/// An on/off environment variable.
fn switch(name: &'static str, value: String) -> Result<bool, ConfigError> {
    match value.as_str() {
        "1" | "true" | "on" => Ok(true),
        "0" | "false" | "off" => Ok(false),
        _ => Err(ConfigError::Env {
            name,
            value,
            message: "expected on or off".into(),
        }),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Human,
    Json,
}

/// A master key given in the environment. Its `Debug` never shows it, so a
/// logged configuration cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKeyValue(pub String);

impl std::fmt::Debug for MasterKeyValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKeyValue(redacted)")
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the server listens on (`AUTOCREA_LISTEN`).
    pub listen: SocketAddr,
    /// Folder for the database and repositories (`AUTOCREA_DATA_DIR`).
    pub data_dir: PathBuf,
    /// The URL people use to reach the console, e.g. `https://autocrea.example.com`
    /// (`AUTOCREA_PUBLIC_URL`). When it is https, cookies are `Secure` and `__Host-` prefixed.
    pub public_url: Option<String>,
    /// `human` or `json` (`AUTOCREA_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// Largest request body accepted by the JSON API, in bytes.
    pub max_body_bytes: usize,
    /// How long a sign-in lasts without activity, in hours.
    pub session_idle_hours: i64,
    pub login_throttle: ThrottleConfig,
    pub llm: LlmConfig,
    pub sandbox: SandboxConfig,
    pub agent: AgentConfig,
    pub publish: PublishConfig,
    pub remote: RemoteConfig,
    /// The key that encrypts stored provider keys: 32 bytes as 64 hex digits or base64
    /// (`AUTOCREA_MASTER_KEY` only, never the file); without it the key
    /// file in the data folder is used, created on first start.
    #[serde(skip)]
    pub master_key: Option<MasterKeyValue>,
    /// OpenAI-compatible (or other) providers set up from this file
    /// (`[[providers]]`); at start they are written into the admin's policy,
    /// enabled, with their key shared with every user.
    pub providers: Vec<ProviderConfig>,
}

/// One `[[providers]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub id: String,
    #[serde(default = "openai")]
    pub kind: crate::llm::policy::ProviderKind,
    pub base_url: String,
    pub models: Vec<String>,
    /// The API key itself; better `key_env`, the environment variable holding it.
    pub key: Option<String>,
    pub key_env: Option<String>,
    #[serde(default)]
    pub tools: crate::llm::policy::ToolFormat,
    pub context: Option<u32>,
    /// The models accept images (attached images go to them).
    #[serde(default)]
    pub images: bool,
}

fn openai() -> crate::llm::policy::ProviderKind {
    crate::llm::policy::ProviderKind::Openai
}

impl ProviderConfig {
    /// The entry as a policy provider (enabled).
    pub fn policy(&self) -> crate::llm::policy::ProviderPolicy {
        crate::llm::policy::ProviderPolicy {
            id: self.id.clone(),
            kind: self.kind,
            base_url: self.base_url.trim_end_matches('/').to_string(),
            enabled: true,
            models: self.models.clone(),
            tools: self.tools,
            context: self.context,
            images: self.images,
        }
    }

    /// The entry with its key read, for `llm::policy::apply_config`.
    pub fn configured(&self) -> Result<crate::llm::policy::ConfiguredProvider, String> {
        Ok(crate::llm::policy::ConfiguredProvider {
            policy: self.policy(),
            key: self.key()?,
        })
    }

    /// The key from `key` or the variable `key_env` names.
    pub fn key(&self) -> Result<Option<String>, String> {
        match (&self.key, &self.key_env) {
            (Some(_), Some(_)) => Err(format!(
                "provider {}: set key or key_env, not both",
                self.id
            )),
            (Some(k), None) => Ok(Some(k.clone())),
            (None, Some(var)) => std::env::var(var).map(Some).map_err(|_| {
                format!(
                    "provider {}: the environment variable {var} is not set",
                    self.id
                )
            }),
            (None, None) => Ok(None),
        }
    }
}

/// Agent turns (`[agent]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentConfig {
    /// Thousandths of a credit charged per token (prompt and completion).
    pub milli_credits_per_token: i64,
    /// Turns one person may start per hour; more are refused with 429.
    pub turns_per_hour: i64,
    /// Model calls one role may make in a turn.
    pub max_iterations: usize,
    /// Rounds of fixes after check_for_errors finds errors.
    pub repair_rounds: usize,
    /// How long an Architect's plan waits for approval before the turn fails.
    pub plan_timeout_secs: u64,
    /// Most tokens one model call may write (a whole file fits in 4096).
    pub max_tokens: u32,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            milli_credits_per_token: 1,
            turns_per_hour: 60,
            max_iterations: 10,
            repair_rounds: 3,
            plan_timeout_secs: 1800,
            max_tokens: 4096,
        }
    }
}

/// Per-project Docker sandboxes and the preview proxy (`[sandbox]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    /// Run sandboxes at all (`AUTOCREA_SANDBOX`); off: no previews.
    pub enabled: bool,
    /// The Docker engine's socket (`DOCKER_HOST` style `unix://` path also accepted).
    pub docker_socket: PathBuf,
    /// Previews are served on `p-<project>.<preview_domain>` (`AUTOCREA_PREVIEW_DOMAIN`).
    /// `localhost` works on one machine: browsers send `*.localhost` to loopback.
    pub preview_domain: String,
    /// Image names are `<image_prefix><template>`.
    pub image_prefix: String,
    /// Docker network for sandboxes; created as an internal (no egress) bridge.
    pub network: String,
    /// Templates whose sandboxes may reach the outside world (their own network).
    pub egress_templates: Vec<String>,
    pub memory_mb: u64,
    pub cpus: f64,
    pub pids: i64,
    /// Size of each writable scratch mount (`/tmp`, build folders), in MiB.
    pub tmpfs_mb: u64,
    /// A sandbox with no preview traffic or API use for this long is stopped.
    pub idle_secs: u64,
    /// Started containers kept ready per template, so a new preview is fast.
    pub warm_pool: usize,
    /// Commands run through the exec API: default and largest timeout, output cap.
    pub exec_timeout_secs: u64,
    pub exec_max_timeout_secs: u64,
    pub exec_output_bytes: usize,
    /// Programs the exec API (the agent's terminal) may start.
    pub allowed_commands: Vec<String>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            docker_socket: PathBuf::from("/var/run/docker.sock"),
            preview_domain: "localhost".into(),
            image_prefix: "autocrea/sandbox-".into(),
            network: "autocrea-sandbox".into(),
            egress_templates: Vec::new(),
            memory_mb: 1024,
            cpus: 1.0,
            pids: 256,
            tmpfs_mb: 256,
            idle_secs: 30 * 60,
            warm_pool: 1,
            exec_timeout_secs: 30,
            exec_max_timeout_secs: 600,
            exec_output_bytes: 64 * 1024,
            allowed_commands: [
                "node", "npm", "npx", "tsc", "vite", "next", "eslint", "prettier", "ls", "cat",
                "head", "tail", "wc", "grep", "find", "echo", "pwd", "env", "sort", "uniq", "diff",
                "sed", "awk", "test", "true", "false", "sleep", "du", "df", "ps", "which", "date",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// Published apps (`[publish]` in autocrea.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PublishConfig {
    /// Apps are served on `<name>.<apps_domain>` (`AUTOCREA_APPS_DOMAIN`): a
    /// wildcard DNS name in production. The default works on one machine
    /// (browsers send `*.localhost` to loopback). Never the console's or the
    /// previews' domain: each app needs an origin of its own.
    pub apps_domain: String,
    /// Deployments a new site keeps besides the live one.
    pub retention: i64,
    /// A build that runs longer is stopped and fails.
    pub build_timeout_secs: u64,
    /// Largest build output kept, in MiB.
    pub output_max_mb: u64,
    /// Memory and CPUs of each running server app (nextjs); builds get the sandbox's limits.
    pub app_memory_mb: u64,
    pub app_cpus: f64,
    /// How long a new server app may take to answer its health check.
    pub health_timeout_secs: u64,
}

impl Default for PublishConfig {
    fn default() -> Self {
        Self {
            apps_domain: "apps.localhost".into(),
            retention: 10,
            build_timeout_secs: 600,
            output_max_mb: 1024,
            app_memory_mb: 512,
            app_cpus: 1.0,
            health_timeout_secs: 60,
        }
    }
}

/// Links of projects to external git remotes (`[remote]` in autocrea.toml).
/// A remote's URL is user input that the appliance connects to, so by
/// default only HTTPS and no loopback address are accepted.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemoteConfig {
    /// Accept plain `http://` remotes (`AUTOCREA_REMOTE_ALLOW_HTTP`): the
    /// token then crosses the network in clear.
    pub allow_http: bool,
    /// Accept remotes on loopback addresses (`AUTOCREA_REMOTE_ALLOW_LOOPBACK`):
    /// a git server on the appliance's own host (and tests). Link-local and
    /// cloud metadata addresses are refused whatever this says; private
    /// networks (10/8, 192.168/16...) are always allowed.
    pub allow_loopback: bool,
    /// A push or fetch that takes longer is stopped.
    pub timeout_secs: u64,
}

impl Default for RemoteConfig {
    fn default() -> Self {
        Self {
            allow_http: false,
            allow_loopback: false,
            timeout_secs: 300,
        }
    }
}

/// The local model worker (`[llm]` in autocrea.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// Start and supervise `autocrea llm-worker` (off: only remote providers).
    pub worker: bool,
    /// The model manifest (env AUTOCREA_MODELS).
    pub models: PathBuf,
    /// Model id from the manifest; its default model when unset.
    pub model: Option<String>,
    /// CPU threads for decoding; all cores when unset.
    pub threads: Option<i32>,
    /// Requests decoded together. Each has the whole `context`, so the KV
    /// cache takes slots x context cells: a few large slots, because one
    /// agent request needs many thousand tokens.
    pub slots: usize,
    /// Requests that may wait for a slot before 429.
    pub queue: usize,
    /// Context of each request, in tokens; 0 = the model's context size
    /// (models.toml), never more.
    pub context: u32,
    /// The program to run as the worker; this executable when unset.
    pub worker_binary: Option<PathBuf>,
    /// AUTOCREA's own output head for CPU models (`AUTOCREA_OUTPUT_HEAD`);
    /// off keeps llama.cpp's output product, to compare the two.
    pub output_head: bool,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            worker: true,
            models: PathBuf::from("models/models.toml"),
            model: None,
            threads: None,
            slots: 4,
            queue: 16,
            context: 0,
            worker_binary: None,
            output_head: true,
        }
    }
}

/// Login throttling (see `accounts::throttle`): an address that fails
/// `max_failures` times for one account within `window_secs` may not try
/// that account for `lockout_secs`; one that fails `max_failures_per_ip`
/// times in all may not try any. The account itself is never locked: past
/// `account_delay_after` failures from anywhere, each try waits
/// `account_delay_step_ms` more per failure, at most `account_delay_max_ms`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleConfig {
    pub max_failures: u32,
    pub max_failures_per_ip: u32,
    pub window_secs: u64,
    pub lockout_secs: u64,
    /// 0 turns the account-wide delay off.
    pub account_delay_after: u32,
    pub account_delay_step_ms: u64,
    pub account_delay_max_ms: u64,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            max_failures: 5,
            max_failures_per_ip: 20,
            window_secs: 900,
            lockout_secs: 900,
            account_delay_after: 10,
            account_delay_step_ms: 200,
            account_delay_max_ms: 2000,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            data_dir: PathBuf::from("./data"),
            public_url: None,
            log_format: LogFormat::Human,
            max_body_bytes: 1024 * 1024,
            session_idle_hours: 24 * 14,
            login_throttle: ThrottleConfig::default(),
            llm: LlmConfig::default(),
            sandbox: SandboxConfig::default(),
            agent: AgentConfig::default(),
            publish: PublishConfig::default(),
            remote: RemoteConfig::default(),
            master_key: None,
            providers: Vec::new(),
        }
    }
}

impl Config {
    /// Loads `path` if given (it must exist), else `./autocrea.toml` if present,
    /// then applies the environment.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(path, &env)
    }

    /// Like [`Config::load`] with an explicit environment (for tests).
    pub fn load_from(path: Option<&Path>, env: &[(String, String)]) -> Result<Self, ConfigError> {
        let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let explicit = path
            .map(Path::to_path_buf)
            .or_else(|| lookup("AUTOCREA_CONFIG").map(PathBuf::from));
        let file = match explicit {
            Some(p) => Some(p),
            None => Some(PathBuf::from("autocrea.toml")).filter(|p| p.exists()),
        };
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    path,
                    message: e.to_string(),
                })?
            }
            None => Config::default(),
        };
        if let Some(v) = lookup("AUTOCREA_LISTEN") {
            config.listen = v
                .parse()
                .map_err(|e: std::net::AddrParseError| ConfigError::Env {
                    name: "AUTOCREA_LISTEN",
                    value: v.clone(),
                    message: format!("{e}; expected host:port such as 127.0.0.1:8080"),
                })?;
        }
        if let Some(v) = lookup("AUTOCREA_DATA_DIR") {
            config.data_dir = PathBuf::from(v);
        }
        if let Some(v) = lookup("AUTOCREA_PUBLIC_URL") {
            config.public_url = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = lookup("AUTOCREA_MODELS") {
            config.llm.models = PathBuf::from(v);
        }
        if let Some(v) = lookup("AUTOCREA_LLM_WORKER") {
            config.llm.worker = switch("AUTOCREA_LLM_WORKER", v)?;
        }
        if let Some(v) = lookup("AUTOCREA_SANDBOX") {
            config.sandbox.enabled = switch("AUTOCREA_SANDBOX", v)?;
        }
        if let Some(v) = lookup("AUTOCREA_PREVIEW_DOMAIN") {
            config.sandbox.preview_domain = v.trim_matches('.').to_ascii_lowercase();
        }
        if let Some(v) = lookup("AUTOCREA_APPS_DOMAIN") {
            config.publish.apps_domain = v.trim_matches('.').to_ascii_lowercase();
        }
        if let Some(v) = lookup("AUTOCREA_REMOTE_ALLOW_HTTP") {
            config.remote.allow_http = switch("AUTOCREA_REMOTE_ALLOW_HTTP", v)?;
        }
        if let Some(v) = lookup("AUTOCREA_REMOTE_ALLOW_LOOPBACK") {
            config.remote.allow_loopback = switch("AUTOCREA_REMOTE_ALLOW_LOOPBACK", v)?;
        }
        if let Some(v) = lookup("AUTOCREA_OUTPUT_HEAD") {
            config.llm.output_head = switch("AUTOCREA_OUTPUT_HEAD", v)?;
        }
        if let Some(v) = lookup("AUTOCREA_MASTER_KEY") {
            config.master_key = Some(MasterKeyValue(v));
        }
        if let Some(v) = lookup("AUTOCREA_LOG_FORMAT") {
            config.log_format = match v.as_str() {
                "human" => LogFormat::Human,
                "json" => LogFormat::Json,
                _ => {
                    return Err(ConfigError::Env {
                        name: "AUTOCREA_LOG_FORMAT",
                        value: v,
                        message: "expected human or json".into(),
                    })
                }
            };
        }
        Ok(config)
    }

    /// True when people reach the console over HTTPS.
    pub fn is_https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("autocrea.db")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_need_no_config() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.toml");
        assert!(
            Config::load_from(Some(&missing), &[]).is_err(),
            "an explicit missing file is an error"
        );
        let c = Config::load_from(None, &[]).unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:8080");
        assert_eq!(c.data_dir, PathBuf::from("./data"));
    }

    #[test]
    fn environment_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("autocrea.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/a\"\n[login_throttle]\nmax_failures = 3\n").unwrap();
        let c =
            Config::load_from(Some(&path), &env(&[("AUTOCREA_LISTEN", "127.0.0.1:9100")])).unwrap();
        assert_eq!(c.listen.port(), 9100);
        assert_eq!(c.data_dir, PathBuf::from("/srv/a"));
        assert_eq!(c.login_throttle.max_failures, 3);
        let err = Config::load_from(Some(&path), &env(&[("AUTOCREA_LISTEN", "nope")])).unwrap_err();
        assert!(err.to_string().contains("AUTOCREA_LISTEN"));
    }

    #[test]
    fn remotes_are_strict_unless_allowed() {
        let c = Config::load_from(None, &[]).unwrap();
        assert!(!c.remote.allow_http && !c.remote.allow_loopback);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("autocrea.toml");
        std::fs::write(&path, "[remote]\nallow_http = true\ntimeout_secs = 60\n").unwrap();
        let c = Config::load_from(
            Some(&path),
            &env(&[("AUTOCREA_REMOTE_ALLOW_LOOPBACK", "on")]),
        )
        .unwrap();
        assert!(c.remote.allow_http && c.remote.allow_loopback);
        assert_eq!(c.remote.timeout_secs, 60);
        let err =
            Config::load_from(None, &env(&[("AUTOCREA_REMOTE_ALLOW_HTTP", "maybe")])).unwrap_err();
        assert!(err.to_string().contains("AUTOCREA_REMOTE_ALLOW_HTTP"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("autocrea.toml");
        std::fs::write(&path, "lisen = \"x\"\n").unwrap();
        let err = Config::load_from(Some(&path), &[]).unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
    }
}
