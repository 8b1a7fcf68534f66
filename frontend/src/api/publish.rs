//! Publishing: a project's deployments and site, and the apps portal.

use super::projects::path as project;
use super::{encode, send, send_json, send_only, ApiFailure};
use autocrea_wire::publish::{
    AppList, Deployment, DeploymentList, PublishRequest, Site, SiteUpdate,
};
use autocrea_wire::sandbox::LogList;

/// `POST /projects/{id}/deployments`: queues a build of the latest version.
pub async fn publish(project_id: &str) -> Result<Deployment, ApiFailure> {
    send_json(
        "POST",
        &format!("{}/deployments", project(project_id)),
        &PublishRequest::default(),
    )
    .await
}

/// `POST /projects/{id}/deployments` with a version: builds that one (a redeploy).
pub async fn publish_version(project_id: &str, version: &str) -> Result<Deployment, ApiFailure> {
    send_json(
        "POST",
        &format!("{}/deployments", project(project_id)),
        &PublishRequest {
            version: Some(version.to_string()),
        },
    )
    .await
}

/// `GET /projects/{id}/deployments`, newest first.
pub async fn list(project_id: &str) -> Result<DeploymentList, ApiFailure> {
    super::get(&format!("{}/deployments", project(project_id))).await
}

/// `GET /projects/{id}/deployments/{deployment}`.
pub async fn get(project_id: &str, id: &str) -> Result<Deployment, ApiFailure> {
    super::get(&format!(
        "{}/deployments/{}",
        project(project_id),
        encode(id)
    ))
    .await
}

/// `POST /projects/{id}/deployments/{deployment}/promote`: live again, no rebuild.
pub async fn promote(project_id: &str, id: &str) -> Result<Deployment, ApiFailure> {
    send(
        "POST",
        &format!("{}/deployments/{}/promote", project(project_id), encode(id)),
    )
    .await
}

/// `DELETE /projects/{id}/deployments/{deployment}`.
pub async fn delete(project_id: &str, id: &str) -> Result<(), ApiFailure> {
    send_only(
        "DELETE",
        &format!("{}/deployments/{}", project(project_id), encode(id)),
    )
    .await
}

/// `GET .../logs?follow=false&after=N`: the build's lines after `after`.
pub async fn log(project_id: &str, id: &str, after: u64) -> Result<LogList, ApiFailure> {
    super::get(&format!(
        "{}/deployments/{}/logs?follow=false&after={after}",
        project(project_id),
        encode(id)
    ))
    .await
}

/// `GET /projects/{id}/site`.
pub async fn site(project_id: &str) -> Result<Site, ApiFailure> {
    super::get(&format!("{}/site", project(project_id))).await
}

/// `PUT /projects/{id}/site`.
pub async fn update_site(project_id: &str, body: &SiteUpdate) -> Result<Site, ApiFailure> {
    send_json("PUT", &format!("{}/site", project(project_id)), body).await
}

/// `GET /apps?q=`: the published apps the viewer may open.
pub async fn portal(q: &str) -> Result<AppList, ApiFailure> {
    super::get(&format!("{}/apps?q={}", super::BASE, encode(q))).await
}
