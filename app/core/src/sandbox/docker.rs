//! The Docker Engine as sandboxes use it (bollard): the network, hardened
//! containers, exec with captured or interactive output, and logs.

use super::engine::ContainerEngine;
pub use super::engine::{ContainerSpec, ContainerState, InputSink, Listed, OutputStream};
use super::SandboxError;
use crate::config::SandboxConfig;
use bollard::exec::{ResizeExecOptions, StartExecOptions, StartExecResults};
use bollard::models::{
    ContainerCreateBody, ExecConfig, HostConfig, NetworkCreateRequest, RestartPolicy,
    RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, RenameContainerOptionsBuilder,
};
use bollard::Docker;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::Path;

/// Label on every container we create; its value is the appliance instance
/// (one per data folder), so two appliances on one engine never touch each
/// other's containers.
pub const INSTANCE_LABEL: &str = "org.autocrea.instance";
pub const TEMPLATE_LABEL: &str = "org.autocrea.template";
/// The sandbox user of the images (see compose/sandbox/runtime/Dockerfile).
pub const SANDBOX_USER: &str = "10001:10001";
/// Host-side names of the sandbox bridges (internal, and the egress one for
/// `egress_templates`), so the host firewall rules can name them.
pub const BRIDGE_NAME: &str = "autocrea-sb0";
pub const EGRESS_BRIDGE_NAME: &str = "autocrea-sb1";
/// The bridge driver's switch for traffic between containers of a network.
const ICC_OPTION: &str = "com.docker.network.bridge.enable_icc";
/// The bridge driver's name for the host-side interface.
const BRIDGE_OPTION: &str = "com.docker.network.bridge.name";

#[derive(Clone)]
pub struct Engine {
    docker: Docker,
}

impl Engine {
    pub async fn connect(socket: &Path) -> Result<Self, SandboxError> {
        let path = socket.to_string_lossy();
        let docker = Docker::connect_with_unix(&path, 120, bollard::API_DEFAULT_VERSION)
            .map_err(|e| SandboxError::EngineUnavailable(format!("{path}: {e}")))?;
        // The engine may be older than this client (Debian's is 20.10, API 1.41).
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| SandboxError::EngineUnavailable(format!("{path}: {e}")))?;
        Ok(Self { docker })
    }
}

#[async_trait::async_trait]
impl ContainerEngine for Engine {
    /// Creates the sandbox network when it is missing: a bridge marked
    /// internal (no route out) unless `egress`, and always with
    /// inter-container traffic off, so one project's sandbox cannot reach
    /// another's (the host, and so the preview proxy, still reaches each).
    /// A network an older version made with that traffic on is replaced:
    /// this instance's sandboxes on it are removed first (they start again
    /// on demand); anyone else's container on it stops the replacement.
    async fn ensure_network(
        &self,
        name: &str,
        egress: bool,
        instance: &str,
    ) -> Result<(), SandboxError> {
        let bridge = if egress {
            EGRESS_BRIDGE_NAME
        } else {
            BRIDGE_NAME
        };
        if let Ok(existing) = self.docker.inspect_network(name, None).await {
            let option = |key: &str| existing.options.as_ref().and_then(|o| o.get(key)).cloned();
            if option(ICC_OPTION).as_deref() == Some("false")
                && option(BRIDGE_OPTION).as_deref() == Some(bridge)
            {
                return Ok(());
            }
            tracing::warn!(network = name, "the sandbox network lets containers reach each other (or its bridge is not the one the firewall rules name); replacing it");
            let attached: Vec<String> = existing
                .containers
                .unwrap_or_default()
                .into_keys()
                .collect();
            let mut ours = Vec::new();
            for id in attached {
                let owner = self
                    .docker
                    .inspect_container(&id, None)
                    .await
                    .ok()
                    .and_then(|c| c.config?.labels?.remove(INSTANCE_LABEL));
                if owner.as_deref() != Some(instance) {
                    return Err(SandboxError::Engine(format!(
                        "the sandbox network {name} lets containers reach each other and container {id}, which is not one of this appliance's sandboxes, uses it; stop that container (or remove it from the network with docker network disconnect) and restart"
                    )));
                }
                ours.push(id);
            }
            for id in ours {
                self.remove(&id).await?;
            }
            match self.docker.remove_network(name).await {
                Ok(()) => {}
                Err(e) if status_of(&e) == Some(404) => {}
                Err(e) => return Err(engine(e)),
            }
        }
        let options = HashMap::from([
            (ICC_OPTION.to_string(), "false".to_string()),
            (BRIDGE_OPTION.to_string(), bridge.to_string()),
        ]);
        let request = NetworkCreateRequest {
            name: name.to_string(),
            driver: Some("bridge".into()),
            internal: Some(!egress),
            options: Some(options),
            labels: Some(HashMap::from([(
                "org.autocrea.network".to_string(),
                "sandbox".to_string(),
            )])),
            ..Default::default()
        };
        match self.docker.create_network(request).await {
            Ok(_) => Ok(()),
            // Another appliance (or test) created it at the same moment.
            Err(e) if status_of(&e) == Some(409) => Ok(()),
            Err(e) => Err(engine(e)),
        }
    }

    async fn image_exists(&self, image: &str) -> bool {
        self.docker.inspect_image(image).await.is_ok()
    }

    /// Creates and starts a container with the sandbox hardening: non-root,
    /// no capabilities, no new privileges, read-only root and project,
    /// tmpfs scratch space, memory / CPU / pids limits, no Docker socket.
    async fn run(
        &self,
        spec: &ContainerSpec<'_>,
        limits: &SandboxConfig,
    ) -> Result<String, SandboxError> {
        let tmpfs_opts = format!("rw,nosuid,nodev,size={}m,mode=1777", limits.tmpfs_mb);
        let mut tmpfs = HashMap::from([("/tmp".to_string(), tmpfs_opts.clone())]);
        for dir in spec.scratch {
            tmpfs.insert(format!("/workspace/{dir}"), tmpfs_opts.clone());
        }
        let memory = (limits.memory_mb * 1024 * 1024) as i64;
        let host_config = HostConfig {
            binds: Some(vec![format!("{}:/workspace:ro", spec.workspace.display())]),
            tmpfs: Some(tmpfs),
            readonly_rootfs: Some(true),
            cap_drop: Some(vec!["ALL".into()]),
            security_opt: Some(vec!["no-new-privileges:true".into()]),
            memory: Some(memory),
            memory_swap: Some(memory),
            nano_cpus: Some((limits.cpus * 1e9) as i64),
            pids_limit: Some(limits.pids),
            network_mode: Some(spec.network.to_string()),
            ipc_mode: Some("private".into()),
            restart_policy: spec.restart.then_some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
                maximum_retry_count: None,
            }),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some(spec.image.to_string()),
            env: Some(spec.env.clone()),
            entrypoint: spec
                .command
                .as_ref()
                .map(|_| vec!["/usr/bin/tini".to_string(), "--".to_string()]),
            cmd: spec.command.clone(),
            user: Some(SANDBOX_USER.into()),
            working_dir: Some("/workspace".into()),
            labels: Some(HashMap::from([
                (INSTANCE_LABEL.to_string(), spec.instance.to_string()),
                (TEMPLATE_LABEL.to_string(), spec.template.to_string()),
            ])),
            host_config: Some(host_config),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default()
            .name(spec.name)
            .build();
        let created = match self
            .docker
            .create_container(Some(options.clone()), body.clone())
            .await
        {
            Ok(c) => c,
            Err(e) if status_of(&e) == Some(409) => {
                // A leftover of the same name (a crash between create and record).
                self.remove(spec.name).await?;
                self.docker
                    .create_container(Some(options), body)
                    .await
                    .map_err(engine)?
            }
            Err(e) if status_of(&e) == Some(404) => {
                return Err(SandboxError::ImageMissing(spec.image.to_string()))
            }
            Err(e) => return Err(engine(e)),
        };
        if let Err(e) = self.docker.start_container(&created.id, None).await {
            let _ = self.remove(&created.id).await;
            return Err(engine(e));
        }
        Ok(created.id)
    }

    /// The container's address on `network`.
    async fn address(&self, container: &str, network: &str) -> Result<Ipv4Addr, SandboxError> {
        let info = self
            .docker
            .inspect_container(container, None)
            .await
            .map_err(engine)?;
        info.network_settings
            .and_then(|n| n.networks)
            .and_then(|mut n| n.remove(network))
            .and_then(|e| e.ip_address)
            .and_then(|ip| ip.parse().ok())
            .ok_or_else(|| {
                SandboxError::Engine(format!("container {container} has no address on {network}"))
            })
    }

    /// Removes a container, running or not; a missing one is fine.
    async fn remove(&self, container: &str) -> Result<(), SandboxError> {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(container, Some(options)).await {
            Ok(()) => Ok(()),
            Err(e) if matches!(status_of(&e), Some(404) | Some(409)) => Ok(()),
            Err(e) => Err(engine(e)),
        }
    }

    async fn rename(&self, container: &str, to: &str) -> Result<(), SandboxError> {
        let options = RenameContainerOptionsBuilder::default().name(to).build();
        self.docker
            .rename_container(container, options)
            .await
            .map_err(engine)
    }

    async fn state(&self, container: &str) -> Result<Option<ContainerState>, SandboxError> {
        let info = match self.docker.inspect_container(container, None).await {
            Ok(i) => i,
            Err(e) if status_of(&e) == Some(404) => return Ok(None),
            Err(e) => return Err(engine(e)),
        };
        let state = info.state.unwrap_or_default();
        Ok(Some(ContainerState {
            running: state.running == Some(true),
            restarting: state.restarting == Some(true),
            restarts: info.restart_count.unwrap_or(0),
            exit_code: state.exit_code.filter(|_| state.running != Some(true)),
        }))
    }

    /// Every container of this appliance instance, running or not.
    async fn list_ours(&self, instance: &str) -> Result<Vec<Listed>, SandboxError> {
        let filters = HashMap::from([(
            "label".to_string(),
            vec![format!("{INSTANCE_LABEL}={instance}")],
        )]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let list = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(engine)?;
        Ok(list
            .into_iter()
            .filter_map(|c| {
                let name = c.names?.first()?.trim_start_matches('/').to_string();
                let labels = c.labels.unwrap_or_default();
                Some(Listed {
                    id: c.id?,
                    name,
                    running: c.state.map(|s| s.to_string() == "running").unwrap_or(false),
                    template: labels.get(TEMPLATE_LABEL).cloned().unwrap_or_default(),
                })
            })
            .collect())
    }

    /// The container's output from its start, then as it comes.
    fn follow_logs(&self, container: &str, tail: &str) -> OutputStream {
        let options = LogsOptionsBuilder::default()
            .follow(true)
            .stdout(true)
            .stderr(true)
            .tail(tail)
            .build();
        Box::pin(self.docker.logs(container, Some(options)))
    }

    /// Starts `cmd` in the container as the sandbox user; returns the exec id
    /// and its attached streams.
    async fn exec(
        &self,
        container: &str,
        cmd: Vec<String>,
        tty: bool,
    ) -> Result<(String, OutputStream, InputSink), SandboxError> {
        let config = ExecConfig {
            attach_stdin: Some(tty),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(tty),
            cmd: Some(cmd),
            user: Some(SANDBOX_USER.into()),
            working_dir: Some("/workspace".into()),
            env: Some(vec!["TERM=xterm-256color".into()]),
            ..Default::default()
        };
        let created =
            self.docker
                .create_exec(container, config)
                .await
                .map_err(|e| match status_of(&e) {
                    Some(404) | Some(409) => SandboxError::NotRunning,
                    _ => engine(e),
                })?;
        let options = StartExecOptions {
            detach: false,
            tty,
            output_capacity: None,
        };
        match self
            .docker
            .start_exec(&created.id, Some(options))
            .await
            .map_err(engine)?
        {
            StartExecResults::Attached { output, input } => Ok((created.id, output, input)),
            StartExecResults::Detached => Err(SandboxError::Engine("exec did not attach".into())),
        }
    }

    /// Exit code of a finished exec (`None` while it runs).
    async fn exec_exit_code(&self, exec_id: &str) -> Result<Option<i64>, SandboxError> {
        let info = self.docker.inspect_exec(exec_id).await.map_err(engine)?;
        Ok(if info.running == Some(true) {
            None
        } else {
            info.exit_code
        })
    }

    async fn resize_exec(&self, exec_id: &str, cols: u16, rows: u16) -> Result<(), SandboxError> {
        let options = ResizeExecOptions {
            width: cols,
            height: rows,
        };
        self.docker
            .resize_exec(exec_id, options)
            .await
            .map_err(engine)
    }
}

fn status_of(e: &bollard::errors::Error) -> Option<u16> {
    match e {
        bollard::errors::Error::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

fn engine(e: bollard::errors::Error) -> SandboxError {
    match e {
        bollard::errors::Error::DockerResponseServerError { message, .. } => {
            SandboxError::Engine(message)
        }
        other => SandboxError::Engine(other.to_string()),
    }
}
