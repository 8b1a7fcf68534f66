//! A project's environment variables: names and hints come back, values only go.

use super::projects::path as project;
use super::ApiFailure;
use super::{encode, send, send_json};
use autocrea_wire::env::{EnvChange, EnvScope, EnvVarList, EnvVarPut};

/// `GET /projects/{id}/env`.
pub async fn list(project_id: &str) -> Result<EnvVarList, ApiFailure> {
    super::get(&format!("{}/env", project(project_id))).await
}

/// `PUT /projects/{id}/env/{scope}/{name}`.
pub async fn set(
    project_id: &str,
    scope: EnvScope,
    name: &str,
    value: String,
) -> Result<EnvChange, ApiFailure> {
    send_json(
        "PUT",
        &format!("{}/env/{scope}/{}", project(project_id), encode(name)),
        &EnvVarPut { value },
    )
    .await
}

/// `DELETE /projects/{id}/env/{scope}/{name}`.
pub async fn delete(
    project_id: &str,
    scope: EnvScope,
    name: &str,
) -> Result<EnvChange, ApiFailure> {
    send(
        "DELETE",
        &format!("{}/env/{scope}/{}", project(project_id), encode(name)),
    )
    .await
}
