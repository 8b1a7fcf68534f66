//! A project's link to an external git remote (GitHub, GitLab, Gitea, any
//! HTTPS remote): the push mirror, pulls on demand or by webhook, and the
//! conflicts a pull found. The token is write-only: only its last four
//! characters ever come back.

use serde::{Deserialize, Serialize};

/// Link (or change the link of) a project to a remote.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemoteRequest {
    /// `https://host/owner/repo.git`. No credentials in it: use `username`
    /// and `token`.
    pub url: String,
    /// The user name sent with the token (GitHub ignores it; GitLab wants
    /// `oauth2` or the user's name, Gitea the user's name).
    #[serde(default)]
    pub username: Option<String>,
    /// An access token. Absent keeps the one stored; an empty string
    /// removes it.
    #[serde(default)]
    pub token: Option<String>,
    /// The remote's branch to push to and pull from; the project's default
    /// branch when absent.
    #[serde(default)]
    pub branch: Option<String>,
    /// Push the default branch after every change.
    #[serde(default)]
    pub push_mirror: bool,
}

/// Never the token, should a request be logged.
impl std::fmt::Debug for RemoteRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteRequest")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("token", &self.token.as_ref().map(|_| ".."))
            .field("branch", &self.branch)
            .field("push_mirror", &self.push_mirror)
            .finish()
    }
}

/// The last push or pull.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncStatus {
    /// RFC 3339; none when it never ran.
    pub at: Option<String>,
    /// The version pushed, or the remote's tip that was pulled.
    pub sha: Option<String>,
    /// Why it failed (credentials never appear here).
    pub error: Option<String>,
}

/// A pull that found local and remote changes to the same lines: nothing
/// was changed here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemoteConflict {
    /// This project's tip when the pull ran.
    pub local_sha: String,
    /// The remote's tip.
    pub remote_sha: String,
    /// Files changed on both sides in ways that do not merge.
    pub paths: Vec<String>,
    /// RFC 3339.
    pub at: String,
    /// What to do about it.
    pub advice: String,
}

/// A linked remote as the API shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemoteView {
    pub url: String,
    pub username: Option<String>,
    /// The token's last four characters, when one is stored.
    pub token_last4: Option<String>,
    /// The remote branch it syncs with.
    pub branch: String,
    pub push_mirror: bool,
    /// Where the remote's push webhook goes (GitHub: content type
    /// application/json; Gitea: POST, application/json).
    pub webhook_url: String,
    /// The webhook's secret: only in the answer that created or rotated it.
    pub webhook_secret: Option<String>,
    pub last_push: SyncStatus,
    pub last_pull: SyncStatus,
    /// The pull that could not merge, until a later pull or push succeeds.
    pub conflict: Option<RemoteConflict>,
    /// RFC 3339.
    pub updated_at: String,
}

/// Never the webhook secret, should an answer be logged.
impl std::fmt::Debug for RemoteView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteView")
            .field("url", &self.url)
            .field("branch", &self.branch)
            .field("push_mirror", &self.push_mirror)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| ".."),
            )
            .field("last_push", &self.last_push)
            .field("last_pull", &self.last_pull)
            .field("conflict", &self.conflict)
            .finish_non_exhaustive()
    }
}

/// `GET .../remote`: the link, or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemoteLink {
    pub remote: Option<RemoteView>,
}

/// What a pull did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PullOutcome {
    /// The remote had nothing new.
    UpToDate,
    /// This project has versions the remote lacks, and nothing else: the
    /// push brings the remote up to date.
    LocalAhead,
    /// The remote's new commits became versions here.
    FastForward,
    /// Both sides had changed, in different places: a merge version joins them.
    Merged,
    /// Both sides changed the same lines: nothing changed here (see `conflict`).
    Conflict,
}

names!(PullOutcome { UpToDate => "up_to_date", LocalAhead => "local_ahead", FastForward => "fast_forward", Merged => "merged", Conflict => "conflict" });

/// `POST .../remote/pull`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResult {
    pub outcome: PullOutcome,
    /// The default branch's tip afterwards.
    pub head: String,
    pub remote: RemoteView,
}

/// What the webhook did with a delivery (the pull runs afterwards).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookAccepted {
    /// A pull was started.
    pub pull: bool,
    /// Why not (another branch, a ping).
    pub reason: Option<String>,
}
