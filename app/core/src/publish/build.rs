//! One build in a hardened container: the version's files read-only at
//! /workspace, the template's build command, then its output streamed out
//! as a tar archive. The container is the sandbox's (same image, user,
//! limits, internal network) with its own command, and it is removed
//! whatever happens. It never sees the project's working tree or sandbox.

use crate::config::SandboxConfig;
use crate::sandbox::devserver::LogBuffer;
use crate::sandbox::engine::{ContainerEngine, ContainerSpec};
use crate::sandbox::manifest::PublishRecipe;
use bollard::container::LogOutput;
use futures_util::StreamExt;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// What a build needs from the publisher.
pub struct BuildJob<'a> {
    pub engine: &'a dyn ContainerEngine,
    pub container: &'a str,
    pub image: &'a str,
    pub template: &'a str,
    pub instance: &'a str,
    pub network: &'a str,
    /// The version's files (mounted read-only).
    pub workspace: &'a Path,
    pub recipe: &'a PublishRecipe,
    pub limits: &'a SandboxConfig,
    pub log: &'a LogBuffer,
    pub timeout: Duration,
    /// Where the output's tar archive is written.
    pub archive: &'a Path,
    pub max_bytes: u64,
    /// The project's `production` variables (`NAME=value`).
    pub env: &'a [String],
}

/// Runs the build; `Err` says why it failed, in words for the person who published.
pub async fn run(job: &BuildJob<'_>) -> Result<(), String> {
    let (Some(command), Some(output)) = (&job.recipe.build, &job.recipe.output) else {
        return Ok(());
    };
    let spec = ContainerSpec {
        name: job.container,
        image: job.image,
        template: job.template,
        instance: job.instance,
        workspace: job.workspace,
        scratch: &[],
        env: production_env(job.env),
        network: job.network,
        command: Some(vec!["sleep".into(), "86400".into()]),
        restart: false,
    };
    let id = job
        .engine
        .run(&spec, job.limits)
        .await
        .map_err(|e| format!("the build container did not start: {}", e.public_message()))?;
    // One limit for building and packing: a build can make packing slow too.
    let result =
        match tokio::time::timeout(job.timeout, build_and_pack(job, &id, command, output)).await {
            Ok(r) => r,
            Err(_) => Err(format!(
                "the build ran longer than {} s and was stopped",
                job.timeout.as_secs()
            )),
        };
    if let Err(e) = job.engine.remove(&id).await {
        tracing::warn!(container = job.container, error = %e, "a build container was not removed");
    }
    result
}

async fn build_and_pack(
    job: &BuildJob<'_>,
    container: &str,
    command: &str,
    output: &str,
) -> Result<(), String> {
    note(job.log, &format!("$ {command}"));
    let sh = vec!["sh".to_string(), "-c".to_string(), command.to_string()];
    let work = async {
        let (exec, mut stream, _) = job
            .engine
            .exec(container, sh, false)
            .await
            .map_err(|e| format!("the build did not start: {}", e.public_message()))?;
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(LogOutput::StdOut { message }) | Ok(LogOutput::Console { message }) => {
                    job.log.push(false, &message);
                }
                Ok(LogOutput::StdErr { message }) => {
                    job.log.push(true, &message);
                }
                Ok(LogOutput::StdIn { .. }) => {}
                Err(e) => return Err(format!("the build's output broke off: {e}")),
            }
        }
        flush(job.log);
        match job.engine.exec_exit_code(&exec).await {
            Ok(Some(0)) => Ok(()),
            Ok(Some(code)) => Err(match first_located_error(job.log) {
                Some(at) => format!("the build command exited with status {code}: {at}"),
                None => format!("the build command exited with status {code}"),
            }),
            Ok(None) => Err("the build command did not finish".into()),
            Err(e) => Err(format!(
                "the build's end was not seen: {}",
                e.public_message()
            )),
        }
    };
    work.await?;
    note(job.log, "packing the build output");
    pack(job, container, output).await
}

/// Streams `output` out of the container as a tar archive into `job.archive`.
async fn pack(job: &BuildJob<'_>, container: &str, output: &str) -> Result<(), String> {
    let cmd = ["tar", "-C", output, "-cf", "-", "."]
        .map(String::from)
        .to_vec();
    let (exec, mut stream, _) = job
        .engine
        .exec(container, cmd, false)
        .await
        .map_err(|e| format!("the build output could not be read: {}", e.public_message()))?;
    let mut file = std::fs::File::create(job.archive)
        .map_err(|e| format!("the build output could not be kept: {e}"))?;
    let mut written: u64 = 0;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(LogOutput::StdOut { message }) => {
                written += message.len() as u64;
                if written > job.max_bytes + 1024 * 1024 {
                    return Err(format!(
                        "the build output is larger than {} MiB",
                        job.max_bytes / (1024 * 1024)
                    ));
                }
                file.write_all(&message)
                    .map_err(|e| format!("the build output could not be kept: {e}"))?;
            }
            Ok(LogOutput::StdErr { message }) => {
                job.log.push(true, &message);
            }
            Ok(_) => {}
            Err(e) => return Err(format!("reading the build output broke off: {e}")),
        }
    }
    flush(job.log);
    file.sync_all()
        .map_err(|e| format!("the build output could not be kept: {e}"))?;
    match job.engine.exec_exit_code(&exec).await {
        Ok(Some(0)) => Ok(()),
        _ => Err(format!(
            "the build left no output in {output} (is it the folder the build writes to?)"
        )),
    }
}

/// The first error in the build's output that names a file and line
/// (`src/App.tsx:2:30: Expected ...`), read by the sandbox checks' parsers,
/// so the deployment's error says where to look.
fn first_located_error(log: &LogBuffer) -> Option<String> {
    use crate::sandbox::diagnostics::parse;
    use crate::sandbox::manifest::Parser;
    let text: Vec<String> = log.tail(400).into_iter().map(|l| l.text).collect();
    let text = text.join("\n");
    [Parser::Tsc, Parser::Generic]
        .into_iter()
        .flat_map(|p| parse(p, &text, "build"))
        .find(|d| d.file.is_some() && d.line.is_some())
        .map(|d| {
            let (file, line) = (d.file.unwrap_or_default(), d.line.unwrap_or_default());
            let at = match d.column {
                Some(c) => format!("{file}:{line}:{c}"),
                None => format!("{file}:{line}"),
            };
            let message: String = d.message.chars().take(300).collect();
            format!("{at}: {message}")
        })
}

/// The environment of a publish container (build or app): the project's
/// `production` variables, then the appliance's own, which win.
pub(super) fn production_env(project: &[String]) -> Vec<String> {
    project
        .iter()
        .cloned()
        .chain([
            "NODE_ENV=production".into(),
            "NEXT_TELEMETRY_DISABLED=1".into(),
        ])
        .collect()
}

/// A line of the appliance's own in the build log.
pub fn note(log: &LogBuffer, text: &str) {
    log.push(false, format!("[autocrea] {text}\n").as_bytes());
}

/// Ends a last line the build left without a newline.
fn flush(log: &LogBuffer) {
    log.finish_partial();
}
