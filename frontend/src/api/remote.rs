//! A project's external git remote: the link, push now, pull now, the
//! webhook secret.

use super::projects::path as project;
use super::{send, send_json, send_only, ApiFailure};
use autocrea_wire::remote::{PullResult, RemoteLink, RemoteRequest, RemoteView};

/// `GET /projects/{id}/remote`: the link, or none.
pub async fn get(project_id: &str) -> Result<RemoteLink, ApiFailure> {
    super::get(&format!("{}/remote", project(project_id))).await
}

/// `PUT /projects/{id}/remote`: link or change the link.
pub async fn link(project_id: &str, body: &RemoteRequest) -> Result<RemoteView, ApiFailure> {
    send_json("PUT", &format!("{}/remote", project(project_id)), body).await
}

/// `DELETE /projects/{id}/remote`.
pub async fn unlink(project_id: &str) -> Result<(), ApiFailure> {
    send_only("DELETE", &format!("{}/remote", project(project_id))).await
}

/// `POST /projects/{id}/remote/push`.
pub async fn push(project_id: &str) -> Result<RemoteView, ApiFailure> {
    send("POST", &format!("{}/remote/push", project(project_id))).await
}

/// `POST /projects/{id}/remote/pull`.
pub async fn pull(project_id: &str) -> Result<PullResult, ApiFailure> {
    send("POST", &format!("{}/remote/pull", project(project_id))).await
}

/// `POST /projects/{id}/remote/webhook-secret`: a new secret, shown once.
pub async fn rotate_secret(project_id: &str) -> Result<RemoteView, ApiFailure> {
    send(
        "POST",
        &format!("{}/remote/webhook-secret", project(project_id)),
    )
    .await
}
