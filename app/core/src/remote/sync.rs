//! `Remotes`: linking, pushing and pulling. One push or pull runs at a
//! time per project (a mutex of our own, so a slow network never holds the
//! git store's writer lock); moving the branch after a fetch happens under
//! the writer lock, like every other ref change.
//!
//! A pull never overwrites work: the remote's tip is fetched into a private
//! ref (`refs/autocrea/remote/<branch>`, never a branch people see), then
//! - our tip is an ancestor of it: the branch fast-forwards, each remote
//!   commit becomes a version;
//! - it is an ancestor of our tip: nothing to take (the push brings the
//!   remote up to date);
//! - both moved: git2 merges them in memory; without conflicts the merge
//!   becomes a version, with conflicts nothing changes and the conflict
//!   (both tips, the paths) is recorded for the API and the UI.

use super::git::{self, Endpoint, Pushed};
use super::store::{self, RemoteRow};
use super::url::{self, UrlPolicy};
use super::{
    PullOutcome, PullResult, RemoteConflict, RemoteError, RemoteRequest, RemoteView, SyncStatus,
    WebhookAccepted, REMOTE_AHEAD,
};
use crate::clock::rfc3339;
use crate::config::RemoteConfig;
use crate::gitstore::{validate_branch_name, Git, GitError, GitStore};
use crate::llm::master_key::MasterKey;
use git2::{Oid, Signature};
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

const CONFLICT_ADVICE: &str = "Both this project and the remote changed these files, and the changes do not merge. Nothing was changed here, and pushes wait. To resolve: clone the remote, pull this project's branch into it (its clone URL is on the project page), fix the conflicts, push to the remote, then pull here again. Or revert the local change and pull.";

pub struct Remotes {
    pool: SqlitePool,
    git: Git,
    master: MasterKey,
    config: RemoteConfig,
    /// `<console URL>/api/v1/hooks/remote/`.
    webhook_base: String,
    ops: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
    /// Projects with a webhook pull waiting to start: more deliveries (or
    /// replays of one) while it waits add nothing.
    queued_pulls: Mutex<std::collections::HashSet<String>>,
}

/// What merging the fetched tip into the branch did (blocking part).
enum Integrated {
    UpToDate(String),
    LocalAhead(String),
    FastForward(String),
    Merged(String),
    Conflict {
        local: String,
        remote: String,
        paths: Vec<String>,
    },
}

impl Remotes {
    /// `console_url` is where remotes reach the appliance (its public URL).
    pub fn new(
        pool: SqlitePool,
        git: Git,
        master: MasterKey,
        config: RemoteConfig,
        console_url: &str,
    ) -> Arc<Self> {
        Arc::new(Self {
            pool,
            git,
            master,
            config,
            webhook_base: format!("{}/api/v1/hooks/remote/", console_url.trim_end_matches('/')),
            ops: Mutex::default(),
            queued_pulls: Mutex::default(),
        })
    }

    fn policy(&self) -> UrlPolicy {
        UrlPolicy {
            allow_http: self.config.allow_http,
            allow_loopback: self.config.allow_loopback,
        }
    }

    pub(super) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub(super) fn git(&self) -> &Git {
        &self.git
    }

    /// One push or pull at a time for a project.
    pub(super) async fn op_lock(&self, project: &str) -> OwnedMutexGuard<()> {
        let lock = crate::sync::lock(&self.ops)
            .entry(project.to_string())
            .or_default()
            .clone();
        lock.lock_owned().await
    }

    /// The project's default branch, and the remote branch it syncs with.
    pub(super) async fn branches(&self, row: &RemoteRow) -> Result<(String, String), RemoteError> {
        let id = row.project_id.clone();
        let local = self.git.run(move |g| g.current_branch(&id)).await?;
        let remote = row.branch.clone().unwrap_or_else(|| local.clone());
        Ok((local, remote))
    }

    /// The tip of `branch`, None in an empty repository.
    pub(super) async fn tip(
        &self,
        project: &str,
        branch: &str,
    ) -> Result<Option<String>, RemoteError> {
        let (id, branch) = (project.to_string(), branch.to_string());
        Ok(self
            .git
            .run(move |g| {
                let repo = g.open(&id)?;
                let tip = repo
                    .refname_to_id(&format!("refs/heads/{branch}"))
                    .ok()
                    .map(|o| o.to_string());
                Ok(tip)
            })
            .await?)
    }

    fn view(&self, row: &RemoteRow, default_branch: &str, secret: Option<String>) -> RemoteView {
        let conflict = match (&row.conflict_local, &row.conflict_remote, row.conflict_at) {
            (Some(l), Some(r), Some(at)) => Some(RemoteConflict {
                local_sha: l.clone(),
                remote_sha: r.clone(),
                paths: row
                    .conflict_paths
                    .as_deref()
                    .and_then(|p| serde_json::from_str(p).ok())
                    .unwrap_or_default(),
                at: rfc3339(at),
                advice: CONFLICT_ADVICE.to_string(),
            }),
            _ => None,
        };
        RemoteView {
            url: row.url.clone(),
            username: row.username.clone(),
            token_last4: row.token_last4.clone(),
            branch: row
                .branch
                .clone()
                .unwrap_or_else(|| default_branch.to_string()),
            push_mirror: row.push_mirror,
            webhook_url: format!("{}{}", self.webhook_base, row.project_id),
            webhook_secret: secret,
            last_push: SyncStatus {
                at: row.push_at.map(rfc3339),
                sha: row.push_sha.clone(),
                error: row.push_error.clone(),
            },
            last_pull: SyncStatus {
                at: row.pull_at.map(rfc3339),
                sha: row.pull_sha.clone(),
                error: row.pull_error.clone(),
            },
            conflict,
            updated_at: rfc3339(row.updated_at),
        }
    }

    async fn view_of(
        &self,
        project: &str,
        secret: Option<String>,
    ) -> Result<RemoteView, RemoteError> {
        let row = store::get(&self.pool, project)
            .await?
            .ok_or(RemoteError::NotLinked)?;
        let (local, _) = self.branches(&row).await?;
        Ok(self.view(&row, &local, secret))
    }

    /// The project's link, if any. The caller has checked ownership.
    pub async fn get(&self, project: &str) -> Result<Option<RemoteView>, RemoteError> {
        match self.view_of(project, None).await {
            Ok(v) => Ok(Some(v)),
            Err(RemoteError::NotLinked) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Links the project (or changes its link). The URL is checked and its
    /// host resolved now, so a mistake shows at once; nothing is sent to
    /// the remote until a push or pull. The webhook secret comes back only
    /// when the link is new.
    pub async fn link(
        self: &Arc<Self>,
        project: &str,
        request: &RemoteRequest,
    ) -> Result<RemoteView, RemoteError> {
        let checked = url::parse(&request.url, self.policy())?;
        match url::resolve(&checked, self.policy()).await {
            Err(RemoteError::Failed(m)) => return Err(RemoteError::Invalid(m)),
            other => other?,
        };
        let username = request
            .username
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty());
        if let Some(u) = username {
            if u.len() > 200 || u.contains(':') || u.chars().any(char::is_control) {
                return Err(RemoteError::Invalid(
                    "the user name may not contain ':' or control characters (200 characters at most)"
                        .into(),
                ));
            }
        }
        let token = request.token.as_deref().map(str::trim);
        if let Some(t) = token {
            if t.len() > 1000 || t.chars().any(|c| c.is_control() || c.is_whitespace()) {
                return Err(RemoteError::Invalid(
                    "the token may not contain spaces or control characters (1000 characters at most)"
                        .into(),
                ));
            }
        }
        let branch = request
            .branch
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty());
        if let Some(b) = branch {
            validate_branch_name(b).map_err(|e| RemoteError::Invalid(e.to_string()))?;
        }
        // A stored token goes only to the host it was given for: a new host
        // needs it typed again (or none), or changing the URL would send it
        // to whoever runs that host.
        if let Some(old) = store::get(&self.pool, project).await? {
            let same_origin = url::parse(
                &old.url,
                UrlPolicy {
                    allow_http: true,
                    allow_loopback: true,
                },
            )
            .is_ok_and(|o| {
                (o.host.as_str(), o.port, o.https)
                    == (checked.host.as_str(), checked.port, checked.https)
            });
            if !same_origin && old.token_last4.is_some() && token.is_none() {
                return Err(RemoteError::Invalid(
                    "the URL's host changed: give the token again (a stored token is only sent to the host it was given for), or an empty token for none".into(),
                ));
            }
        }
        let (_, secret) = store::put(
            &self.pool,
            &self.master,
            project,
            store::Link {
                url: &checked.url,
                username,
                token,
                branch,
                push_mirror: request.push_mirror,
            },
        )
        .await?;
        if request.push_mirror {
            // The remote gets what the project has now, not only later changes.
            self.mirror_soon(project.to_string());
        }
        self.view_of(project, secret).await
    }

    pub async fn unlink(&self, project: &str) -> Result<(), RemoteError> {
        let _op = self.op_lock(project).await;
        store::delete(&self.pool, project).await?;
        // The fetched tips go with the link.
        let id = project.to_string();
        self.git
            .run(move |g| {
                let repo = g.open(&id)?;
                let refs: Vec<String> = repo
                    .references_glob("refs/autocrea/remote/*")?
                    .filter_map(|r| {
                        r.ok()
                            .map(|r| String::from_utf8_lossy(r.name_bytes()).into_owned())
                    })
                    .collect();
                for name in refs {
                    repo.find_reference(&name)?.delete()?;
                }
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// A new webhook secret, in this answer only.
    pub async fn rotate_secret(&self, project: &str) -> Result<RemoteView, RemoteError> {
        let secret = store::rotate_secret(&self.pool, &self.master, project).await?;
        self.view_of(project, Some(secret)).await
    }

    /// Checks the stored URL again (the admin's policy or DNS may have
    /// changed) and resolves it now, for git to be pinned to.
    async fn endpoint(&self, row: &RemoteRow) -> Result<Endpoint, RemoteError> {
        let checked = url::parse(&row.url, self.policy())?;
        let addrs = url::resolve(&checked, self.policy()).await?;
        Ok(Endpoint {
            pin: url::pin(&checked, &addrs),
            url: checked.url,
            allow_http: !checked.https,
            username: row.username.clone(),
            token: store::token(&self.master, row)?,
            timeout: Duration::from_secs(self.config.timeout_secs.max(5)),
        })
    }

    /// Pushes the default branch now.
    pub async fn push(&self, project: &str) -> Result<RemoteView, RemoteError> {
        let _op = self.op_lock(project).await;
        let row = store::get(&self.pool, project)
            .await?
            .ok_or(RemoteError::NotLinked)?;
        let (local, remote) = self.branches(&row).await?;
        let tip = self.tip(project, &local).await?.ok_or_else(|| {
            RemoteError::Invalid("nothing to push: the project has no versions yet".into())
        })?;
        self.push_locked(&row, &tip, &remote).await?;
        self.view_of(project, None).await
    }

    /// Pushes `tip` and records how it went. The caller holds the op lock.
    pub(super) async fn push_locked(
        &self,
        row: &RemoteRow,
        tip: &str,
        remote_branch: &str,
    ) -> Result<(), RemoteError> {
        let project = &row.project_id;
        let pushed = match self.endpoint(row).await {
            Ok(endpoint) => {
                let repo = self.git.repo_path(project);
                git::push(&repo, &endpoint, tip, remote_branch).await
            }
            Err(e) => Err(e),
        };
        match pushed {
            Ok(Pushed::Done) => {
                store::set_push(&self.pool, project, tip, None).await?;
                Ok(())
            }
            Ok(Pushed::Rejected) => {
                store::set_push(&self.pool, project, tip, Some(REMOTE_AHEAD)).await?;
                Err(RemoteError::RemoteAhead)
            }
            Err(e) => {
                store::set_push(&self.pool, project, tip, Some(&e.to_string())).await?;
                Err(e)
            }
        }
    }

    /// Fetches the remote's branch and brings it in (see the module's notes).
    pub async fn pull(&self, project: &str) -> Result<PullResult, RemoteError> {
        let _op = self.op_lock(project).await;
        let row = store::get(&self.pool, project)
            .await?
            .ok_or(RemoteError::NotLinked)?;
        let (local, remote) = self.branches(&row).await?;
        let private = format!("refs/autocrea/remote/{remote}");
        let fetched = match self.endpoint(&row).await {
            Ok(endpoint) => {
                let repo = self.git.repo_path(project);
                git::fetch(&repo, &endpoint, &remote, &private).await
            }
            Err(e) => Err(e),
        };
        let found = match fetched {
            Ok(found) => found,
            Err(e) => {
                store::set_pull(&self.pool, project, None, Some(&e.to_string()), None).await?;
                return Err(e);
            }
        };
        if !found {
            // An empty remote (or no such branch yet): nothing to take.
            store::set_pull(&self.pool, project, None, None, None).await?;
            let head = self.tip(project, &local).await?.unwrap_or_default();
            return Ok(PullResult {
                outcome: PullOutcome::LocalAhead,
                head,
                remote: self.view_of(project, None).await?,
            });
        }
        let integrated = {
            let _writer = self.git.lock(project).await;
            let (id, url) = (project.to_string(), row.url.clone());
            let done = self
                .git
                .run(move |g| integrate(g, &id, &local, &private, &url))
                .await?;
            // Before the writer lock goes (its release wakes the mirror):
            // a fast-forward took the remote's own tip, which needs no push.
            if let Integrated::FastForward(sha) = &done {
                store::set_pushed_sha(&self.pool, project, sha).await?;
            }
            done
        };
        let (outcome, head) = match integrated {
            Integrated::UpToDate(h) => (PullOutcome::UpToDate, h),
            Integrated::LocalAhead(h) => (PullOutcome::LocalAhead, h),
            Integrated::FastForward(h) => (PullOutcome::FastForward, h),
            Integrated::Merged(h) => (PullOutcome::Merged, h),
            Integrated::Conflict {
                local,
                remote,
                paths,
            } => {
                store::set_pull(
                    &self.pool,
                    project,
                    Some(&remote),
                    None,
                    Some((&local, &remote, &paths)),
                )
                .await?;
                return Ok(PullResult {
                    outcome: PullOutcome::Conflict,
                    head: local,
                    remote: self.view_of(project, None).await?,
                });
            }
        };
        let remote_tip = self.fetched_tip(project, &row).await?;
        store::set_pull(&self.pool, project, remote_tip.as_deref(), None, None).await?;
        Ok(PullResult {
            outcome,
            head,
            remote: self.view_of(project, None).await?,
        })
    }

    async fn fetched_tip(
        &self,
        project: &str,
        row: &RemoteRow,
    ) -> Result<Option<String>, RemoteError> {
        let (_, remote) = self.branches(row).await?;
        let id = project.to_string();
        Ok(self
            .git
            .run(move |g| {
                Ok(g.open(&id)?
                    .refname_to_id(&format!("refs/autocrea/remote/{remote}"))
                    .ok()
                    .map(|o| o.to_string()))
            })
            .await?)
    }

    /// A webhook delivery: checks the signature, then pulls in the
    /// background when the push was to the branch this project follows.
    /// An unknown project or one without a link answers like a bad
    /// signature, so the endpoint tells a stranger nothing.
    pub async fn webhook(
        self: &Arc<Self>,
        project: &str,
        body: &[u8],
        github_signature: Option<&str>,
        gitea_signature: Option<&str>,
    ) -> Result<WebhookAccepted, RemoteError> {
        let row = store::get(&self.pool, project)
            .await?
            .ok_or(RemoteError::BadSignature)?;
        let secret = store::secret(&self.master, &row)?;
        if !super::webhook::verify(&secret, body, github_signature, gitea_signature) {
            return Err(RemoteError::BadSignature);
        }
        let (_, followed) = self.branches(&row).await?;
        match super::webhook::pushed_branch(body) {
            None => Ok(WebhookAccepted {
                pull: false,
                reason: Some("not a push to a branch (a ping or a tag): nothing to pull".into()),
            }),
            Some(b) if b != followed => Ok(WebhookAccepted {
                pull: false,
                reason: Some(format!("a push to {b}; this project follows {followed}")),
            }),
            Some(_) => {
                if !crate::sync::lock(&self.queued_pulls).insert(project.to_string()) {
                    return Ok(WebhookAccepted {
                        pull: true,
                        reason: Some("a pull is already queued".into()),
                    });
                }
                let (me, id) = (self.clone(), project.to_string());
                tokio::spawn(async move {
                    // Taken off the queue when the pull begins: a push after
                    // this point queues the next one.
                    let _op = me.op_lock(&id).await;
                    crate::sync::lock(&me.queued_pulls).remove(&id);
                    drop(_op);
                    match me.pull(&id).await {
                        Ok(r) => {
                            tracing::info!(project = %id, outcome = %r.outcome, "webhook pull")
                        }
                        Err(e) => tracing::warn!(project = %id, error = %e, "webhook pull failed"),
                    }
                });
                Ok(WebhookAccepted {
                    pull: true,
                    reason: None,
                })
            }
        }
    }
}

/// Brings the fetched `private` ref into `branch`. The caller holds the
/// project's writer lock.
fn integrate(
    g: &GitStore,
    project: &str,
    branch: &str,
    private: &str,
    url: &str,
) -> Result<Integrated, GitError> {
    let repo = g.open(project)?;
    let local_ref = format!("refs/heads/{branch}");
    let remote = repo.refname_to_id(private)?;
    let Ok(local) = repo.refname_to_id(&local_ref) else {
        // An empty project takes the remote's branch as it is.
        repo.reference(&local_ref, remote, false, "pull: the remote's branch")?;
        drop(repo);
        g.sync_worktree(project)?;
        return Ok(Integrated::FastForward(remote.to_string()));
    };
    if local == remote {
        return Ok(Integrated::UpToDate(local.to_string()));
    }
    if repo.graph_descendant_of(local, remote)? {
        return Ok(Integrated::LocalAhead(local.to_string()));
    }
    if repo.graph_descendant_of(remote, local)? {
        repo.reference_matching(&local_ref, remote, true, local, "pull: fast-forward")?;
        drop(repo);
        g.sync_worktree(project)?;
        return Ok(Integrated::FastForward(remote.to_string()));
    }
    let merged = {
        let (ours, theirs) = (repo.find_commit(local)?, repo.find_commit(remote)?);
        let mut index = repo.merge_commits(&ours, &theirs, None)?;
        if index.has_conflicts() {
            let mut paths: Vec<String> = index
                .conflicts()?
                .filter_map(|c| {
                    let c = c.ok()?;
                    let entry = c.our.or(c.their).or(c.ancestor)?;
                    Some(String::from_utf8_lossy(&entry.path).into_owned())
                })
                .collect();
            paths.sort();
            paths.dedup();
            return Ok(Integrated::Conflict {
                local: local.to_string(),
                remote: remote.to_string(),
                paths,
            });
        }
        let tree = repo.find_tree(index.write_tree_to(&repo)?)?;
        let sig = Signature::now("Remote sync", "remote@autocrea.local")?;
        let message = format!(
        "Merge the remote's changes\n\nMerges {remote} from {url} into {branch}: both sides had new versions, in different places."
    );
        let merged: Oid = repo.commit(None, &sig, &sig, &message, &tree, &[&ours, &theirs])?;
        merged
    };
    repo.reference_matching(&local_ref, merged, true, local, "pull: merge")?;
    drop(repo);
    g.sync_worktree(project)?;
    Ok(Integrated::Merged(merged.to_string()))
}
