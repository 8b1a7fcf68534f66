//! A project's sandbox: its state, the dev server's log, problems found,
//! commands run in it, and the admin's overview.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Where the dev server stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DevState {
    /// No container runs for the project.
    Stopped,
    /// The container runs; the dev server does not answer on its port yet.
    Starting,
    /// The dev server answers on its port.
    Ready,
    /// The dev server exited; the supervisor restarts it after a backoff.
    Crashed,
    /// The sandbox could not be started (see `message`).
    Failed,
}

names!(DevState { Stopped => "stopped", Starting => "starting", Ready => "ready", Crashed => "crashed", Failed => "failed" });

/// A sandbox as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SandboxView {
    pub state: DevState,
    pub template: String,
    /// Container name, while one runs.
    pub container: Option<String>,
    pub image: String,
    /// The dev server's port inside the container.
    pub port: u16,
    /// Unix seconds.
    pub started_at: Option<i64>,
    /// From the start request to the dev server's first answer.
    pub ready_after_ms: Option<u64>,
    pub restarts: u32,
    pub last_exit: Option<String>,
    pub retry_in_secs: Option<u64>,
    /// Stopped after this many more seconds without use.
    pub idle_stop_in_secs: Option<u64>,
    pub from_warm_pool: bool,
    /// Why it is failed or stopped, when known.
    pub message: Option<String>,
    /// Where the preview is served; filled in by the server, which knows its origin.
    pub preview_url: Option<String>,
}

/// Which output of the dev server a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

names!(Stream { Stdout => "stdout", Stderr => "stderr" });

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogLine {
    /// Increases by one per line over the sandbox's life; resume with `after`.
    pub seq: u64,
    pub stream: Stream,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogList {
    pub lines: Vec<LogLine>,
}

/// A problem a check, the dev server or the preview page reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Diagnostic {
    /// Path relative to the project root, when the tool named one.
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// `error` or `warning`.
    pub severity: String,
    pub message: String,
    /// What found it: a check's name, `dev-server` or `browser`.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorList {
    pub errors: Vec<Diagnostic>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreviewTicket {
    /// Open this URL (within a minute, once) to enter the preview.
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecRequest {
    /// One line of shell; each step must start with an allowed program.
    pub command: String,
    /// Default from `[sandbox] exec_timeout_secs`.
    pub timeout_secs: Option<u64>,
}

/// The outcome of a command run through the exec API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecResult {
    /// `None` when it was killed at the timeout.
    pub exit_code: Option<i64>,
    /// stdout and stderr, interleaved as written, up to the output cap.
    pub output: String,
    pub truncated: bool,
    pub timed_out: bool,
    pub duration_ms: u64,
}

/// The admin's view of every sandbox on the appliance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SandboxOverview {
    pub enabled: bool,
    /// The `org.autocrea.instance` label on this appliance's containers.
    pub instance: String,
    /// Whether the Docker engine answered, and why not.
    pub engine: Health,
    /// Whether sandboxes are kept off this host's own addresses (iptables
    /// rules); `null` until the engine was first used.
    pub host_guard: Option<Health>,
    /// Started containers waiting for a project, per template.
    pub warm: HashMap<String, usize>,
    pub running: Vec<RunningSandbox>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub ok: bool,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunningSandbox {
    pub project_id: String,
    #[serde(flatten)]
    pub sandbox: SandboxView,
}
