//! Commands in a sandbox: the exec API under the command policy (the
//! agent's `send_terminal_command`, the checks) and the interactive terminal.

use super::engine::{InputSink, OutputStream};
use super::manager::Sandboxes;
use super::running::Running;
use super::{diagnostics, policy, SandboxError};
pub use autocrea_wire::sandbox::ExecResult;
use bollard::container::LogOutput;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes read past the output cap before masking (longer than any value
/// worth masking would need to straddle it).
const MASK_SLACK: usize = 64 * 1024;

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
        // The project's preview variables are the dev server's, not the
        // commands': `env -u` leaves them out, so `printenv` and the like
        // (the agent's terminal tool runs here) do not see them.
        let mut cmd: Vec<String> = Vec::new();
        if !running.hidden_env.is_empty() {
            cmd.push("env".into());
            for name in &running.hidden_env {
                cmd.extend(["-u".to_string(), name.clone()]);
            }
        }
        cmd.extend(
            [
                "timeout",
                "-s",
                "KILL",
                &timeout_secs.to_string(),
                "sh",
                "-c",
                command,
            ]
            .map(String::from),
        );
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
                // Read a little past the cap, so that masking happens before
                // the cut and a cut cannot leave part of a value.
                let room = (cap + MASK_SLACK).saturating_sub(buf.len());
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
        // The agent reads this: the project's secrets stay names to it.
        let mut output = running
            .redactor
            .apply(&diagnostics::strip_ansi(&String::from_utf8_lossy(&buf)));
        if output.len() > cap {
            output.truncate(crate::text::prefix(&output, cap).len());
            truncated = true;
        }
        let elapsed = started.elapsed();
        let timed_out = !finished || (exit_code == Some(137) && elapsed.as_secs() >= timeout_secs);
        running.touch();
        Ok(ExecResult {
            exit_code: if timed_out { None } else { exit_code },
            output,
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

#[cfg(test)]
mod tests {
    use crate::config::SandboxConfig;
    use crate::sandbox::fake::{Call, Harness};
    use crate::sandbox::SandboxError;

    fn running_p1() -> Harness {
        let h = Harness::new(SandboxConfig {
            warm_pool: 0,
            ..Default::default()
        });
        h.engine.add_image("autocrea/sandbox-static");
        h.project("p1");
        h
    }

    #[tokio::test]
    async fn a_command_runs_under_timeout_in_the_projects_container() {
        let h = running_p1();
        h.engine.reply_to_exec("\u{1b}[32mhello\u{1b}[0m\n", 3);

        let out = h
            .sandboxes
            .exec("p1", "static", "echo hello", Some(7))
            .await
            .unwrap();

        assert_eq!(out.output, "hello\n", "colour codes are stripped");
        assert_eq!(out.exit_code, Some(3));
        assert!(!out.timed_out && !out.truncated);
        let last = h.engine.calls().pop();
        assert_eq!(
            last,
            Some(Call::Exec {
                container: h.name_of("p1"),
                cmd: ["timeout", "-s", "KILL", "7", "sh", "-c", "echo hello"]
                    .map(String::from)
                    .to_vec(),
            })
        );
    }

    #[tokio::test]
    async fn output_past_the_cap_is_cut() {
        let h = Harness::new(SandboxConfig {
            warm_pool: 0,
            exec_output_bytes: 4,
            ..Default::default()
        });
        h.engine.add_image("autocrea/sandbox-static");
        h.project("p1");
        h.engine.reply_to_exec("abcdefgh", 0);
        let out = h
            .sandboxes
            .exec("p1", "static", "echo abcdefgh", None)
            .await
            .unwrap();
        assert_eq!(out.output, "abcd");
        assert!(out.truncated);
    }

    #[tokio::test]
    async fn a_refused_command_or_timeout_starts_nothing() {
        let h = running_p1();
        let refused = h.sandboxes.exec("p1", "static", "rm -rf /", None).await;
        assert!(matches!(refused, Err(SandboxError::CommandRefused(_))));
        let too_long = h.sandboxes.exec("p1", "static", "ls", Some(100_000)).await;
        assert!(matches!(too_long, Err(SandboxError::Invalid(_))));
        assert!(h.engine.calls().is_empty());
    }

    #[tokio::test]
    async fn the_terminal_is_a_shell_with_a_tty_that_can_be_resized() {
        let h = running_p1();
        let (term, _running) = h.sandboxes.terminal("p1", "static").await.unwrap();
        h.sandboxes
            .resize_terminal(&term.exec_id, 120, 40)
            .await
            .unwrap();
        let calls = h.engine.calls();
        assert!(calls.contains(&Call::Exec {
            container: h.name_of("p1"),
            cmd: vec!["/bin/bash".into()],
        }));
        assert_eq!(
            calls.last(),
            Some(&Call::ResizeExec {
                exec_id: term.exec_id.clone(),
                cols: 120,
                rows: 40
            })
        );
    }
}
