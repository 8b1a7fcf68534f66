//! What publishing returns: the caller's mistakes (a version that does not
//! exist, a build already running, a name taken) apart from ours (the
//! engine, the disk), so the HTTP edge can map each once.

use crate::gitstore::GitError;
use crate::sandbox::SandboxError;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Invalid(String),
    /// A rule of the current state: a build runs, the deployment is live.
    #[error("{0}")]
    Conflict(String),
    #[error("the address name {0:?} is taken; choose another")]
    NameTaken(String),
    /// The template cannot be published.
    #[error("the template {0:?} cannot be published")]
    Unsupported(String),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Env(#[from] crate::env_vars::EnvVarError),
    #[error("file system: {0}")]
    Io(#[from] std::io::Error),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}
