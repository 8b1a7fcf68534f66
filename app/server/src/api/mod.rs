//! The JSON API under `/api/v1`, plus `/healthz` and `/readyz`.

pub mod admin;
pub mod apps;
pub mod attachments;
pub mod auth;
pub mod deployments;
pub mod env;
pub mod files;
pub mod gateway;
pub mod health;
pub mod llm;
pub mod me;
pub mod projects;
pub mod remote;
pub mod sandbox;
pub mod search;
pub mod site;
pub mod templates;
pub mod threads;
pub mod versions;

use serde::Serialize;

/// `{"status": "ok"}`-style replies for probes.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Status {
    pub status: &'static str,
    pub version: &'static str,
}
