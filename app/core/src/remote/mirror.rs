//! The push mirror. Every ref change happens under the project's writer
//! lock, and the store announces each release (`Git::subscribe_releases`),
//! so the mirror learns of every change of the default branch whatever
//! made it (a turn, a save, a push to the appliance, a pull) and pushes
//! when the tip differs from the last one it tried. A rejected push is
//! recorded ("pull first") and never forced; the next change, or Push now,
//! tries again.

use super::store;
use super::{RemoteError, Remotes};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

impl Remotes {
    /// Starts following the writer-lock releases. Catches up first with
    /// changes made while the appliance was down.
    pub fn spawn_mirror(self: &Arc<Self>) {
        let mut released = self.git().subscribe_releases();
        let me = self.clone();
        tokio::spawn(async move {
            me.mirror_all().await;
            loop {
                match released.recv().await {
                    Ok(project) => me.mirror_soon(project),
                    // Fell behind: some releases are lost, so every
                    // mirrored project is looked at.
                    Err(RecvError::Lagged(_)) => me.mirror_all().await,
                    Err(RecvError::Closed) => break,
                }
            }
        });
    }

    async fn mirror_all(self: &Arc<Self>) {
        match store::mirrored(self.pool()).await {
            Ok(projects) => {
                for p in projects {
                    self.mirror_soon(p);
                }
            }
            Err(e) => tracing::warn!(error = %e, "the push mirror cannot list its projects"),
        }
    }

    /// Checks (and pushes) one project in its own task, so a slow remote
    /// never delays the others.
    pub(super) fn mirror_soon(self: &Arc<Self>, project: String) {
        let me = self.clone();
        tokio::spawn(async move {
            match me.mirror(&project).await {
                Ok(()) => {}
                Err(RemoteError::RemoteAhead) => {
                    tracing::info!(
                        project,
                        "push mirror: the remote has changes this project lacks"
                    )
                }
                Err(e) => tracing::warn!(project, error = %e, "push mirror failed"),
            }
        });
    }

    async fn mirror(&self, project: &str) -> Result<(), RemoteError> {
        // A project without a remote costs one indexed lookup, and no lock.
        match store::get(self.pool(), project).await? {
            Some(row) if row.push_mirror => {}
            _ => return Ok(()),
        }
        let _op = self.op_lock(project).await;
        // Read again under the lock: a push or pull may just have finished.
        let Some(row) = store::get(self.pool(), project).await? else {
            return Ok(());
        };
        if !row.push_mirror {
            return Ok(());
        }
        let (local, remote) = self.branches(&row).await?;
        let Some(tip) = self.tip(project, &local).await? else {
            return Ok(());
        };
        if row.push_sha.as_deref() == Some(tip.as_str()) {
            return Ok(());
        }
        self.push_locked(&row, &tip, &remote).await
    }
}
