//! Published apps on their own origins: `<site>.<apps domain>` serves the
//! live deployment, `<site>-<short id>.<apps domain>` one deployment.
//!
//! Like previews, an app never shares the console's origin, so the
//! console's cookies never reach it. A non-public app signs people in with
//! a one-time ticket from the console, exchanged on the app's origin for a
//! cookie only that origin holds; a signed-out visitor is sent to the
//! console's sign-in and back. Static deployments are served from their
//! files here; server apps are proxied to their container.

mod cache;
mod files;
pub mod origin;

pub use origin::Apps;

use crate::cookies::cookie_names;
use crate::preview::page::{encode_component, landing, page, query_param, signed_in_redirect};
use crate::preview::proxy;
use crate::state::AppState;
use autocrea_core::publish::{Access, Target};
use autocrea_core::sandbox::manifest::ServeKind;
use autocrea_core::sync::lock;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use origin::{COOKIE, RECHECK, SESSION_TTL};
use std::time::Instant;

/// Middleware in front of every route (outside the previews'): requests for
/// an app's origin are served here, everything else goes on.
pub async fn route(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.apps.is_apps_host(req.headers()) {
        return next.run(req).await;
    }
    match state.apps.label_of(req.headers()) {
        Some(label) => with_app_headers(serve(state, label, req).await),
        None => with_app_headers(not_found()),
    }
}

/// Headers every app answer carries, whatever the app sets.
fn with_app_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

async fn serve(state: AppState, label: String, req: Request) -> Response {
    let target = match state.publisher.target(&label).await {
        Ok(Some(t)) => t,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "an app's address was not resolved");
            return page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The appliance could not look this app up; its log has the details.",
                false,
            );
        }
    };
    if req.uri().path() == "/__autocrea/auth" {
        return sign_in(&state, &label, &req);
    }
    if target.access != Access::Public {
        let asked = Asked {
            method: req.method(),
            headers: req.headers(),
            uri: req.uri(),
        };
        match signed_in(&state, &target, &label, &asked).await {
            Ok(()) => {}
            Err(refusal) => return refusal,
        }
    }
    match target.serve {
        ServeKind::Static => files::serve(&target, req, &state.apps.files).await,
        ServeKind::Server => {
            let addr = match state.publisher.server_addr(&target).await {
                Ok(a) => a,
                Err(why) => {
                    return page(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "The app is not running",
                        &why,
                        true,
                    )
                }
            };
            let hidden = cookie_names(state.apps.https);
            let to = proxy::Upstream {
                addr,
                hidden_cookies: &[
                    COOKIE,
                    origin::HOST_COOKIE,
                    hidden.session,
                    hidden.csrf,
                    crate::preview::COOKIE,
                ],
                scheme: state.apps.scheme,
                inject: false,
            };
            proxy::forward(&state.preview.client, &to, req).await
        }
    }
}

/// The parts of a request the sign-in check reads (the body stays out:
/// it is not `Sync`, and the check awaits).
struct Asked<'a> {
    method: &'a Method,
    headers: &'a axum::http::HeaderMap,
    uri: &'a axum::http::Uri,
}

/// The visitor's sign-in for this app, checked again every few seconds
/// (a disabled account, a changed access list, end here).
async fn signed_in(
    state: &AppState,
    t: &Target,
    label: &str,
    req: &Asked<'_>,
) -> Result<(), Response> {
    let Some((token, pass)) = state.apps.session(req.headers, label) else {
        return Err(to_console(state, label, req));
    };
    if pass.checked.elapsed() < RECHECK {
        return Ok(());
    }
    let active = autocrea_core::accounts::users::get(&state.pool, pass.user_id)
        .await
        .is_ok_and(|u| !u.disabled);
    let allowed = active
        && state
            .publisher
            .may_open(t, Some(pass.user_id))
            .await
            .unwrap_or(false);
    let mut sessions = lock(&state.apps.sessions);
    if allowed {
        if let Some(s) = sessions.get_mut(&token) {
            s.checked = Instant::now();
        }
        Ok(())
    } else {
        sessions.remove(&token);
        Err(forbidden())
    }
}

/// `/__autocrea/auth?ticket=...&next=/path`: a ticket becomes the app's cookie.
fn sign_in(state: &AppState, label: &str, req: &Request) -> Response {
    let query = req.uri().query().unwrap_or("");
    let Some(ticket) = query_param(query, "ticket").and_then(|t| state.apps.take_ticket(&t)) else {
        return not_found();
    };
    if ticket.label != label {
        return not_found();
    }
    let next = landing(query);
    let token = state.apps.start_session(ticket);
    let secure = if state.apps.https { "; Secure" } else { "" };
    let cookie = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax{secure}; Max-Age={}",
        state.apps.cookie_name(),
        SESSION_TTL.as_secs()
    );
    signed_in_redirect(&next, &cookie)
}

/// No sign-in: a page load goes to the console (which signs the person in
/// if needed and checks the app's access); anything else gets 401.
fn to_console(state: &AppState, label: &str, req: &Asked<'_>) -> Response {
    let navigates = *req.method == Method::GET
        && req
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
    if !navigates {
        return page(
            StatusCode::UNAUTHORIZED,
            "Sign in first",
            "This app needs you to sign in; open it in the browser.",
            false,
        );
    }
    let next = req.uri.path_and_query().map_or("/", |p| p.as_str());
    let location = format!(
        "{}/api/v1/apps/{label}/open?next={}",
        state.apps.console_for(req.headers),
        encode_component(next)
    );
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .body(Body::empty())
        .expect("valid response")
}

fn not_found() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Not found",
        "No app is published at this address.",
        false,
    )
}

pub(crate) fn forbidden() -> Response {
    page(
        StatusCode::FORBIDDEN,
        "You may not open this app",
        "Ask the app's owner to let you in.",
        false,
    )
}
