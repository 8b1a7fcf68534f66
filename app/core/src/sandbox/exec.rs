//! Commands in a sandbox: the exec API under the command policy (the
//! agent's `send_terminal_command`, the checks) and the interactive terminal.

use super::engine::{InputSink, OutputStream};
use super::manager::Sandboxes;
use super::running::Running;
use super::{diagnostics, policy, SandboxError};
use bollard::container::LogOutput;
use futures_util::StreamExt;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

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

    pub(super) async fn run_captured(
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
}
