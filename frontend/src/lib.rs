#![recursion_limit = "512"]
//! AUTOCREA's user interface: Leptos pages rendered on the server (feature
//! `ssr`) and hydrated in the browser (feature `hydrate`). Data goes through
//! the same JSON API that tools use (`/api/v1`), so the UI proves the API.

pub mod api;
pub mod app;
pub mod components;
pub mod icons;
pub mod markdown;
pub mod pages;
pub mod redirect;
pub mod session;
pub mod workspace_js;

pub use app::{shell, App};

use serde::{Deserialize, Serialize};

/// The signed-in user as the server saw them when rendering the page. The
/// server puts it in the request's extensions; the UI reads it during SSR and
/// the value travels to the browser with the hydration data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: i64,
    pub email: String,
    pub username: String,
    pub name: String,
    pub is_admin: bool,
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
