//! One module per screen.

pub mod admin;
pub mod agent;
pub mod apps;
pub mod auth;
pub mod dashboard;
pub mod deployments;
pub mod env_vars;
pub mod models;
pub mod profile;
pub mod project;
pub mod remote;
pub mod sandbox;
pub mod versions;
pub mod workspace;

use leptos::prelude::*;

/// False during server rendering and until the browser has hydrated the page.
/// Forms keep their submit buttons disabled until then, so a click before the
/// script runs can never submit a password the old-fashioned way.
pub fn hydrated() -> ReadSignal<bool> {
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| set_ready.set(true));
    ready
}
