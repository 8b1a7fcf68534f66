//! A project's sandbox: its state, start, stop and restart, the dev
//! server's output, the problems found, and the ways into the preview and
//! the terminal.

use super::projects::path as project;
use super::{send, ApiFailure};
use autocrea_wire::sandbox::{ErrorList, LogList, PreviewTicket, SandboxView};

/// `GET /projects/{id}/sandbox`.
pub async fn status(project_id: &str) -> Result<SandboxView, ApiFailure> {
    super::get(&format!("{}/sandbox", project(project_id))).await
}

/// `POST /projects/{id}/sandbox/{action}?wait_secs=60`: waits up to a
/// minute for the dev server.
async fn control(project_id: &str, action: &str) -> Result<SandboxView, ApiFailure> {
    send(
        "POST",
        &format!("{}/sandbox/{action}?wait_secs=60", project(project_id)),
    )
    .await
}

/// Starts the sandbox (waiting up to a minute for the dev server).
pub async fn start(project_id: &str) -> Result<SandboxView, ApiFailure> {
    control(project_id, "start").await
}

/// Stops the sandbox.
pub async fn stop(project_id: &str) -> Result<SandboxView, ApiFailure> {
    control(project_id, "stop").await
}

/// Restarts the sandbox (waiting up to a minute for the dev server).
pub async fn restart(project_id: &str) -> Result<SandboxView, ApiFailure> {
    control(project_id, "restart").await
}

/// `GET /projects/{id}/sandbox/logs?follow=false`: the dev server's kept lines.
pub async fn logs(project_id: &str) -> Result<LogList, ApiFailure> {
    super::get(&format!(
        "{}/sandbox/logs?follow=false",
        project(project_id)
    ))
    .await
}

/// `GET /projects/{id}/sandbox/errors`: what the dev server and the page reported.
pub async fn errors(project_id: &str) -> Result<ErrorList, ApiFailure> {
    super::get(&format!("{}/sandbox/errors", project(project_id))).await
}

/// `POST /projects/{id}/sandbox/errors`: runs the project's checks (the bug finder).
pub async fn check(project_id: &str) -> Result<ErrorList, ApiFailure> {
    send("POST", &format!("{}/sandbox/errors", project(project_id))).await
}

/// `POST /projects/{id}/preview/ticket`: a one-time sign-in URL of the preview origin.
pub async fn ticket(project_id: &str) -> Result<PreviewTicket, ApiFailure> {
    send("POST", &format!("{}/preview/ticket", project(project_id))).await
}

/// Opening this address (a link, a new tab) enters the preview.
pub fn preview_open_url(project_id: &str) -> String {
    format!("{}/preview/open", project(project_id))
}

/// The terminal's WebSocket endpoint.
pub fn terminal_url(project_id: &str) -> String {
    format!("{}/sandbox/terminal", project(project_id))
}
