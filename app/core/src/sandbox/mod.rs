//! Per-project Docker sandboxes: one hardened container per running
//! project with the working tree mounted read-only, the template's dev
//! server supervised inside it, a warm pool of started containers, idle
//! stop, adoption after a restart, an exec API under a command policy, and
//! `check_for_errors`.
//!
//! The appliance writes project files (through the git store); sandboxes
//! only run them. That is why the project is mounted read-only: a runaway
//! process can fill nothing but its size-limited tmpfs.

mod checks;
mod clock;
pub mod devserver;
pub mod diagnostics;
pub mod docker;
pub mod engine;
mod errors;
mod exec;
#[cfg(test)]
mod fake;
mod firewall;
mod manager;
pub mod manifest;
pub mod policy;
mod pool;
mod recovery;
mod running;
pub(crate) mod scratch;
mod warm_pool;

pub use devserver::{DevState, LogLine};
pub use diagnostics::Diagnostic;
pub use exec::{ExecResult, Terminal};
pub use manager::{SandboxView, Sandboxes};
pub use running::Running;

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("sandboxes are turned off on this appliance ([sandbox] enabled = false)")]
    Disabled,
    #[error(
        "the Docker engine is not reachable ({0}); start dockerd or check [sandbox] docker_socket"
    )]
    EngineUnavailable(String),
    #[error("the sandbox image {0} is missing; build it with installer/images.sh (or load a bundle with --load)")]
    ImageMissing(String),
    #[error("the template {0:?} has no sandbox")]
    NoSandbox(String),
    #[error("the sandbox is not running; start it first")]
    NotRunning,
    #[error("command refused: {0}")]
    CommandRefused(String),
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("Docker engine error: {0}")]
    Engine(String),
    #[error(transparent)]
    Git(#[from] crate::gitstore::GitError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl SandboxError {
    /// What a person may see: the engine's, git's and the file system's own
    /// texts can name host paths (bind-mount sources, lock files), so those
    /// stay in the server's log.
    pub fn public_message(&self) -> String {
        match self {
            SandboxError::Engine(_) => {
                "the Docker engine refused the sandbox operation; the server log has the details"
                    .into()
            }
            SandboxError::Git(_) | SandboxError::Io(_) => {
                "the sandbox could not prepare the project's files; the server log has the details"
                    .into()
            }
            e => e.to_string(),
        }
    }
}
