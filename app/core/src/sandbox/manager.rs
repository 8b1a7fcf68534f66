//! `Sandboxes`: which project runs in which container, starting and
//! stopping them, and the engine connection. The warm pool, commands,
//! checks and recovery after a restart are in their own files.

use super::clock::Clock;
use super::devserver::DevState;
use super::docker::Engine;
use super::engine::{ContainerEngine, ContainerSpec};
use super::errors::CheckRun;
use super::running::{Running, Started};
use super::scratch::{check_scratch_dirs, make_scratch_dir};
use super::warm_pool::WarmPool;
use super::{manifest, SandboxError};
use crate::config::SandboxConfig;
use crate::env_vars::{EnvScope, EnvVars, Redactor};
use crate::gitstore::GitStore;
use crate::sync::lock;
pub use autocrea_wire::sandbox::SandboxView;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub struct Sandboxes {
    pub(super) config: SandboxConfig,
    /// One id per data folder: labels our containers and prefixes their names.
    pub(super) instance: String,
    pub(super) git: Arc<GitStore>,
    /// `<data>/sandbox`: warm-pool folders and in-flight swaps.
    pub(super) scratch_root: PathBuf,
    connector: Connector,
    /// Connected on first use, so an appliance without Docker still starts.
    engine: tokio::sync::Mutex<Option<Arc<dyn ContainerEngine>>>,
    /// Whether the host firewall rules are in place (None: not tried yet).
    host_guard: Mutex<Option<Result<(), String>>>,
    pub(super) projects: Mutex<Projects>,
    /// Serialises starts and stops of one project.
    project_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    pub(super) pool: WarmPool,
    pub(super) last_checks: Mutex<HashMap<String, CheckRun>>,
    pub(super) clock: Clock,
    /// The projects' variables (`preview` scope go into sandboxes); set once
    /// at start-up by the server.
    env: std::sync::OnceLock<EnvVars>,
}

/// Where the engine comes from.
enum Connector {
    Docker,
    #[cfg(test)]
    Given(Arc<dyn ContainerEngine>),
}

/// What is known per project, under one lock so that forgetting a gone
/// sandbox and noting why happen together.
#[derive(Default)]
pub(super) struct Projects {
    pub running: HashMap<String, Arc<Running>>,
    /// Why the last start of a project failed, until it starts.
    pub failures: HashMap<String, String>,
}

impl Sandboxes {
    pub fn new(config: SandboxConfig, data_dir: &Path, git: Arc<GitStore>) -> Arc<Self> {
        Self::with(config, data_dir, git, Connector::Docker, Clock::System)
    }

    /// Sandboxes on `engine` instead of Docker, with their own clock.
    #[cfg(test)]
    pub(super) fn with_engine(
        config: SandboxConfig,
        data_dir: &Path,
        git: Arc<GitStore>,
        engine: Arc<dyn ContainerEngine>,
        clock: Clock,
    ) -> Arc<Self> {
        Self::with(config, data_dir, git, Connector::Given(engine), clock)
    }

    fn with(
        config: SandboxConfig,
        data_dir: &Path,
        git: Arc<GitStore>,
        connector: Connector,
        clock: Clock,
    ) -> Arc<Self> {
        use sha2::Digest;
        let canonical = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
        let digest = sha2::Sha256::digest(canonical.to_string_lossy().as_bytes());
        Arc::new(Self {
            instance: hex::encode(&digest[..6]),
            scratch_root: data_dir.join("sandbox"),
            config,
            git,
            connector,
            engine: tokio::sync::Mutex::new(None),
            host_guard: Mutex::default(),
            projects: Mutex::default(),
            project_locks: Mutex::default(),
            pool: WarmPool::default(),
            last_checks: Mutex::default(),
            clock,
            env: std::sync::OnceLock::new(),
        })
    }

    /// Whether sandboxes are kept off the host's own addresses (None until the engine is first used).
    pub fn host_guard(&self) -> Option<Result<(), String>> {
        lock(&self.host_guard).clone()
    }

    /// This appliance's id on the Docker engine (the value of our instance label).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    pub fn image_for(&self, template: &str) -> String {
        format!("{}{}", self.config.image_prefix, template)
    }

    fn name_for(&self, project_id: &str) -> String {
        format!("autocrea-{}-{}", self.instance, project_id)
    }

    pub(crate) async fn engine(&self) -> Result<Arc<dyn ContainerEngine>, SandboxError> {
        if !self.config.enabled {
            return Err(SandboxError::Disabled);
        }
        let mut slot = self.engine.lock().await;
        if let Some(e) = slot.as_ref() {
            return Ok(e.clone());
        }
        let engine: Arc<dyn ContainerEngine> = match &self.connector {
            Connector::Docker => Arc::new(Engine::connect(&self.config.docker_socket).await?),
            #[cfg(test)]
            Connector::Given(engine) => engine.clone(),
        };
        engine
            .ensure_network(&self.config.network, false, &self.instance)
            .await?;
        // The host's firewall is only the real engine's business: a fake
        // engine's sandboxes reach nothing.
        if matches!(self.connector, Connector::Docker) {
            let guarded = tokio::task::spawn_blocking(super::firewall::guard_host)
                .await
                .unwrap_or_else(|e| Err(e.to_string()));
            if let Err(why) = &guarded {
                tracing::warn!(%why, "sandboxes can reach services on this host's addresses; run the appliance as root or add the rules in docs/admin.md");
            }
            *lock(&self.host_guard) = Some(guarded);
        }
        if !self.config.egress_templates.is_empty() {
            engine
                .ensure_network(&self.egress_network(), true, &self.instance)
                .await?;
        }
        *slot = Some(engine.clone());
        Ok(engine)
    }

    fn egress_network(&self) -> String {
        format!("{}-egress", self.config.network)
    }

    pub(crate) fn network_for(&self, template: &str) -> String {
        if self.config.egress_templates.iter().any(|t| t == template) {
            self.egress_network()
        } else {
            self.config.network.clone()
        }
    }

    fn project_lock(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        lock(&self.project_locks)
            .entry(id.to_string())
            .or_default()
            .clone()
    }

    /// The running sandbox of a project; forgets one whose container is gone.
    pub fn running(&self, project_id: &str) -> Option<Arc<Running>> {
        let mut projects = lock(&self.projects);
        let r = projects.running.get(project_id)?.clone();
        if r.is_gone() {
            projects.running.remove(project_id);
            if let Some(why) = r.status().gone {
                projects.failures.insert(project_id.to_string(), why);
            }
            return None;
        }
        Some(r)
    }

    /// Status of a project's sandbox.
    pub fn view(&self, project_id: &str, template: &str) -> SandboxView {
        let port = manifest::for_template(template)
            .map(|m| m.port)
            .unwrap_or(0);
        match self.running(project_id) {
            Some(r) => {
                let s = r.status();
                let idle = self.config.idle_secs.saturating_sub(r.idle_for().as_secs());
                SandboxView {
                    state: s.state,
                    template: template.to_string(),
                    container: Some(r.container.clone()),
                    image: self.image_for(template),
                    port,
                    started_at: Some(r.started_at),
                    ready_after_ms: s.ready_after_ms,
                    restarts: s.restarts,
                    last_exit: s.last_exit,
                    retry_in_secs: s.retry_in_secs,
                    idle_stop_in_secs: Some(idle),
                    from_warm_pool: r.from_warm_pool,
                    message: None,
                    preview_url: None,
                }
            }
            None => {
                let failure = lock(&self.projects).failures.get(project_id).cloned();
                SandboxView {
                    state: if failure.is_some() {
                        DevState::Failed
                    } else {
                        DevState::Stopped
                    },
                    template: template.to_string(),
                    container: None,
                    image: self.image_for(template),
                    port,
                    started_at: None,
                    ready_after_ms: None,
                    restarts: 0,
                    last_exit: None,
                    retry_in_secs: None,
                    idle_stop_in_secs: None,
                    from_warm_pool: false,
                    message: failure,
                    preview_url: None,
                }
            }
        }
    }

    /// Starts the project's sandbox (from the warm pool when one waits), or
    /// returns the running one.
    pub async fn start(
        self: &Arc<Self>,
        project_id: &str,
        template: &str,
    ) -> Result<Arc<Running>, SandboxError> {
        let lock_of_project = self.project_lock(project_id);
        let _guard = lock_of_project.lock().await;
        if let Some(r) = self.running(project_id) {
            r.touch();
            return Ok(r);
        }
        let result = self.start_locked(project_id, template).await;
        match &result {
            Ok(r) => {
                lock(&self.projects).failures.remove(project_id);
                if r.from_warm_pool {
                    let me = self.clone();
                    tokio::spawn(async move { me.fill_pool().await });
                }
            }
            Err(e) => {
                tracing::warn!(project = project_id, error = %e, "sandbox start failed");
                lock(&self.projects)
                    .failures
                    .insert(project_id.to_string(), e.public_message());
            }
        }
        result
    }

    async fn start_locked(
        self: &Arc<Self>,
        project_id: &str,
        template: &str,
    ) -> Result<Arc<Running>, SandboxError> {
        let requested = Instant::now();
        let manifest = manifest::for_template(template)
            .ok_or_else(|| SandboxError::NoSandbox(template.into()))?;
        let engine = self.engine().await?;
        let worktree = self.git.worktree_path(project_id);
        if !worktree.exists() {
            let git = self.git.clone();
            let id = project_id.to_string();
            blocking(move || git.sync_worktree(&id).map_err(SandboxError::from)).await?;
        }
        // Checked before either way in (a warm claim would otherwise drop a
        // pushed `.next` link silently): build-output folders are plain folders.
        check_scratch_dirs(&worktree, &manifest.scratch)?;
        let name = self.name_for(project_id);
        let network = self.network_for(template);
        let (preview_env, redactor) = self.preview_env(project_id).await?;
        let hidden_env = env_names(&preview_env);
        // A warm container started without the project's variables; a
        // project that has some starts its own (a couple of seconds more).
        let warm = match preview_env.is_empty() {
            true => {
                self.start_from_pool(&*engine, project_id, template, &name)
                    .await
            }
            false => None,
        };
        let from_pool = warm.is_some();
        let container_id = match warm {
            Some(id) => id,
            None => {
                let image = self.image_for(template);
                if !engine.image_exists(&image).await {
                    return Err(SandboxError::ImageMissing(image));
                }
                for dir in &manifest.scratch {
                    make_scratch_dir(&worktree, dir)?;
                }
                let spec = ContainerSpec {
                    name: &name,
                    image: &image,
                    template,
                    instance: &self.instance,
                    workspace: &worktree,
                    scratch: &manifest.scratch,
                    env: std::iter::once(format!("AUTOCREA_DEV_COMMAND={}", manifest.dev_command))
                        .chain(preview_env)
                        .collect(),
                    network: &network,
                    command: None,
                    restart: false,
                };
                engine.run(&spec, &self.config).await?
            }
        };
        let ip = match engine.address(&container_id, &network).await {
            Ok(ip) => ip,
            Err(e) => {
                let _ = engine.remove(&container_id).await;
                return Err(e);
            }
        };
        let running = self.track(
            &*engine,
            Started {
                project_id,
                template,
                name: &name,
                container_id: &container_id,
                addr: SocketAddr::from((ip, manifest.port)),
                from_warm_pool: from_pool,
                requested,
                redactor,
                hidden_env,
            },
        );
        tracing::info!(project = project_id, container = %name, warm = from_pool, "sandbox started");
        Ok(running)
    }

    /// Gives the sandboxes the projects' variables (once, at start-up).
    pub fn use_env(&self, env: EnvVars) {
        let _ = self.env.set(env);
    }

    /// The project's `preview` variables as container environment, and the
    /// redactor of their values; none when no store was given.
    pub(super) async fn preview_env(
        &self,
        project_id: &str,
    ) -> Result<(Vec<String>, Redactor), SandboxError> {
        let Some(env) = self.env.get() else {
            return Ok(Default::default());
        };
        env.values(project_id, EnvScope::Preview)
            .await
            .map_err(|e| SandboxError::Invalid(format!("the project's preview variables: {e}")))
    }

    /// Follows a started (or adopted) container from now on.
    pub(super) fn track(&self, engine: &dyn ContainerEngine, started: Started<'_>) -> Arc<Running> {
        let project_id = started.project_id.to_string();
        let running = Running::spawn(engine, started, self.clock.clone());
        lock(&self.projects)
            .running
            .insert(project_id, running.clone());
        running
    }

    /// Stops and removes the project's container (the project's files stay).
    pub async fn stop(&self, project_id: &str) -> Result<bool, SandboxError> {
        let lock_of_project = self.project_lock(project_id);
        let _guard = lock_of_project.lock().await;
        let running = {
            let mut projects = lock(&self.projects);
            projects.failures.remove(project_id);
            projects.running.remove(project_id)
        };
        let Some(running) = running else {
            return Ok(false);
        };
        let engine = self.engine().await?;
        engine.remove(&running.container).await?;
        tracing::info!(project = project_id, container = %running.container, "sandbox stopped");
        Ok(true)
    }

    /// Whether the engine answers (connecting when not yet connected).
    pub async fn engine_health(&self) -> Result<(), String> {
        self.engine().await.map(|_| ()).map_err(|e| e.to_string())
    }

    /// `(project id, template)` of every running sandbox.
    pub fn running_projects(&self) -> Vec<(String, String)> {
        let mut list: Vec<_> = lock(&self.projects)
            .running
            .values()
            .filter(|r| !r.is_gone())
            .map(|r| (r.project_id.clone(), r.template.clone()))
            .collect();
        list.sort();
        list
    }
}

pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SandboxError> + Send + 'static,
) -> Result<T, SandboxError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SandboxError::Io(std::io::Error::other(e.to_string())))?
}

/// The names of `NAME=value` entries.
pub(super) fn env_names(env: &[String]) -> Vec<String> {
    env.iter()
        .filter_map(|e| e.split_once('=').map(|(n, _)| n.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::config::SandboxConfig;
    use crate::sandbox::fake::{Call, Harness};
    use crate::sandbox::{DevState, SandboxError};

    fn harness() -> Harness {
        let h = Harness::new(SandboxConfig {
            warm_pool: 0,
            ..Default::default()
        });
        h.engine.add_image("autocrea/sandbox-static");
        h
    }

    #[tokio::test]
    async fn a_start_runs_one_container_on_the_working_tree_and_a_second_start_reuses_it() {
        let h = harness();
        let tree = h.project("p1");
        let first = h.sandboxes.start("p1", "static").await.unwrap();
        let again = h.sandboxes.start("p1", "static").await.unwrap();

        assert!(std::sync::Arc::ptr_eq(&first, &again));
        let runs = h.engine.runs();
        assert_eq!(runs.len(), 1);
        assert!(
            matches!(&runs[0], Call::Run { name, template, workspace, env }
            if *name == h.name_of("p1") && template == "static" && *workspace == tree
                && env.iter().any(|e| e.starts_with("AUTOCREA_DEV_COMMAND=")))
        );
        assert_eq!(first.addr.port(), 8000);
        let view = h.sandboxes.view("p1", "static");
        assert_eq!(view.container, Some(h.name_of("p1")));
        // Ready when something on this machine happens to answer on the port.
        assert!(matches!(view.state, DevState::Starting | DevState::Ready));
    }

    #[tokio::test]
    async fn the_dev_servers_exit_marker_marks_it_crashed() {
        let h = harness();
        h.project("p1");
        let r = h.sandboxes.start("p1", "static").await.unwrap();
        h.engine.say(
            &h.name_of("p1"),
            "[autocrea] exited with status 137; restarting in 4s",
        );
        h.until("the crash to be seen", || r.state() == DevState::Crashed)
            .await;
        let view = h.sandboxes.view("p1", "static");
        assert_eq!(view.restarts, 1);
        assert_eq!(view.retry_in_secs, Some(4));
        assert!(view.last_exit.unwrap().contains("137"));
    }

    #[tokio::test]
    async fn a_container_that_goes_away_is_forgotten_and_the_view_says_why() {
        let h = harness();
        h.project("p1");
        let r = h.sandboxes.start("p1", "static").await.unwrap();
        h.engine.vanish(&h.name_of("p1"));
        h.until("the follower to see the end", || {
            r.state() == DevState::Stopped
        })
        .await;

        assert!(h.sandboxes.running("p1").is_none());
        assert!(h.sandboxes.running_projects().is_empty());
        let view = h.sandboxes.view("p1", "static");
        assert_eq!(view.state, DevState::Failed);
        assert_eq!(
            view.message.as_deref(),
            Some("the sandbox container stopped")
        );
    }

    #[tokio::test]
    async fn a_failed_start_is_shown_until_the_next_start_works() {
        let h = Harness::new(SandboxConfig {
            warm_pool: 0,
            ..Default::default()
        });
        h.project("p1");
        let err = h.sandboxes.start("p1", "static").await.err();
        assert!(
            matches!(err, Some(SandboxError::ImageMissing(_))),
            "{err:?}"
        );
        assert!(h.engine.runs().is_empty(), "checked before any container");
        assert_eq!(h.sandboxes.view("p1", "static").state, DevState::Failed);

        h.engine.add_image("autocrea/sandbox-static");
        h.sandboxes.start("p1", "static").await.unwrap();
        let view = h.sandboxes.view("p1", "static");
        assert!(matches!(view.state, DevState::Starting | DevState::Ready));
        assert_eq!(view.message, None);
    }

    #[tokio::test]
    async fn a_stop_removes_the_container_and_a_second_stop_has_nothing_to_do() {
        let h = harness();
        h.project("p1");
        h.sandboxes.start("p1", "static").await.unwrap();
        assert!(h.sandboxes.stop("p1").await.unwrap());
        assert!(!h.sandboxes.stop("p1").await.unwrap());
        assert_eq!(h.engine.removed(), [h.name_of("p1")]);
        assert_eq!(h.sandboxes.view("p1", "static").state, DevState::Stopped);
    }

    #[tokio::test]
    async fn turned_off_sandboxes_never_reach_the_engine() {
        let h = Harness::new(SandboxConfig {
            enabled: false,
            ..Default::default()
        });
        h.project("p1");
        let err = h.sandboxes.start("p1", "static").await.err();
        assert!(matches!(err, Some(SandboxError::Disabled)));
        h.sandboxes.fill_pool().await;
        assert!(h.engine.calls().is_empty());
    }

    #[tokio::test]
    async fn the_networks_are_made_once_with_the_egress_one_only_when_asked_for() {
        let h = Harness::new(SandboxConfig {
            warm_pool: 0,
            egress_templates: vec!["vite-react".into()],
            ..Default::default()
        });
        h.engine.add_image("autocrea/sandbox-static");
        h.project("p1");
        h.sandboxes.start("p1", "static").await.unwrap();
        h.sandboxes.engine_health().await.unwrap();
        let networks: Vec<Call> = h
            .engine
            .calls()
            .into_iter()
            .filter(|c| matches!(c, Call::EnsureNetwork { .. }))
            .collect();
        assert_eq!(
            networks,
            [
                Call::EnsureNetwork {
                    name: "autocrea-sandbox".into(),
                    egress: false
                },
                Call::EnsureNetwork {
                    name: "autocrea-sandbox-egress".into(),
                    egress: true
                },
            ]
        );
    }
}
