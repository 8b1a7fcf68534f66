//! The OpenAPI document's frame; paths come from the route table.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "AUTOCREA API", description = "The appliance's JSON API. Authenticate with a personal API token \
        (`Authorization: Bearer acr_...`) or, from a browser, the session cookie plus `X-CSRF-Token` on changes. \
        Errors are always `{\"error\": {\"code\", \"message\"}}`."),
    modifiers(&Security),
    components(schemas(autocrea_core::projects::SortKey, autocrea_core::projects::SortOrder)),
    security(("token" = []), ("session" = [])),
    tags(
        (name = "auth", description = "Sign-up, sign-in, sign-out"),
        (name = "me", description = "The signed-in user, password, API tokens"),
        (name = "projects", description = "Projects and templates"),
        (name = "versions", description = "The version timeline: history, diffs, revert, branches"),
        (name = "files", description = "The project's files for the editor: tree, read, save, delete, rename (a commit each)"),
        (name = "agent", description = "Chat threads, agent turns, plans, events"),
        (name = "sandbox", description = "Sandboxes, previews, terminal"),
        (name = "publish", description = "Deployments, the project's site and its access, the apps portal"),
        (name = "env", description = "A project's environment variables and secrets (names and hints only; values never come back)"),
        (name = "remote", description = "A project's external git remote: push mirror, pulls on demand and by webhook, conflicts"),
        (name = "admin", description = "Instance administration"),
        (name = "health", description = "Probes"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("autocrea_session"))),
        );
    }
}

pub fn base() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}
