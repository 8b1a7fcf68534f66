//! A project's history: versions, diffs, revert, branches, and the version
//! the preview shows.

use super::projects::path as project;
use super::{encode, send, send_json, send_only, ApiFailure};
use autocrea_wire::versions::{
    Branch, BranchList, Diff, History, NewBranch, PreviewVersion, Previewing, SwitchBranch, Version,
};

/// `GET /projects/{id}/versions`: `limit` versions, newest first, of page
/// `page` (the first when None).
pub async fn list(
    project_id: &str,
    page: Option<usize>,
    limit: usize,
) -> Result<History, ApiFailure> {
    let query = match page {
        Some(page) => format!("page={page}&limit={limit}"),
        None => format!("limit={limit}"),
    };
    super::get(&format!("{}/versions?{query}", project(project_id))).await
}

/// `GET /projects/{id}/diff`: the changes from version `from` to `to`.
pub async fn diff(project_id: &str, from: &str, to: &str) -> Result<Diff, ApiFailure> {
    super::get(&format!(
        "{}/diff?from={}&to={}",
        project(project_id),
        encode(from),
        encode(to)
    ))
    .await
}

/// `POST /projects/{id}/versions/{sha}/revert`: the new version with `sha`'s files.
pub async fn revert(project_id: &str, sha: &str) -> Result<Version, ApiFailure> {
    send(
        "POST",
        &format!("{}/versions/{sha}/revert", project(project_id)),
    )
    .await
}

/// `GET /projects/{id}/branches`.
pub async fn branches(project_id: &str) -> Result<BranchList, ApiFailure> {
    super::get(&format!("{}/branches", project(project_id))).await
}

/// `POST /projects/{id}/branches`.
pub async fn create_branch(project_id: &str, body: &NewBranch) -> Result<Branch, ApiFailure> {
    send_json("POST", &format!("{}/branches", project(project_id)), body).await
}

/// `POST /projects/{id}/branches/switch`.
pub async fn switch_branch(
    project_id: &str,
    body: &SwitchBranch,
) -> Result<BranchList, ApiFailure> {
    send_json(
        "POST",
        &format!("{}/branches/switch", project(project_id)),
        body,
    )
    .await
}

/// `DELETE /projects/{id}/branches/{name}`.
pub async fn delete_branch(project_id: &str, name: &str) -> Result<(), ApiFailure> {
    send_only(
        "DELETE",
        &format!("{}/branches/{}", project(project_id), encode(name)),
    )
    .await
}

/// `GET /projects/{id}/preview-version`: the version the preview shows, if not the latest.
pub async fn previewing(project_id: &str) -> Result<Previewing, ApiFailure> {
    super::get(&format!("{}/preview-version", project(project_id))).await
}

/// `PUT /projects/{id}/preview-version`: the preview shows that version.
pub async fn preview(project_id: &str, body: &PreviewVersion) -> Result<Previewing, ApiFailure> {
    send_json(
        "PUT",
        &format!("{}/preview-version", project(project_id)),
        body,
    )
    .await
}

/// `DELETE /projects/{id}/preview-version`: the preview shows the latest again.
pub async fn preview_latest(project_id: &str) -> Result<Previewing, ApiFailure> {
    send(
        "DELETE",
        &format!("{}/preview-version", project(project_id)),
    )
    .await
}
