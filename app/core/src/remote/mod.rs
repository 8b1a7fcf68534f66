//! A project linked to an external git remote: a push mirror of its
//! default branch, pulls on demand or by a signed webhook, and conflicts
//! shown, never resolved by overwriting anyone's work.
//!
//! - `url.rs`: the URL's checks (transports, credentials, SSRF) and the
//!   resolution git is pinned to;
//! - `git.rs`: the git CLI calls (push, fetch) with the token kept out of
//!   argv and logs;
//! - `store.rs`: the link's row, secrets sealed with the master key;
//! - `sync.rs`: `Remotes`, the flow (link, push, pull and merge, webhook);
//! - `mirror.rs`: the background push after each change of the branch;
//! - `webhook.rs`: GitHub and Gitea signatures.
//!
//! Projects without a remote never touch the network.

mod git;
mod mirror;
pub mod store;
mod sync;
pub mod url;
pub mod webhook;

pub use autocrea_wire::remote::{
    PullOutcome, PullResult, RemoteConflict, RemoteLink, RemoteRequest, RemoteView, SyncStatus,
    WebhookAccepted,
};
pub use sync::Remotes;

use crate::gitstore::GitError;

/// What a push says when the remote has moved on.
pub const REMOTE_AHEAD: &str = "the remote has changes this project lacks: pull first";

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("this project is not linked to a remote")]
    NotLinked,
    /// The caller's input (a URL, a branch name, a token).
    #[error("{0}")]
    Invalid(String),
    /// A non-fast-forward push: never forced.
    #[error("{REMOTE_AHEAD}")]
    RemoteAhead,
    /// A webhook delivery whose signature does not check (or a project
    /// without a link: the sender learns nothing more).
    #[error("the webhook signature does not match")]
    BadSignature,
    /// The remote could not be reached or refused us (network, credentials,
    /// a missing repository). The text is git's, with the token removed.
    #[error("{0}")]
    Failed(String),
    /// A sealed secret no longer opens (the master key changed).
    #[error("the stored token or webhook secret cannot be decrypted; link the remote again")]
    Secret,
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}
