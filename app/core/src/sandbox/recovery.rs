//! Sandboxes over the appliance's life: adoption of what still runs after
//! a restart, and the background work (idle stops, the warm pool).

use super::manager::Sandboxes;
use super::running::Started;
use super::{manifest, SandboxError};
use crate::sync::lock;
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
                    let env = self.preview_env(project).await;
                    match (engine.address(&c.id, &network).await, env) {
                        (Ok(ip), Ok((env, redactor))) => {
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
                                    hidden_env: super::manager::env_names(&env),
                                    redactor,
                                },
                            );
                            adopted += 1;
                        }
                        // Without its secrets' redactor it is started again, not adopted.
                        _ => engine.remove(&c.id).await?,
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

#[cfg(test)]
mod tests {
    use crate::config::SandboxConfig;
    use crate::sandbox::fake::Harness;
    use crate::sandbox::DevState;
    use std::collections::{HashMap, HashSet};
    use std::time::Duration;

    #[tokio::test]
    async fn recovery_adopts_running_sandboxes_of_known_projects_and_removes_the_rest() {
        let h = Harness::new(SandboxConfig::default());
        let me = h.sandboxes.instance().to_string();
        let e = &h.engine;
        let adopt = e.add_container(&h.name_of("p1"), "static", &me, true);
        let deleted_project = e.add_container(&h.name_of("gone"), "static", &me, true);
        let stopped = e.add_container(&h.name_of("p2"), "static", &me, false);
        let old_warm = e.add_container(&h.name_of("pool-abc"), "static", &me, true);
        let other_template = e.add_container(&h.name_of("p3"), "vite-react", &me, true);
        let not_ours = e.add_container("autocrea-0123456789ab-p1", "static", "0123456789ab", true);
        std::fs::create_dir_all(h.scratch_root().join("pool-abc/.next")).unwrap();
        std::fs::create_dir_all(h.scratch_root().join("swap-p1-xyz")).unwrap();
        let projects = HashMap::from([
            ("p1".to_string(), "static".to_string()),
            ("p2".to_string(), "static".to_string()),
            ("p3".to_string(), "static".to_string()),
            // Even a project of that name never gets a warm container.
            ("pool-abc".to_string(), "static".to_string()),
        ]);

        h.sandboxes.recover(&projects).await.unwrap();

        let removed: HashSet<String> = e.removed().into_iter().collect();
        assert_eq!(
            removed,
            HashSet::from([deleted_project, stopped, old_warm, other_template])
        );
        let left: HashSet<String> = e.containers().into_iter().map(|c| c.id).collect();
        assert_eq!(left, HashSet::from([adopt, not_ours]));
        assert_eq!(
            h.sandboxes.running_projects(),
            [("p1".to_string(), "static".to_string())]
        );
        let r = h.sandboxes.running("p1").expect("adopted");
        assert_eq!(r.container, h.name_of("p1"));
        assert!(!r.from_warm_pool);
        assert!(
            std::fs::read_dir(h.scratch_root())
                .unwrap()
                .next()
                .is_none(),
            "pool folders and half-done swaps are cleared"
        );
    }

    #[tokio::test]
    async fn an_adopted_container_without_an_address_is_removed() {
        let h = Harness::new(SandboxConfig {
            egress_templates: vec!["static".into()],
            ..Default::default()
        });
        // On the internal network, where an egress template's sandbox has no address.
        let id = h
            .engine
            .add_container(&h.name_of("p1"), "static", h.sandboxes.instance(), true);
        let projects = HashMap::from([("p1".to_string(), "static".to_string())]);

        h.sandboxes.recover(&projects).await.unwrap();

        assert_eq!(h.engine.removed(), [id]);
        assert!(h.sandboxes.running("p1").is_none());
    }

    #[tokio::test]
    async fn an_idle_sandbox_is_stopped_after_its_idle_time_and_not_before() {
        let h = Harness::new(SandboxConfig {
            idle_secs: 600,
            warm_pool: 0,
            ..Default::default()
        });
        h.engine.add_image("autocrea/sandbox-static");
        h.project("p1");
        let r = h.sandboxes.start("p1", "static").await.unwrap();
        drop(r);

        h.clock.advance(Duration::from_secs(599));
        h.sandboxes.stop_idle().await;
        assert!(h.engine.removed().is_empty(), "not idle long enough yet");
        assert_eq!(h.sandboxes.view("p1", "static").idle_stop_in_secs, Some(1));

        // Use starts the idle time again.
        h.sandboxes.running("p1").unwrap().touch();
        h.clock.advance(Duration::from_secs(599));
        h.sandboxes.stop_idle().await;
        assert!(h.engine.removed().is_empty(), "used 599 s ago");

        h.clock.advance(Duration::from_secs(1));
        h.sandboxes.stop_idle().await;
        assert_eq!(h.engine.removed(), [h.name_of("p1")]);
        assert!(h.engine.containers().is_empty());
        assert!(h.sandboxes.running("p1").is_none());
        assert_eq!(h.sandboxes.view("p1", "static").state, DevState::Stopped);
    }

    #[tokio::test]
    async fn only_the_idle_one_of_two_sandboxes_is_stopped() {
        let h = Harness::new(SandboxConfig {
            idle_secs: 60,
            warm_pool: 0,
            ..Default::default()
        });
        h.engine.add_image("autocrea/sandbox-static");
        h.project("idle");
        h.project("busy");
        h.sandboxes.start("idle", "static").await.unwrap();
        h.sandboxes.start("busy", "static").await.unwrap();

        h.clock.advance(Duration::from_secs(30));
        h.sandboxes.running("busy").unwrap().touch();
        h.clock.advance(Duration::from_secs(30));
        h.sandboxes.stop_idle().await;

        assert_eq!(h.engine.removed(), [h.name_of("idle")]);
        assert_eq!(
            h.sandboxes.running_projects(),
            [("busy".to_string(), "static".to_string())]
        );
    }
}
