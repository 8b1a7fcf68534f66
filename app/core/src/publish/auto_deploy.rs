//! Auto-deploy: a site that asks for it is published each time its
//! project's default branch moves, whatever moved it (an agent turn, a
//! save, a push, a pull from a remote). Every such move happens under the
//! project's git writer lock, so the publisher listens to the lock's
//! releases and compares the branch tip with the tip it last published
//! (before its first, the newest deployment's commit): equal means nothing
//! new. A failed build is not retried until the branch moves again, and a
//! deliberate rollback stays live: only a move of the branch publishes.

use super::{store, PublishError, Publisher};
use futures_util::future::BoxFuture;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

impl Publisher {
    /// Follows the git store's lock releases until the publisher goes.
    pub fn spawn_auto_deploy(self: &Arc<Self>) {
        let mut releases = self.git.subscribe_releases();
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let projects = match releases.recv().await {
                    Ok(project_id) => vec![project_id],
                    // Fell behind: every site that asks for it is checked.
                    Err(RecvError::Lagged(_)) => {
                        let Some(me) = me.upgrade() else { return };
                        store::auto_deploy_projects(&me.pool)
                            .await
                            .unwrap_or_default()
                    }
                    Err(RecvError::Closed) => return,
                };
                let Some(me) = me.upgrade() else { return };
                for project_id in projects {
                    if let Err(e) = me.auto_deploy(&project_id).await {
                        tracing::warn!(project = project_id, error = %e, "auto-deploy did not start");
                    }
                }
            }
        });
    }

    /// Publishes the default branch's tip when the site auto-deploys and
    /// its newest deployment is of another commit. A build that runs now
    /// makes this wait: its end checks again.
    ///
    /// Boxed: publishing spawns the build whose end calls this again, and
    /// the compiler cannot prove that cycle of futures `Send` unboxed.
    pub(super) fn auto_deploy<'a>(
        self: &'a Arc<Self>,
        project_id: &'a str,
    ) -> BoxFuture<'a, Result<(), PublishError>> {
        Box::pin(self.auto_deploy_now(project_id))
    }

    async fn auto_deploy_now(self: &Arc<Self>, project_id: &str) -> Result<(), PublishError> {
        let Some(site) = store::site(&self.pool, project_id).await? else {
            return Ok(());
        };
        if !site.auto_deploy {
            return Ok(());
        }
        let pid = project_id.to_string();
        let tip = self
            .git
            .run(move |g| {
                let repo = g.open(&pid)?;
                let tip = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
                Ok(tip.map(|c| c.id().to_string()))
            })
            .await?;
        let Some(tip) = tip else {
            return Ok(());
        };
        // The branch has not moved since auto-deploy last acted (or, before
        // it ever did, since the newest deployment): nothing to publish. A
        // rollback (an older deployment promoted) is left alone.
        let last = match &site.auto_deployed_sha {
            Some(sha) => Some(sha.clone()),
            None => store::newest_commit(&self.pool, project_id).await?,
        };
        if last.as_deref() == Some(tip.as_str()) {
            return Ok(());
        }
        let project = crate::projects::by_id(&self.pool, project_id)
            .await
            .map_err(|_| PublishError::NotFound("project"))?;
        // Under the gate: a build's end (which takes it too) cannot slip
        // between "a build runs" and noting that this change waits for it.
        let mut pending = self.auto_gate.lock().await;
        match self.publish(&project, project.owner_id, Some(&tip)).await {
            Ok(d) => {
                store::set_auto_deployed(&self.pool, project_id, &tip).await?;
                tracing::info!(
                    project = project_id,
                    deployment = d.id,
                    "auto-deploy started"
                );
                Ok(())
            }
            // A build runs: its end checks again.
            Err(PublishError::Conflict(_)) => {
                pending.insert(project_id.to_string());
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Records a build's end (`record`, under the gate) and then publishes
    /// a change that came in while it ran.
    pub(super) async fn end_build<T>(
        self: &Arc<Self>,
        project_id: &str,
        record: impl std::future::Future<Output = T>,
    ) -> T {
        let (result, waiting) = {
            let mut pending = self.auto_gate.lock().await;
            let result = record.await;
            (result, pending.remove(project_id))
        };
        if waiting {
            if let Err(e) = self.auto_deploy(project_id).await {
                tracing::warn!(project = project_id, error = %e, "auto-deploy did not start");
            }
        }
        result
    }
}
