//! Projects and the templates they start from.

use super::{encode, send, send_json, send_only, ApiFailure, BASE};
use autocrea_wire::projects::{
    CreateProject, CreatedProject, ProjectList, ProjectView, TemplateList, UpdateProject,
};

/// `/api/v1/projects/{id}`, the start of every project's own endpoints.
pub(super) fn path(id: &str) -> String {
    format!("{BASE}/projects/{id}")
}

/// `GET /projects`: the caller's projects matching `q`, by `sort`
/// (`updated`, `created`, `name`) in `order` (`asc`, `desc`).
pub async fn list(q: &str, sort: &str, order: &str) -> Result<ProjectList, ApiFailure> {
    super::get(&format!(
        "{BASE}/projects?q={}&sort={sort}&order={order}",
        encode(q)
    ))
    .await
}

/// `GET /projects/{id}`.
pub async fn get(id: &str) -> Result<ProjectView, ApiFailure> {
    super::get(&path(id)).await
}

/// `POST /projects`: with a prompt, its first turn starts too.
pub async fn create(body: &CreateProject) -> Result<CreatedProject, ApiFailure> {
    send_json("POST", &format!("{BASE}/projects"), body).await
}

/// `PATCH /projects/{id}`.
pub async fn update(id: &str, body: &UpdateProject) -> Result<ProjectView, ApiFailure> {
    send_json("PATCH", &path(id), body).await
}

/// `POST /projects/{id}/duplicate`: the copy.
pub async fn duplicate(id: &str) -> Result<ProjectView, ApiFailure> {
    send("POST", &format!("{}/duplicate", path(id))).await
}

/// `DELETE /projects/{id}`.
pub async fn delete(id: &str) -> Result<(), ApiFailure> {
    send_only("DELETE", &path(id)).await
}

/// `GET /templates`.
pub async fn templates() -> Result<TemplateList, ApiFailure> {
    super::get(&format!("{BASE}/templates")).await
}
