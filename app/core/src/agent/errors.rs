//! What can go wrong at the agent's boundaries: the model it calls, the
//! sandbox it runs tools in, and the diff the Security Auditor reads. The
//! server's adapters (`server/src/agent/bridge.rs`, `hooks.rs`) map their
//! own errors into these; the runner turns them into what the person and
//! the model are told.

/// Why a model call gave no answer; the turn ends with the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The model cannot take the request now: busy, restarting, unreachable,
    /// or its provider failed (a 5xx). Sending the message again may work.
    #[error("{0}")]
    Unavailable(String),
    /// The request was refused: no key, a model the person may not use, or
    /// a request the provider rejects. Sending it again will not help.
    #[error("{0}")]
    Refused(String),
    /// The answer broke off or could not be read.
    #[error("{0}")]
    Broken(String),
}

/// Why a sandbox tool (a terminal command, the error check) gave no result.
/// The model reads the message and may try something else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// The person pressed Stop while it ran.
    #[error("stopped by the user")]
    Stopped,
    /// The command policy does not allow the command (the reason).
    #[error("command refused: {0}")]
    Refused(String),
    /// The sandbox could not run it (off, not started, the engine failed).
    #[error("{0}")]
    Sandbox(String),
}

/// The turn's diff could not be made (the Security Auditor is told so).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DiffError(pub String);
