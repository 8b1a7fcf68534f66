//! The container engine as the sandbox manager sees it: just the operations
//! it needs. The Docker engine (`docker::Engine`) is the real one; unit
//! tests put an in-memory one in its place, so the warm pool, adoption and
//! idle stop can be tested without Docker.

use super::SandboxError;
use crate::config::SandboxConfig;
use bollard::container::LogOutput;
use futures_util::{Stream, StreamExt};
use std::net::Ipv4Addr;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;
use tokio::io::AsyncWrite;

/// What a new container needs besides the hardening every sandbox gets.
pub struct ContainerSpec<'a> {
    pub name: &'a str,
    pub image: &'a str,
    pub template: &'a str,
    pub instance: &'a str,
    /// Host folder mounted read-only at /workspace.
    pub workspace: &'a Path,
    /// Project folders that get a writable tmpfs.
    pub scratch: &'a [String],
    pub env: Vec<String>,
    pub network: &'a str,
    /// The command to run instead of the image's (the dev server's
    /// supervisor), under tini. Builds and published apps set it.
    pub command: Option<Vec<String>>,
    /// Restarted by the engine when it exits (with the engine's backoff):
    /// published apps, which must outlive a crash.
    pub restart: bool,
}

/// What the engine says about one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerState {
    pub running: bool,
    /// Exited and waiting for the engine to start it again.
    pub restarting: bool,
    /// Starts after a crash (the engine's restart policy).
    pub restarts: i64,
    pub exit_code: Option<i64>,
}

/// One of our containers, as listed by the engine.
pub struct Listed {
    pub id: String,
    pub name: String,
    pub running: bool,
    pub template: String,
}

pub type OutputStream =
    Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;
pub type InputSink = Pin<Box<dyn AsyncWrite + Send>>;

/// Containers are named by id or by name wherever a `container` is taken,
/// as the Docker API does.
#[async_trait::async_trait]
pub trait ContainerEngine: Send + Sync {
    /// Creates the sandbox network `name` when it is missing (internal
    /// unless `egress`, with traffic between containers off).
    async fn ensure_network(
        &self,
        name: &str,
        egress: bool,
        instance: &str,
    ) -> Result<(), SandboxError>;

    async fn image_exists(&self, image: &str) -> bool;

    /// Creates and starts a hardened container; returns its id. A leftover
    /// of the same name is replaced.
    async fn run(
        &self,
        spec: &ContainerSpec<'_>,
        limits: &SandboxConfig,
    ) -> Result<String, SandboxError>;

    /// The container's address on `network`.
    async fn address(&self, container: &str, network: &str) -> Result<Ipv4Addr, SandboxError>;

    /// Removes a container, running or not; a missing one is fine.
    async fn remove(&self, container: &str) -> Result<(), SandboxError>;

    async fn rename(&self, container: &str, to: &str) -> Result<(), SandboxError>;

    /// Whether the container runs, restarts or exited; `None` when it is gone.
    async fn state(&self, container: &str) -> Result<Option<ContainerState>, SandboxError>;

    /// Every container of this appliance instance, running or not.
    async fn list_ours(&self, instance: &str) -> Result<Vec<Listed>, SandboxError>;

    /// The container's output from its start, then as it comes; ends when
    /// the container does.
    fn follow_logs(&self, container: &str, tail: &str) -> OutputStream;

    /// Starts `cmd` in the container as the sandbox user; returns the exec
    /// id and its attached streams.
    async fn exec(
        &self,
        container: &str,
        cmd: Vec<String>,
        tty: bool,
    ) -> Result<(String, OutputStream, InputSink), SandboxError>;

    /// Exit code of a finished exec (`None` while it runs).
    async fn exec_exit_code(&self, exec_id: &str) -> Result<Option<i64>, SandboxError>;

    async fn resize_exec(&self, exec_id: &str, cols: u16, rows: u16) -> Result<(), SandboxError>;

    /// Runs a short command to completion, ignoring its output.
    async fn run_quiet(&self, container: &str, cmd: &[&str]) -> Result<(), SandboxError> {
        let (_, mut output, _) = self
            .exec(
                container,
                cmd.iter().map(|s| s.to_string()).collect(),
                false,
            )
            .await?;
        let drain = async { while output.next().await.is_some() {} };
        tokio::time::timeout(Duration::from_secs(10), drain)
            .await
            .map_err(|_| SandboxError::Engine(format!("{cmd:?} did not finish in 10 s")))
    }
}
