//! Server apps (templates whose recipe serves with a command, e.g. nextjs):
//! one long-lived hardened container per deployment that needs to answer,
//! with the deployment's files read-only at /workspace. The engine
//! restarts a crashed one (its restart policy backs off by itself); the
//! publisher watches them and starts one again when it is gone.

use crate::config::SandboxConfig;
use crate::sandbox::engine::{ContainerEngine, ContainerSpec};
use crate::sandbox::manifest::PublishRecipe;
use crate::sandbox::SandboxError;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A started server app.
#[derive(Debug, Clone)]
pub struct ServerApp {
    pub container: String,
    pub addr: SocketAddr,
}

/// Where a server app stands, as the deployments page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Starting,
    Running,
    /// Exited; the engine starts it again after its backoff.
    Crashed,
    Stopped,
}

impl Runtime {
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Starting => "starting",
            Runtime::Running => "running",
            Runtime::Crashed => "crashed",
            Runtime::Stopped => "stopped",
        }
    }
}

pub struct AppSpec<'a> {
    pub container: &'a str,
    pub image: &'a str,
    pub template: &'a str,
    pub instance: &'a str,
    pub network: &'a str,
    pub files: &'a Path,
    pub recipe: &'a PublishRecipe,
    pub limits: &'a SandboxConfig,
    /// The project's `production` variables (`NAME=value`).
    pub env: &'a [String],
}

/// Starts the app's container (a leftover of the same name is replaced)
/// and returns where it listens.
pub async fn start(
    engine: &dyn ContainerEngine,
    app: &AppSpec<'_>,
) -> Result<ServerApp, SandboxError> {
    let (Some(start), Some(port)) = (&app.recipe.start, app.recipe.port) else {
        return Err(SandboxError::Invalid("the template serves no app".into()));
    };
    let spec = ContainerSpec {
        name: app.container,
        image: app.image,
        template: app.template,
        instance: app.instance,
        workspace: app.files,
        scratch: &app.recipe.scratch,
        env: super::build::production_env(app.env),
        network: app.network,
        command: Some(vec!["sh".into(), "-c".into(), start.clone()]),
        restart: true,
    };
    let id = engine.run(&spec, app.limits).await?;
    let ip = match engine.address(&id, app.network).await {
        Ok(ip) => ip,
        Err(e) => {
            let _ = engine.remove(&id).await;
            return Err(e);
        }
    };
    Ok(ServerApp {
        container: app.container.to_string(),
        addr: SocketAddr::from((ip, port)),
    })
}

/// Waits until the app answers an HTTP request with anything but a server
/// error, or `timeout` passes; `Err` says what was seen last.
pub async fn wait_healthy(addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let mut last = String::from("it did not answer");
    while Instant::now() < deadline {
        match probe(addr).await {
            Ok(status) if status < 500 => return Ok(()),
            Ok(status) => last = format!("it answered {status}"),
            Err(e) => last = format!("it did not answer ({e})"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(format!(
        "the app did not pass its health check (GET / within {} s): {last}",
        timeout.as_secs()
    ))
}

/// One `GET /`: the status code of the answer.
async fn probe(addr: SocketAddr) -> std::io::Result<u16> {
    let io = async {
        let mut s = tokio::net::TcpStream::connect(addr).await?;
        s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await?;
        let mut head = [0u8; 64];
        let mut n = 0;
        while n < 12 {
            let read = s.read(&mut head[n..]).await?;
            if read == 0 {
                break;
            }
            n += read;
        }
        let line = String::from_utf8_lossy(&head[..n]).into_owned();
        line.split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {line:?}")))
    };
    tokio::time::timeout(Duration::from_secs(5), io)
        .await
        .map_err(|_| std::io::Error::other("no answer in 5 s"))?
}

/// What the engine says of an app's container.
pub async fn runtime(engine: &dyn ContainerEngine, container: &str) -> Runtime {
    match engine.state(container).await {
        Ok(Some(s)) if s.running => Runtime::Running,
        Ok(Some(s)) if s.restarting || s.exit_code.is_some() => Runtime::Crashed,
        Ok(Some(_)) => Runtime::Starting,
        _ => Runtime::Stopped,
    }
}
