//! Sandboxes over the appliance's life: adoption of what still runs after
//! a restart, and the background work (idle stops, the warm pool).

use super::lock::lock;
use super::manager::Sandboxes;
use super::running::Started;
use super::{manifest, SandboxError};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

impl Sandboxes {
    /// After a (re)start of the appliance: adopt running containers of
    /// existing projects, remove everything else of ours (stopped
    /// containers, old warm ones, containers of deleted projects), then fill
    /// the pool and keep stopping idle sandboxes.
    pub async fn recover(
        self: &Arc<Self>,
        projects: &HashMap<String, String>,
    ) -> Result<(), SandboxError> {
        std::fs::create_dir_all(&self.scratch_root)?;
        let engine = self.engine().await?;
        let prefix = format!("autocrea-{}-", self.instance);
        let mut adopted = 0;
        for c in engine.list_ours(&self.instance).await? {
            let project = c
                .name
                .strip_prefix(&prefix)
                .filter(|p| !p.starts_with("pool-"));
            let template = project.and_then(|p| projects.get(p));
            match (project, template) {
                (Some(project), Some(template)) if c.running && *template == c.template => {
                    let Some(manifest) = manifest::for_template(template) else {
                        continue;
                    };
                    let network = self.network_for(template);
                    match engine.address(&c.id, &network).await {
                        Ok(ip) => {
                            self.track(
                                &*engine,
                                Started {
                                    project_id: project,
                                    template,
                                    name: &c.name,
                                    container_id: &c.id,
                                    addr: SocketAddr::from((ip, manifest.port)),
                                    from_warm_pool: false,
                                    requested: Instant::now(),
                                },
                            );
                            adopted += 1;
                        }
                        Err(_) => engine.remove(&c.id).await?,
                    }
                }
                _ => engine.remove(&c.id).await?,
            }
        }
        // Pool folders and half-done swaps belong to containers just removed.
        for entry in std::fs::read_dir(&self.scratch_root)? {
            let _ = std::fs::remove_dir_all(entry?.path());
        }
        if adopted > 0 {
            tracing::info!(adopted, "running sandboxes adopted");
        }
        Ok(())
    }

    /// Background work: the warm pool and idle stops. Ends when the
    /// appliance drops its `Sandboxes`.
    pub fn spawn_background(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let every = Duration::from_secs((self.config.idle_secs / 2).clamp(1, 30));
        tokio::spawn(async move {
            if let Some(me) = weak.upgrade() {
                me.fill_pool().await;
            }
            loop {
                tokio::time::sleep(every).await;
                let Some(me) = weak.upgrade() else { break };
                me.stop_idle().await;
                me.fill_pool().await;
            }
        });
    }

    /// Stops every sandbox unused for `idle_secs`.
    pub(super) async fn stop_idle(&self) {
        let idle: Vec<String> = lock(&self.projects)
            .running
            .values()
            .filter(|r| r.idle_for().as_secs() >= self.config.idle_secs)
            .map(|r| r.project_id.clone())
            .collect();
        for id in idle {
            tracing::info!(project = %id, "stopping idle sandbox");
            if let Err(e) = self.stop(&id).await {
                tracing::warn!(project = %id, error = %e, "could not stop an idle sandbox");
            }
        }
    }
}
