//! The warm pool: started containers per template, each with an empty
//! folder mounted and its dev server waiting for a go file, so a new
//! preview needs no container start. A start claims one by moving the
//! project's files into that folder.

use super::engine::{ContainerEngine, ContainerSpec};
use super::manager::{blocking, Sandboxes};
use super::scratch::make_scratch_dir;
use super::warm_pool::{Warm, GO_FILE};
use super::{manifest, SandboxError};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Sandboxes {
    /// Number of warm containers per template (for the admin view and tests).
    pub fn warm_counts(&self) -> HashMap<String, usize> {
        self.pool.counts()
    }

    /// Gives the project a warm container when one waits and nobody holds
    /// the project's git lock; its id, or `None` to start a new one.
    pub(super) async fn start_from_pool(
        &self,
        engine: &dyn ContainerEngine,
        project_id: &str,
        template: &str,
        name: &str,
    ) -> Option<String> {
        // A warm container needs the working tree moved, so only when no
        // writer holds it: during an agent turn (which holds the lock for
        // its whole length) a new container is started instead.
        let guard = self.git.try_lock(project_id)?;
        let warm = self.pool.take(template)?;
        match self.claim(engine, guard, warm, project_id, name).await {
            Ok(id) => Some(id),
            Err(e) => {
                tracing::warn!(project = project_id, error = %e, "warm sandbox could not be used; starting a new one");
                None
            }
        }
    }

    /// Gives a warm container a project: its empty folder becomes the
    /// project's working tree (a bind mount follows the folder, not its
    /// name; the caller holds the project's git lock for the move), it takes
    /// the project's name, and its dev server starts.
    async fn claim(
        &self,
        engine: &dyn ContainerEngine,
        git_lock: crate::gitstore::WriterLock,
        warm: Warm,
        project_id: &str,
        name: &str,
    ) -> Result<String, SandboxError> {
        let worktree = self.git.worktree_path(project_id);
        let swapped = {
            let (dir, wt, root) = (
                warm.dir.clone(),
                worktree.clone(),
                self.scratch_root.clone(),
            );
            let id = project_id.to_string();
            let swapped = blocking(move || swap_in(&dir, &wt, &root, &id)).await;
            drop(git_lock);
            swapped
        };
        if let Err(e) = swapped {
            let _ = engine.remove(&warm.id).await;
            let _ = std::fs::remove_dir_all(&warm.dir);
            return Err(e);
        }
        let claimed = async {
            engine.remove(name).await?; // a stale container of this name
            engine.rename(&warm.id, name).await?;
            engine.run_quiet(&warm.id, &["touch", GO_FILE]).await
        };
        if let Err(e) = claimed.await {
            let _ = engine.remove(&warm.id).await;
            return Err(e);
        }
        Ok(warm.id)
    }

    /// Tops the warm pool up to `warm_pool` containers per template whose
    /// image is present. One fill runs at a time; a call during a fill
    /// makes that fill go round once more.
    pub async fn fill_pool(self: &Arc<Self>) {
        if self.config.warm_pool == 0 || !self.config.enabled {
            return;
        }
        self.pool.refill_wanted.store(true, Ordering::SeqCst);
        let Ok(_filling) = self.pool.filling.try_lock() else {
            return;
        };
        while self.pool.refill_wanted.swap(false, Ordering::SeqCst) {
            let Ok(engine) = self.engine().await else {
                return;
            };
            for t in crate::templates::TEMPLATES {
                let Some(manifest) = manifest::for_template(t.id) else {
                    continue;
                };
                let image = self.image_for(t.id);
                if !engine.image_exists(&image).await {
                    continue;
                }
                while self.pool.len(t.id) < self.config.warm_pool {
                    match self.new_warm(&*engine, t.id, &image, manifest).await {
                        Ok(w) => self.pool.add(t.id, w),
                        Err(e) => {
                            tracing::warn!(template = t.id, error = %e, "could not start a warm sandbox");
                            break;
                        }
                    }
                }
            }
        }
    }

    async fn new_warm(
        &self,
        engine: &dyn ContainerEngine,
        template: &str,
        image: &str,
        manifest: &manifest::TemplateManifest,
    ) -> Result<Warm, SandboxError> {
        let label = crate::secrets::random_label(10);
        let dir = self.scratch_root.join(format!("pool-{label}"));
        std::fs::create_dir_all(&dir)?;
        for sub in &manifest.scratch {
            make_scratch_dir(&dir, sub)?;
        }
        let name = format!("autocrea-{}-pool-{label}", self.instance);
        let spec = ContainerSpec {
            name: &name,
            image,
            template,
            instance: &self.instance,
            workspace: &dir,
            scratch: &manifest.scratch,
            env: vec![
                format!("AUTOCREA_DEV_COMMAND={}", manifest.dev_command),
                format!("AUTOCREA_WAIT_FOR={GO_FILE}"),
            ],
            network: &self.network_for(template),
            command: None,
            restart: false,
        };
        match engine.run(&spec, &self.config).await {
            Ok(id) => Ok(Warm { id, dir }),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                Err(e)
            }
        }
    }
}

/// Makes `pool_dir` (mounted in a warm container) the project's working
/// tree: the old tree moves aside, the pool folder takes its name, and the
/// files move in (renames on one file system; nothing is copied).
fn swap_in(
    pool_dir: &Path,
    worktree: &Path,
    scratch_root: &Path,
    project_id: &str,
) -> Result<(), SandboxError> {
    let aside = scratch_root.join(format!(
        "swap-{project_id}-{}",
        crate::secrets::random_label(6)
    ));
    std::fs::rename(worktree, &aside)?;
    if let Err(e) = std::fs::rename(pool_dir, worktree) {
        std::fs::rename(&aside, worktree)?;
        return Err(e.into());
    }
    for entry in std::fs::read_dir(&aside)? {
        let entry = entry?;
        let target = worktree.join(entry.file_name());
        if target.exists() {
            // A scratch folder (build output): in the pool folder it is a
            // tmpfs mount point in the container and must stay; the
            // project's copy holds nothing the project tracks.
            std::fs::remove_dir_all(entry.path())?;
            continue;
        }
        std::fs::rename(entry.path(), target)?;
    }
    std::fs::remove_dir(&aside)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::GO_FILE;
    use crate::config::SandboxConfig;
    use crate::sandbox::fake::{Call, Harness};
    use std::collections::HashMap;

    fn pool_of(size: usize) -> Harness {
        let h = Harness::new(SandboxConfig {
            warm_pool: size,
            ..Default::default()
        });
        // No image for nextjs: its pool stays empty.
        h.engine.add_image("autocrea/sandbox-static");
        h.engine.add_image("autocrea/sandbox-vite-react");
        h
    }

    fn pool_runs(h: &Harness, template: &str) -> usize {
        let prefix = format!("autocrea-{}-pool-", h.sandboxes.instance());
        h.engine
            .runs()
            .iter()
            .filter(|c| {
                matches!(c, Call::Run { name, template: t, env, .. }
                if name.starts_with(&prefix) && t == template
                    && env.contains(&format!("AUTOCREA_WAIT_FOR={GO_FILE}")))
            })
            .count()
    }

    #[tokio::test]
    async fn the_pool_fills_to_its_size_for_each_template_with_an_image() {
        let h = pool_of(2);
        h.sandboxes.fill_pool().await;
        assert_eq!(
            h.sandboxes.warm_counts(),
            HashMap::from([("static".into(), 2), ("vite-react".into(), 2)])
        );
        assert_eq!(pool_runs(&h, "static"), 2);
        assert_eq!(pool_runs(&h, "vite-react"), 2);
        assert_eq!(
            h.engine.runs().len(),
            4,
            "nothing for nextjs, whose image is missing"
        );
        // A full pool starts nothing more.
        h.sandboxes.fill_pool().await;
        assert_eq!(h.engine.runs().len(), 4);
    }

    #[tokio::test]
    async fn a_start_takes_a_warm_container_and_the_pool_refills() {
        let h = pool_of(1);
        h.sandboxes.fill_pool().await;
        let warm = h.engine.containers()[0].clone();
        let tree = h.project("p1");

        let r = h.sandboxes.start("p1", "static").await.unwrap();

        assert!(r.from_warm_pool);
        assert_eq!(r.container, h.name_of("p1"));
        let calls = h.engine.calls();
        assert!(calls.contains(&Call::Rename {
            container: warm.id.clone(),
            to: h.name_of("p1")
        }));
        assert!(calls.contains(&Call::Exec {
            container: warm.id.clone(),
            cmd: vec!["touch".into(), GO_FILE.into()]
        }));
        assert!(!h.engine.removed().contains(&warm.id));
        assert_eq!(
            h.engine.container(&h.name_of("p1")).map(|c| c.id),
            Some(warm.id)
        );
        // The project's files are in the folder the warm container mounts,
        // now under the working tree's name.
        assert!(tree.join("index.html").is_file());
        let mounted = h.engine.runs().into_iter().find_map(|c| match c {
            Call::Run {
                name, workspace, ..
            } if name == warm.name => Some(workspace),
            _ => None,
        });
        assert!(
            !mounted.unwrap().exists(),
            "the pool folder took the tree's name"
        );
        let left: Vec<_> = std::fs::read_dir(h.scratch_root())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            left.iter().all(|f| f.starts_with("pool-")),
            "nothing was left aside: {left:?}"
        );

        h.until("the pool to refill", || {
            h.sandboxes.warm_counts().get("static") == Some(&1)
        })
        .await;
        assert_eq!(pool_runs(&h, "static"), 2);
        assert_eq!(
            h.engine.runs().len(),
            3,
            "the project's own start ran no container"
        );
    }

    #[tokio::test]
    async fn during_an_agent_turn_a_start_leaves_the_pool_alone() {
        let h = pool_of(1);
        h.sandboxes.fill_pool().await;
        h.project("p1");
        let turn = h.git.lock("p1").await;

        let r = h.sandboxes.start("p1", "static").await.unwrap();

        assert!(!r.from_warm_pool);
        assert_eq!(h.sandboxes.warm_counts().get("static"), Some(&1));
        let last = h.engine.runs().pop();
        assert!(
            matches!(&last, Some(Call::Run { name, workspace, .. })
                if *name == h.name_of("p1") && *workspace == h.git.worktree_path("p1")),
            "a new container on the working tree itself: {last:?}"
        );
        drop(turn);
    }

    #[tokio::test]
    async fn a_warm_container_that_cannot_be_claimed_is_removed_and_a_new_one_started() {
        let h = pool_of(1);
        h.sandboxes.fill_pool().await;
        let warm = h.engine.containers()[0].clone();
        h.engine.vanish(&warm.id);
        h.project("p1");

        let r = h.sandboxes.start("p1", "static").await.unwrap();

        assert!(!r.from_warm_pool);
        assert!(h.engine.removed().contains(&warm.id));
        assert!(h
            .engine
            .runs()
            .iter()
            .any(|c| matches!(c, Call::Run { name, .. } if *name == h.name_of("p1"))));
    }
}
