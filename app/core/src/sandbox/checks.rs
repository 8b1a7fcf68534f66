//! `check_for_errors` and the errors known without running it: the last
//! check run while it still describes the code, the dev server's output,
//! and what the browser reported.

use super::diagnostics::{self, Diagnostic};
use super::errors::CheckRun;
use super::manager::Sandboxes;
use super::running::{is_fresh_start, Running};
use super::{devserver, manifest, SandboxError};
use crate::sync::lock;
use std::sync::Arc;

impl Sandboxes {
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
        lock(&self.last_checks).insert(
            project_id.to_string(),
            CheckRun {
                container: running.container.clone(),
                seq,
                found: found.clone(),
            },
        );
        found.extend(runtime_errors(&running));
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
        let mut checks = lock(&self.last_checks);
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
            found.extend(runtime_errors(&r));
        }
        found
    }
}

fn runtime_errors(running: &Running) -> Vec<Diagnostic> {
    // Only what the dev server printed since it last started, and after
    // its last successful rebuild: older errors are fixed or repeated.
    let lines = running.logs.tail(devserver::LOG_LINES);
    let start = lines
        .iter()
        .rposition(|l| is_fresh_start(&l.text))
        .map(|i| i + 1)
        .unwrap_or(0);
    let text: Vec<&str> = lines[start..].iter().map(|l| l.text.as_str()).collect();
    let mut found = diagnostics::parse(manifest::Parser::Generic, &text.join("\n"), "dev-server");
    let fresh = start.checked_sub(1).map_or(0, |i| lines[i].seq);
    found.extend(running.browser_errors(fresh));
    found
}
