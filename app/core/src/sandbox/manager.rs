//! `Sandboxes`: which project runs in which container, and everything that
//! happens to them over time (start, warm pool, idle stop, adoption).

use super::devserver::{self, DevState, LogBuffer, Marker};
use super::diagnostics::{self, Diagnostic};
use super::docker::Engine;
use super::engine::{ContainerEngine, ContainerSpec, InputSink, OutputStream};
use super::errors::{BrowserErrors, CheckRun};
use super::{manifest, policy, SandboxError};
use crate::config::SandboxConfig;
use crate::gitstore::GitStore;
use bollard::container::LogOutput;
use futures_util::StreamExt;
use serde::Serialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::AbortHandle;

/// The file a warm-pool container waits for before starting its dev server.
const GO_FILE: &str = "/tmp/.autocrea-go";

pub struct Sandboxes {
    config: SandboxConfig,
    /// One id per data folder: labels our containers and prefixes their names.
    instance: String,
    git: Arc<GitStore>,
    /// `<data>/sandbox`: warm-pool folders and in-flight swaps.
    scratch_root: PathBuf,
    engine: tokio::sync::Mutex<Option<Arc<dyn ContainerEngine>>>,
    running: Mutex<HashMap<String, Arc<Running>>>,
    project_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    warm: Mutex<HashMap<String, Vec<Warm>>>,
    filling: tokio::sync::Mutex<()>,
    refill_wanted: std::sync::atomic::AtomicBool,
    /// Why the last start of a project failed, until it starts.
    failures: Mutex<HashMap<String, String>>,
    last_checks: Mutex<HashMap<String, CheckRun>>,
    /// Whether the host firewall rules are in place (None: not tried yet).
    host_guard: Mutex<Option<Result<(), String>>>,
}

/// A started container waiting for a project.
struct Warm {
    id: String,
    dir: PathBuf,
}

/// A project's running sandbox.
pub struct Running {
    pub project_id: String,
    pub template: String,
    pub container: String,
    /// The dev server, on the sandbox network.
    pub addr: SocketAddr,
    pub logs: LogBuffer,
    pub from_warm_pool: bool,
    started: Instant,
    started_at: i64,
    status: watch::Sender<Status>,
    last_activity: Mutex<Instant>,
    browser_errors: Mutex<BrowserErrors>,
    tasks: Mutex<Vec<AbortHandle>>,
}

#[derive(Debug, Clone)]
struct Status {
    state: DevState,
    restarts: u32,
    last_exit: Option<String>,
    retry_in_secs: Option<u64>,
    ready_after_ms: Option<u64>,
    /// Set when the container itself is gone.
    gone: Option<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        for t in self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            t.abort();
        }
    }
}

impl Running {
    pub fn touch(&self) {
        *self.last_activity.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    fn idle_for(&self) -> Duration {
        self.last_activity
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .elapsed()
    }

    pub fn state(&self) -> DevState {
        self.status.borrow().state
    }

    fn is_gone(&self) -> bool {
        self.status.borrow().gone.is_some()
    }

    /// Waits up to `limit` for the dev server to answer; true when it does.
    pub async fn wait_ready(&self, limit: Duration) -> bool {
        let mut rx = self.status.subscribe();
        tokio::time::timeout(
            limit,
            rx.wait_for(|s| s.state == DevState::Ready || s.gone.is_some()),
        )
        .await
        .map(|r| r.map(|s| s.state == DevState::Ready).unwrap_or(false))
        .unwrap_or(false)
    }

    /// An error the injected preview script saw in the browser, on the
    /// page with id `page` (what its script made up at load; may be empty).
    pub fn report_browser_error(&self, page: &str, d: Diagnostic) {
        let seq = self.log_seq();
        self.browser_errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .report(page, seq, d);
    }

    /// Page `page` (re)loaded: what the browser reported before is history.
    pub fn page_loaded(&self, page: &str) {
        self.browser_errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .page_loaded(page);
    }

    /// What the browser reported since the code last changed.
    fn browser_errors(&self, fresh: u64) -> Vec<Diagnostic> {
        self.browser_errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .since(fresh)
    }

    /// The `seq` of the dev server's last output line (0: none yet).
    fn log_seq(&self) -> u64 {
        self.logs.tail(1).first().map_or(0, |l| l.seq)
    }

    /// The `seq` of the last line that says the dev server (re)started or
    /// rebuilt, that is, the code changed (0: none kept).
    fn fresh_start_seq(&self) -> u64 {
        self.logs
            .tail(devserver::LOG_LINES)
            .iter()
            .rev()
            .find(|l| is_fresh_start(&l.text))
            .map_or(0, |l| l.seq)
    }

    fn set(&self, f: impl FnOnce(&mut Status)) {
        self.status.send_modify(f);
    }
}

/// A sandbox as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SandboxView {
    pub state: DevState,
    pub template: String,
    /// Container name, while one runs.
    pub container: Option<String>,
    pub image: String,
    /// The dev server's port inside the container.
    pub port: u16,
    /// Unix seconds.
    pub started_at: Option<i64>,
    /// From the start request to the dev server's first answer.
    pub ready_after_ms: Option<u64>,
    pub restarts: u32,
    pub last_exit: Option<String>,
    pub retry_in_secs: Option<u64>,
    /// Stopped after this many more seconds without use.
    pub idle_stop_in_secs: Option<u64>,
    pub from_warm_pool: bool,
    /// Why it is failed or stopped, when known.
    pub message: Option<String>,
    /// Where the preview is served; filled in by the server, which knows its origin.
    pub preview_url: Option<String>,
}

/// The outcome of a command run through the exec API.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExecResult {
    /// `None` when it was killed at the timeout.
    pub exit_code: Option<i64>,
    /// stdout and stderr, interleaved as written, up to the output cap.
    pub output: String,
    pub truncated: bool,
    pub timed_out: bool,
    pub duration_ms: u64,
}

/// An interactive shell in a sandbox (exec with a TTY).
pub struct Terminal {
    pub exec_id: String,
    pub output: OutputStream,
    pub input: InputSink,
}

impl Sandboxes {
    pub fn new(config: SandboxConfig, data_dir: &Path, git: Arc<GitStore>) -> Arc<Self> {
        use sha2::Digest;
        let canonical = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
        let digest = sha2::Sha256::digest(canonical.to_string_lossy().as_bytes());
        Arc::new(Self {
            instance: hex::encode(&digest[..6]),
            scratch_root: data_dir.join("sandbox"),
            config,
            git,
            engine: tokio::sync::Mutex::new(None),
            running: Mutex::default(),
            project_locks: Mutex::default(),
            warm: Mutex::default(),
            filling: tokio::sync::Mutex::new(()),
            refill_wanted: std::sync::atomic::AtomicBool::new(false),
            failures: Mutex::default(),
            last_checks: Mutex::default(),
            host_guard: Mutex::default(),
        })
    }

    /// Whether sandboxes are kept off the host's own addresses (None until the engine is first used).
    pub fn host_guard(&self) -> Option<Result<(), String>> {
        self.host_guard
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
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

    async fn engine(&self) -> Result<Arc<dyn ContainerEngine>, SandboxError> {
        if !self.config.enabled {
            return Err(SandboxError::Disabled);
        }
        let mut slot = self.engine.lock().await;
        if let Some(e) = slot.as_ref() {
            return Ok(e.clone());
        }
        let engine: Arc<dyn ContainerEngine> =
            Arc::new(Engine::connect(&self.config.docker_socket).await?);
        engine
            .ensure_network(&self.config.network, false, &self.instance)
            .await?;
        let guarded = tokio::task::spawn_blocking(super::firewall::guard_host)
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
        if let Err(why) = &guarded {
            tracing::warn!(%why, "sandboxes can reach services on this host's addresses; run the appliance as root or add the rules in docs/admin.md");
        }
        *self.host_guard.lock().unwrap_or_else(|p| p.into_inner()) = Some(guarded);
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

    fn network_for(&self, template: &str) -> String {
        if self.config.egress_templates.iter().any(|t| t == template) {
            self.egress_network()
        } else {
            self.config.network.clone()
        }
    }

    fn project_lock(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.project_locks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id.to_string())
            .or_default()
            .clone()
    }

    /// The running sandbox of a project; forgets one whose container is gone.
    pub fn running(&self, project_id: &str) -> Option<Arc<Running>> {
        let mut map = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let r = map.get(project_id)?.clone();
        if r.is_gone() {
            map.remove(project_id);
            if let Some(why) = r.status.borrow().gone.clone() {
                self.note_failure(project_id, why);
            }
            return None;
        }
        Some(r)
    }

    fn note_failure(&self, project_id: &str, why: String) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(project_id.to_string(), why);
    }

    /// Status of a project's sandbox.
    pub fn view(&self, project_id: &str, template: &str) -> SandboxView {
        let port = manifest::for_template(template)
            .map(|m| m.port)
            .unwrap_or(0);
        match self.running(project_id) {
            Some(r) => {
                let s = r.status.borrow().clone();
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
                let failure = self
                    .failures
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(project_id)
                    .cloned();
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
        let lock = self.project_lock(project_id);
        let _guard = lock.lock().await;
        if let Some(r) = self.running(project_id) {
            r.touch();
            return Ok(r);
        }
        let result = self.start_locked(project_id, template).await;
        match &result {
            Ok(r) => {
                self.failures
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(project_id);
                if r.from_warm_pool {
                    let me = self.clone();
                    tokio::spawn(async move { me.fill_pool().await });
                }
            }
            Err(e) => {
                tracing::warn!(project = project_id, error = %e, "sandbox start failed");
                self.note_failure(project_id, e.public_message())
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
        let mut from_pool = false;
        let mut container_id = None;
        // A warm container needs the working tree moved, so only when no
        // writer holds it: during an agent turn (which holds the lock for
        // its whole length) a new container is started instead.
        let warm = self
            .git
            .try_lock(project_id)
            .and_then(|guard| Some((guard, self.take_warm(template)?)));
        if let Some((guard, warm)) = warm {
            match self.claim(&*engine, guard, warm, project_id, &name).await {
                Ok(id) => {
                    container_id = Some(id);
                    from_pool = true;
                }
                Err(e) => {
                    tracing::warn!(project = project_id, error = %e, "warm sandbox could not be used; starting a new one")
                }
            }
        }
        let container_id = match container_id {
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
                    env: vec![format!("AUTOCREA_DEV_COMMAND={}", manifest.dev_command)],
                    network: &network,
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
            project_id,
            template,
            &name,
            &container_id,
            SocketAddr::from((ip, manifest.port)),
            from_pool,
            requested,
        );
        tracing::info!(project = project_id, container = %name, warm = from_pool, "sandbox started");
        Ok(running)
    }

    /// Starts following a container's output and probing its port.
    #[allow(clippy::too_many_arguments)]
    fn track(
        &self,
        engine: &dyn ContainerEngine,
        project_id: &str,
        template: &str,
        name: &str,
        container_id: &str,
        addr: SocketAddr,
        from_warm_pool: bool,
        requested: Instant,
    ) -> Arc<Running> {
        let running = Arc::new(Running {
            project_id: project_id.to_string(),
            template: template.to_string(),
            container: name.to_string(),
            addr,
            logs: LogBuffer::default(),
            from_warm_pool,
            started: requested,
            started_at: crate::clock::now(),
            status: watch::channel(Status {
                state: DevState::Starting,
                restarts: 0,
                last_exit: None,
                retry_in_secs: None,
                ready_after_ms: None,
                gone: None,
            })
            .0,
            last_activity: Mutex::new(Instant::now()),
            browser_errors: Mutex::default(),
            tasks: Mutex::default(),
        });
        let follower = tokio::spawn(follow(
            engine.follow_logs(container_id, "all"),
            Arc::downgrade(&running),
        ));
        let prober = tokio::spawn(probe(Arc::downgrade(&running)));
        running
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend([follower.abort_handle(), prober.abort_handle()]);
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(project_id.to_string(), running.clone());
        running
    }

    /// Stops and removes the project's container (the project's files stay).
    pub async fn stop(&self, project_id: &str) -> Result<bool, SandboxError> {
        let lock = self.project_lock(project_id);
        let _guard = lock.lock().await;
        let running = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(project_id);
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(project_id);
        let Some(running) = running else {
            return Ok(false);
        };
        let engine = self.engine().await?;
        engine.remove(&running.container).await?;
        tracing::info!(project = project_id, container = %running.container, "sandbox stopped");
        Ok(true)
    }

    /// Runs an agent's or user's command under the command policy.
    pub async fn exec(
        self: &Arc<Self>,
        project_id: &str,
        template: &str,
        command: &str,
        timeout_secs: Option<u64>,
    ) -> Result<ExecResult, SandboxError> {
        policy::check(command, &self.config.allowed_commands)?;
        let timeout = timeout_secs.unwrap_or(self.config.exec_timeout_secs);
        if timeout == 0 || timeout > self.config.exec_max_timeout_secs {
            return Err(SandboxError::Invalid(format!(
                "timeout_secs must be between 1 and {}",
                self.config.exec_max_timeout_secs
            )));
        }
        let running = self.start(project_id, template).await?;
        self.run_captured(&running, command, timeout).await
    }

    async fn run_captured(
        &self,
        running: &Running,
        command: &str,
        timeout_secs: u64,
    ) -> Result<ExecResult, SandboxError> {
        running.touch();
        let engine = self.engine().await?;
        let started = Instant::now();
        // `timeout` inside the container kills the whole command at the limit.
        let cmd = [
            "timeout",
            "-s",
            "KILL",
            &timeout_secs.to_string(),
            "sh",
            "-c",
            command,
        ]
        .map(String::from)
        .to_vec();
        let (exec_id, mut output, _input) = engine.exec(&running.container, cmd, false).await?;
        let cap = self.config.exec_output_bytes;
        let mut buf: Vec<u8> = Vec::new();
        let mut truncated = false;
        let collect = async {
            while let Some(Ok(chunk)) = output.next().await {
                let bytes = match chunk {
                    LogOutput::StdOut { message }
                    | LogOutput::StdErr { message }
                    | LogOutput::Console { message } => message,
                    LogOutput::StdIn { .. } => continue,
                };
                let room = cap.saturating_sub(buf.len());
                if bytes.len() > room {
                    truncated = true;
                }
                buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
            }
        };
        let finished = tokio::time::timeout(Duration::from_secs(timeout_secs + 5), collect)
            .await
            .is_ok();
        let mut exit_code = None;
        for _ in 0..20 {
            exit_code = engine.exec_exit_code(&exec_id).await?;
            if exit_code.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let elapsed = started.elapsed();
        let timed_out = !finished || (exit_code == Some(137) && elapsed.as_secs() >= timeout_secs);
        running.touch();
        Ok(ExecResult {
            exit_code: if timed_out { None } else { exit_code },
            output: diagnostics::strip_ansi(&String::from_utf8_lossy(&buf)),
            truncated,
            timed_out,
            duration_ms: elapsed.as_millis() as u64,
        })
    }

    /// `check_for_errors`: the template's build / lint / type-check in the
    /// sandbox, parsed, joined by dev-server and browser errors.
    pub async fn check_for_errors(
        self: &Arc<Self>,
        project_id: &str,
        template: &str,
    ) -> Result<Vec<Diagnostic>, SandboxError> {
        let manifest = manifest::for_template(template)
            .ok_or_else(|| SandboxError::NoSandbox(template.into()))?;
        let running = self.start(project_id, template).await?;
        let mut found = Vec::new();
        for check in &manifest.checks {
            let result = self
                .run_captured(&running, &check.command, check.timeout_secs)
                .await?;
            let mut parsed = diagnostics::parse(check.parser, &result.output, &check.name);
            let failed = result.timed_out || result.exit_code.is_some_and(|c| c != 0);
            if parsed.is_empty() && failed {
                // Never a silent failure: the output's end is the message.
                let tail: Vec<&str> = result.output.lines().rev().take(8).collect();
                parsed.push(Diagnostic {
                    file: None,
                    line: None,
                    column: None,
                    severity: "error".into(),
                    message: if result.timed_out {
                        format!("{} did not finish in {} s", check.name, check.timeout_secs)
                    } else {
                        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                    },
                    source: check.name.clone(),
                });
            }
            found.extend(parsed);
        }
        // Where the dev server's output stands once the checks are done: a
        // rebuild after this means the code changed since. Taken at the end,
        // not the start: the dev server's reload lines for the files written
        // just before the check (the agent writes, then checks) come in while
        // it runs, and must not make a fresh result look stale.
        let seq = running.log_seq();
        self.last_checks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                project_id.to_string(),
                CheckRun {
                    container: running.container.clone(),
                    seq,
                    found: found.clone(),
                },
            );
        found.extend(self.runtime_errors(&running));
        Ok(found)
    }

    /// Errors known without running checks: the last check run unless the
    /// code changed since (the dev server rebuilt or restarted), the dev
    /// server's output since it last started, the browser console since the
    /// page last loaded and the code last changed.
    pub fn known_errors(&self, project_id: &str) -> Vec<Diagnostic> {
        let running = self.running(project_id);
        let now = running
            .as_ref()
            .map(|r| (r.container.as_str(), r.fresh_start_seq()));
        let mut checks = self.last_checks.lock().unwrap_or_else(|p| p.into_inner());
        // A stale run is dropped, not just hidden: it never becomes current again.
        if checks
            .get(project_id)
            .is_some_and(|run| !run.is_current(now))
        {
            checks.remove(project_id);
        }
        let mut found = checks
            .get(project_id)
            .map(|run| run.found.clone())
            .unwrap_or_default();
        drop(checks);
        if let Some(r) = running {
            found.extend(self.runtime_errors(&r));
        }
        found
    }

    fn runtime_errors(&self, running: &Running) -> Vec<Diagnostic> {
        // Only what the dev server printed since it last started, and after
        // its last successful rebuild: older errors are fixed or repeated.
        let lines = running.logs.tail(devserver::LOG_LINES);
        let start = lines
            .iter()
            .rposition(|l| is_fresh_start(&l.text))
            .map(|i| i + 1)
            .unwrap_or(0);
        let text: Vec<&str> = lines[start..].iter().map(|l| l.text.as_str()).collect();
        let mut found =
            diagnostics::parse(manifest::Parser::Generic, &text.join("\n"), "dev-server");
        let fresh = start.checked_sub(1).map_or(0, |i| lines[i].seq);
        found.extend(running.browser_errors(fresh));
        found
    }

    /// An interactive shell in the project's sandbox.
    pub async fn terminal(
        self: &Arc<Self>,
        project_id: &str,
        template: &str,
    ) -> Result<(Terminal, Arc<Running>), SandboxError> {
        let running = self.start(project_id, template).await?;
        let engine = self.engine().await?;
        let (exec_id, output, input) = engine
            .exec(&running.container, vec!["/bin/bash".into()], true)
            .await?;
        Ok((
            Terminal {
                exec_id,
                output,
                input,
            },
            running,
        ))
    }

    pub async fn resize_terminal(
        &self,
        exec_id: &str,
        cols: u16,
        rows: u16,
    ) -> Result<(), SandboxError> {
        self.engine().await?.resize_exec(exec_id, cols, rows).await
    }

    // ---- warm pool ----

    fn take_warm(&self, template: &str) -> Option<Warm> {
        self.warm
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(template)?
            .pop()
    }

    /// Gives a warm container a project: its empty folder becomes the
    /// project's working tree (a bind mount follows the folder, not its
    /// name; the caller holds the project's git lock for the move), it takes
    /// the project's name, and its dev server starts.
    async fn claim(
        &self,
        engine: &dyn ContainerEngine,
        git_lock: tokio::sync::OwnedMutexGuard<()>,
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
        self.refill_wanted
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let Ok(_filling) = self.filling.try_lock() else {
            return;
        };
        while self
            .refill_wanted
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
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
                loop {
                    let have = self
                        .warm
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get(t.id)
                        .map_or(0, Vec::len);
                    if have >= self.config.warm_pool {
                        break;
                    }
                    match self.new_warm(&*engine, t.id, &image, manifest).await {
                        Ok(w) => self
                            .warm
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .entry(t.id.to_string())
                            .or_default()
                            .push(w),
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
        };
        match engine.run(&spec, &self.config).await {
            Ok(id) => Ok(Warm { id, dir }),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                Err(e)
            }
        }
    }

    /// Whether the engine answers (connecting when not yet connected).
    pub async fn engine_health(&self) -> Result<(), String> {
        self.engine().await.map(|_| ()).map_err(|e| e.to_string())
    }

    /// `(project id, template)` of every running sandbox.
    pub fn running_projects(&self) -> Vec<(String, String)> {
        let mut list: Vec<_> = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|r| !r.is_gone())
            .map(|r| (r.project_id.clone(), r.template.clone()))
            .collect();
        list.sort();
        list
    }

    /// Number of warm containers per template (for the admin view and tests).
    pub fn warm_counts(&self) -> HashMap<String, usize> {
        self.warm
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.len()))
            .collect()
    }

    // ---- life over time ----

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
                                project,
                                template,
                                &c.name,
                                &c.id,
                                SocketAddr::from((ip, manifest.port)),
                                false,
                                Instant::now(),
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

    async fn stop_idle(&self) {
        let idle: Vec<String> = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
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

fn is_fresh_start(line: &str) -> bool {
    matches!(devserver::marker(line), Some(Marker::Starting))
        || line.contains("hmr update")
        || line.contains("page reload")
        || line.contains("Compiled")
        || line.starts_with("[static] changed")
}

/// Follows a container's output; markers move the dev server's state.
async fn follow(mut stream: OutputStream, running: Weak<Running>) {
    while let Some(item) = stream.next().await {
        let Some(r) = running.upgrade() else { return };
        let lines = match item {
            Ok(LogOutput::StdOut { message }) | Ok(LogOutput::Console { message }) => {
                r.logs.push(false, &message)
            }
            Ok(LogOutput::StdErr { message }) => r.logs.push(true, &message),
            Ok(LogOutput::StdIn { .. }) => continue,
            Err(_) => break,
        };
        for line in lines {
            match devserver::marker(&line.text) {
                Some(Marker::Starting) => r.set(|s| {
                    s.state = DevState::Starting;
                    s.retry_in_secs = None;
                }),
                Some(Marker::Exited {
                    code,
                    retry_in_secs,
                }) => r.set(|s| {
                    s.state = DevState::Crashed;
                    s.restarts += 1;
                    s.retry_in_secs = Some(retry_in_secs);
                    s.last_exit = Some(exit_text(code));
                }),
                None => {}
            }
        }
    }
    if let Some(r) = running.upgrade() {
        r.set(|s| {
            s.state = DevState::Stopped;
            s.gone = Some("the sandbox container stopped".into());
        });
    }
}

fn exit_text(code: i32) -> String {
    match code {
        137 => "killed (status 137: out of memory or SIGKILL)".into(),
        c if c > 128 => format!("killed by signal {}", c - 128),
        c => format!("exited with status {c}"),
    }
}

/// Probes the dev server's port: often while it starts, then once a second.
async fn probe(running: Weak<Running>) {
    loop {
        let Some(r) = running.upgrade() else { return };
        let addr = r.addr;
        let state = r.state();
        drop(r);
        let answers = matches!(
            tokio::time::timeout(
                Duration::from_millis(500),
                tokio::net::TcpStream::connect(addr)
            )
            .await,
            Ok(Ok(_))
        );
        let Some(r) = running.upgrade() else { return };
        if answers && state != DevState::Ready && state != DevState::Crashed {
            let after = r.started.elapsed().as_millis() as u64;
            r.set(|s| {
                s.state = DevState::Ready;
                s.ready_after_ms.get_or_insert(after);
            });
        } else if !answers && state == DevState::Ready {
            r.set(|s| s.state = DevState::Starting);
        }
        drop(r);
        let pause = if state == DevState::Ready { 1000 } else { 25 };
        tokio::time::sleep(Duration::from_millis(pause)).await;
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

/// Each build-output folder of the working tree is missing or a plain folder.
fn check_scratch_dirs(tree: &Path, dirs: &[String]) -> Result<(), SandboxError> {
    let fs = crate::confined::Confined::new(tree);
    for dir in dirs {
        match fs.kind(dir) {
            Ok(None) | Ok(Some(crate::confined::Kind::Folder)) => {}
            Ok(Some(crate::confined::Kind::Link)) => {
                return Err(scratch_refused(
                    dir,
                    &crate::confined::FsError::Link(dir.clone()),
                ))
            }
            Ok(Some(_)) => {
                return Err(scratch_refused(
                    dir,
                    &crate::confined::FsError::NotAFolder(dir.clone()),
                ))
            }
            Err(e) => return Err(scratch_refused(dir, &e)),
        }
    }
    Ok(())
}

fn scratch_refused(dir: &str, e: &crate::confined::FsError) -> SandboxError {
    SandboxError::Invalid(format!(
        "{e}; the build-output folder {dir} must be a plain folder (remove it from the repository)"
    ))
}

/// A tmpfs mounted over an existing folder takes that folder's mode, so the
/// folder must be writable by the sandbox user. The working tree is the
/// project's (a push can put a link at `.next`), so the folder is made and
/// its mode set without following any link (`crate::confined`).
fn make_scratch_dir(tree: &Path, dir: &str) -> Result<(), SandboxError> {
    crate::confined::Confined::new(tree)
        .folder_with_mode(dir, 0o1777)
        .map_err(|e| match e {
            crate::confined::FsError::Link(_) | crate::confined::FsError::NotAFolder(_) => {
                scratch_refused(dir, &e)
            }
            e => SandboxError::Io(std::io::Error::other(e.to_string())),
        })
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SandboxError> + Send + 'static,
) -> Result<T, SandboxError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SandboxError::Io(std::io::Error::other(e.to_string())))?
}
