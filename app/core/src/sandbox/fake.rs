//! An in-memory container engine for the manager's unit tests: it keeps
//! containers as records, writes down every call that changes something,
//! and ends a container's log stream when the container goes, as Docker
//! does (which is how the manager notices a container is gone).

use super::clock::Clock;
use super::engine::{ContainerEngine, ContainerSpec, InputSink, Listed, OutputStream};
use super::manager::Sandboxes;
use super::SandboxError;
use crate::config::SandboxConfig;
use crate::gitstore::GitStore;
use crate::sync::lock;
use bollard::container::LogOutput;
use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// A call that changed the engine's state, in the order they came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    EnsureNetwork {
        name: String,
        egress: bool,
    },
    Run {
        name: String,
        template: String,
        workspace: PathBuf,
        env: Vec<String>,
    },
    Remove(String),
    Rename {
        container: String,
        to: String,
    },
    Exec {
        container: String,
        cmd: Vec<String>,
    },
    ResizeExec {
        exec_id: String,
        cols: u16,
        rows: u16,
    },
}

#[derive(Debug, Clone)]
pub struct Container {
    pub id: String,
    pub name: String,
    pub template: String,
    pub instance: String,
    pub network: String,
    pub running: bool,
}

#[derive(Default)]
struct State {
    containers: Vec<Container>,
    /// Open log streams per container id; dropped with the container.
    followers: HashMap<String, Vec<mpsc::UnboundedSender<LogOutput>>>,
    images: HashSet<String>,
    calls: Vec<Call>,
    /// What every exec prints and its exit code.
    exec_reply: (String, i64),
    next_id: u32,
}

impl State {
    fn find(&self, container: &str) -> Option<&Container> {
        self.containers
            .iter()
            .find(|c| c.id == container || c.name == container)
    }

    fn drop_container(&mut self, container: &str) -> bool {
        let Some(at) = self
            .containers
            .iter()
            .position(|c| c.id == container || c.name == container)
        else {
            return false;
        };
        let gone = self.containers.remove(at);
        self.followers.remove(&gone.id);
        true
    }

    fn new_id(&mut self, kind: &str) -> String {
        self.next_id += 1;
        format!("{kind}{}", self.next_id)
    }
}

#[derive(Default)]
pub struct FakeEngine {
    state: Mutex<State>,
}

impl FakeEngine {
    pub fn add_image(&self, image: &str) {
        lock(&self.state).images.insert(image.to_string());
    }

    /// A container that was there before (as after an appliance restart).
    pub fn add_container(
        &self,
        name: &str,
        template: &str,
        instance: &str,
        running: bool,
    ) -> String {
        let mut s = lock(&self.state);
        let id = s.new_id("old");
        s.containers.push(Container {
            id: id.clone(),
            name: name.to_string(),
            template: template.to_string(),
            instance: instance.to_string(),
            network: SandboxConfig::default().network,
            running,
        });
        id
    }

    /// The container dies or is removed behind the appliance's back.
    pub fn vanish(&self, container: &str) {
        lock(&self.state).drop_container(container);
    }

    /// Writes a line to the container's output.
    pub fn say(&self, container: &str, line: &str) {
        let s = lock(&self.state);
        let id = s.find(container).map(|c| c.id.clone()).unwrap_or_default();
        for tx in s.followers.get(&id).into_iter().flatten() {
            let _ = tx.send(LogOutput::StdOut {
                message: format!("{line}\n").into_bytes().into(),
            });
        }
    }

    pub fn reply_to_exec(&self, output: &str, exit_code: i64) {
        lock(&self.state).exec_reply = (output.to_string(), exit_code);
    }

    pub fn calls(&self) -> Vec<Call> {
        lock(&self.state).calls.clone()
    }

    pub fn runs(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| matches!(c, Call::Run { .. }))
            .collect()
    }

    pub fn removed(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Remove(what) => Some(what),
                _ => None,
            })
            .collect()
    }

    pub fn containers(&self) -> Vec<Container> {
        lock(&self.state).containers.clone()
    }

    pub fn container(&self, container: &str) -> Option<Container> {
        lock(&self.state).find(container).cloned()
    }

    fn record(&self, call: Call) {
        lock(&self.state).calls.push(call);
    }
}

#[async_trait::async_trait]
impl ContainerEngine for FakeEngine {
    async fn ensure_network(
        &self,
        name: &str,
        egress: bool,
        _instance: &str,
    ) -> Result<(), SandboxError> {
        self.record(Call::EnsureNetwork {
            name: name.to_string(),
            egress,
        });
        Ok(())
    }

    async fn image_exists(&self, image: &str) -> bool {
        lock(&self.state).images.contains(image)
    }

    async fn run(
        &self,
        spec: &ContainerSpec<'_>,
        _limits: &SandboxConfig,
    ) -> Result<String, SandboxError> {
        let mut s = lock(&self.state);
        s.calls.push(Call::Run {
            name: spec.name.to_string(),
            template: spec.template.to_string(),
            workspace: spec.workspace.to_path_buf(),
            env: spec.env.clone(),
        });
        if !s.images.contains(spec.image) {
            return Err(SandboxError::ImageMissing(spec.image.to_string()));
        }
        s.drop_container(spec.name);
        let id = s.new_id("c");
        s.containers.push(Container {
            id: id.clone(),
            name: spec.name.to_string(),
            template: spec.template.to_string(),
            instance: spec.instance.to_string(),
            network: spec.network.to_string(),
            running: true,
        });
        Ok(id)
    }

    async fn state(
        &self,
        container: &str,
    ) -> Result<Option<super::engine::ContainerState>, SandboxError> {
        Ok(lock(&self.state)
            .find(container)
            .map(|c| super::engine::ContainerState {
                running: c.running,
                restarting: false,
                restarts: 0,
                exit_code: None,
            }))
    }

    async fn address(&self, container: &str, network: &str) -> Result<Ipv4Addr, SandboxError> {
        match lock(&self.state).find(container) {
            Some(c) if c.running && c.network == network => Ok(Ipv4Addr::LOCALHOST),
            _ => Err(SandboxError::Engine(format!(
                "container {container} has no address on {network}"
            ))),
        }
    }

    async fn remove(&self, container: &str) -> Result<(), SandboxError> {
        let mut s = lock(&self.state);
        s.calls.push(Call::Remove(container.to_string()));
        s.drop_container(container);
        Ok(())
    }

    async fn rename(&self, container: &str, to: &str) -> Result<(), SandboxError> {
        let mut s = lock(&self.state);
        s.calls.push(Call::Rename {
            container: container.to_string(),
            to: to.to_string(),
        });
        let c = s
            .containers
            .iter_mut()
            .find(|c| c.id == container || c.name == container)
            .ok_or_else(|| SandboxError::Engine(format!("no such container: {container}")))?;
        c.name = to.to_string();
        Ok(())
    }

    async fn list_ours(&self, instance: &str) -> Result<Vec<Listed>, SandboxError> {
        Ok(lock(&self.state)
            .containers
            .iter()
            .filter(|c| c.instance == instance)
            .map(|c| Listed {
                id: c.id.clone(),
                name: c.name.clone(),
                running: c.running,
                template: c.template.clone(),
            })
            .collect())
    }

    fn follow_logs(&self, container: &str, _tail: &str) -> OutputStream {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut s = lock(&self.state);
        if let Some(id) = s.find(container).map(|c| c.id.clone()) {
            s.followers.entry(id).or_default().push(tx);
        }
        Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv()
                .await
                .map(|line| (Ok::<_, bollard::errors::Error>(line), rx))
        }))
    }

    async fn exec(
        &self,
        container: &str,
        cmd: Vec<String>,
        _tty: bool,
    ) -> Result<(String, OutputStream, InputSink), SandboxError> {
        let mut s = lock(&self.state);
        s.calls.push(Call::Exec {
            container: container.to_string(),
            cmd,
        });
        if !s.find(container).is_some_and(|c| c.running) {
            return Err(SandboxError::NotRunning);
        }
        let id = s.new_id("exec");
        let output = LogOutput::StdOut {
            message: s.exec_reply.0.clone().into_bytes().into(),
        };
        Ok((
            id,
            Box::pin(futures_util::stream::iter([Ok(output)])),
            Box::pin(tokio::io::sink()),
        ))
    }

    async fn exec_exit_code(&self, _exec_id: &str) -> Result<Option<i64>, SandboxError> {
        Ok(Some(lock(&self.state).exec_reply.1))
    }

    async fn resize_exec(&self, exec_id: &str, cols: u16, rows: u16) -> Result<(), SandboxError> {
        self.record(Call::ResizeExec {
            exec_id: exec_id.to_string(),
            cols,
            rows,
        });
        Ok(())
    }
}

/// `Sandboxes` on a fake engine, a stopped clock and a data folder of its own.
pub struct Harness {
    pub sandboxes: Arc<Sandboxes>,
    pub engine: Arc<FakeEngine>,
    pub git: Arc<GitStore>,
    pub clock: Clock,
    _data: tempfile::TempDir,
}

impl Harness {
    pub fn new(config: SandboxConfig) -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let git = Arc::new(GitStore::new(data.path()).expect("git store"));
        let engine = Arc::new(FakeEngine::default());
        let clock = Clock::manual();
        let sandboxes = Sandboxes::with_engine(
            config,
            data.path(),
            git.clone(),
            engine.clone(),
            clock.clone(),
        );
        Self {
            sandboxes,
            engine,
            git,
            clock,
            _data: data,
        }
    }

    /// A project whose working tree is checked out (one file in it).
    pub fn project(&self, id: &str) -> PathBuf {
        let tree = self.git.worktree_path(id);
        std::fs::create_dir_all(&tree).expect("worktree");
        std::fs::write(tree.join("index.html"), "<h1>hi</h1>").expect("file");
        tree
    }

    /// Our container name for a project.
    pub fn name_of(&self, project_id: &str) -> String {
        format!("autocrea-{}-{project_id}", self.sandboxes.instance())
    }

    pub fn scratch_root(&self) -> PathBuf {
        self.sandboxes.scratch_root.clone()
    }

    /// Waits (briefly, in real time) for background work to reach `done`.
    pub async fn until(&self, what: &str, done: impl Fn() -> bool) {
        for _ in 0..400 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("timed out waiting for {what}");
    }
}
