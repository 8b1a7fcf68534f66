//! What every page shares about the visit: the session the server resolved,
//! whether this is a fresh install, full-page navigation and the note a
//! new project's first turn leaves for its workspace. Its own module so
//! that pages and components use it without depending on the router
//! (`app`), which depends on them.

use crate::SessionInfo;
use leptos::prelude::*;

/// The session as the server resolved it; None when signed out.
pub type SessionResource = Resource<Option<SessionInfo>>;

pub(crate) fn session_from_request() -> Option<SessionInfo> {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<SessionInfo>().cloned())
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// Put in the request's extensions by the server when no account exists
/// yet: the sign-up page then says that this first account is the admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirstRun(pub bool);

/// Whether the server rendered this page for a fresh install (no account yet).
pub fn first_run_from_request() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<FirstRun>().copied())
            .is_some_and(|f| f.0)
    }
    #[cfg(not(feature = "ssr"))]
    {
        false
    }
}

/// Session-storage key of why project `id`'s first turn did not start.
#[cfg(feature = "hydrate")]
pub(crate) fn first_turn_error_key(id: &str) -> String {
    format!("autocrea.first-turn-error.{id}")
}

/// Keeps why project `id`'s first turn did not start, for its workspace.
pub fn keep_first_turn_error(id: &str, message: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) {
        let _ = storage.set_item(&first_turn_error_key(id), message);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, message);
}

/// Full page navigation: after sign-in or sign-out the server renders the
/// next page with the new session.
pub fn go_to(path: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}
