//! Previews on their own origin: `p-<project>.<preview domain>`.
//!
//! The console's cookies are host-only, so a browser never sends them to a
//! preview origin, and a generated app can never read them. A person gets
//! into a preview with a one-time ticket minted by the console (signed in,
//! allowed to see the project) and exchanged on the preview origin for a
//! cookie that only that origin holds. Requests without it are sent to the
//! console to get one; anyone else gets 404.

pub(crate) mod page;
pub mod previews;
pub(crate) mod proxy;

use autocrea_core::sync::lock;
pub use page::encode_component;
use page::{landing, page, query_param, signed_in_redirect};
use previews::*;
pub use previews::{cookie_tossing_warning, Previews, Warning, COOKIE};

use crate::cookies::cookie_names;
use crate::state::AppState;
use autocrea_core::projects;
use autocrea_core::sandbox::{DevState, Diagnostic};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;

/// Middleware in front of every route: requests for a preview origin go to
/// the preview, everything else to the console.
pub async fn route(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match state.preview.project_of(req.headers()) {
        Some(project_id) => without_referrer(serve(state, project_id, req).await),
        None => next.run(req).await,
    }
}

/// The preview's host names its project: links and requests from a preview
/// page must not carry it to other sites in `Referer`. `same-origin`, not
/// `no-referrer`: under `no-referrer` browsers send `Origin: null` on the
/// page's own POSTs (Fetch, "append a request Origin header"), and the
/// report endpoint takes only the preview's own Origin. This middleware is
/// outermost, so the console's header never reaches these responses; the
/// dev server's own policy is overridden too.
fn without_referrer(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

async fn serve(state: AppState, project_id: String, req: Request) -> Response {
    let previews = state.preview.clone();
    match req.uri().path() {
        "/__autocrea/auth" => return sign_in(&state, &project_id, &req),
        "/__autocrea/console.js" => {
            return (
                [
                    (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                CONSOLE_JS,
            )
                .into_response()
        }
        _ => {}
    }
    let Some((token, session)) = previews
        .session(req.headers())
        .filter(|(_, s)| s.project_id == project_id)
    else {
        return to_console(&state, &project_id, &req);
    };
    let template = if session.checked.elapsed() < RECHECK {
        session.template
    } else {
        // Still the project's owner? Deleted projects and revoked access end here.
        match projects::get(&state.pool, session.user_id, &project_id).await {
            Ok(p) => {
                if let Some(s) = lock(&previews.sessions).get_mut(&token) {
                    s.checked = Instant::now();
                }
                p.template
            }
            Err(_) => {
                lock(&previews.sessions).remove(&token);
                return not_found();
            }
        }
    };
    // The report endpoint is the appliance's, whatever the method: never the dev server's.
    if req.uri().path() == "/__autocrea/report" {
        return report(&state, &project_id, req).await;
    }
    // Fast path: a running sandbox needs no lock; a stopped one is started.
    let running = match state.sandboxes.running(&project_id) {
        Some(r) => r,
        None => match state.sandboxes.start(&project_id, &template).await {
            Ok(r) => r,
            Err(e) => {
                return page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The preview cannot start",
                    &e.to_string(),
                    false,
                )
            }
        },
    };
    running.touch();
    if running.state() != DevState::Ready && !running.wait_ready(START_WAIT).await {
        let view = state.sandboxes.view(&project_id, &template);
        let tail: Vec<String> = running.logs.tail(15).into_iter().map(|l| l.text).collect();
        let detail = format!(
            "The dev server is {}{}.\n\n{}",
            serde_json::to_value(view.state)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            view.last_exit
                .map(|e| format!(" (last exit: {e})"))
                .unwrap_or_default(),
            tail.join("\n")
        );
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "The preview is not ready yet",
            &detail,
            true,
        );
    }
    let hidden = cookie_names(previews.https);
    let to = proxy::Upstream {
        addr: running.addr,
        hidden_cookies: &[COOKIE, hidden.session, hidden.csrf],
        scheme: previews.scheme,
        inject: true,
    };
    proxy::forward(&previews.client, &to, req).await
}

/// `/__autocrea/auth?ticket=...&next=/path`: a ticket becomes a preview cookie.
fn sign_in(state: &AppState, project_id: &str, req: &Request) -> Response {
    let query = req.uri().query().unwrap_or("");
    let Some(ticket) = query_param(query, "ticket").and_then(|t| state.preview.take_ticket(&t))
    else {
        return not_found();
    };
    if ticket.project_id != project_id {
        return not_found();
    }
    // A header-safe local path, or the root.
    let next = landing(query);
    let token = autocrea_core::secrets::random_token(32);
    let now = Instant::now();
    {
        let mut sessions = lock(&state.preview.sessions);
        sessions.retain(|_, s| s.expires > now);
        sessions.insert(
            token.clone(),
            Session {
                user_id: ticket.user_id,
                project_id: project_id.to_string(),
                template: String::new(),
                expires: now + SESSION_TTL,
                checked: now - RECHECK, // look the project up on first use
            },
        );
    }
    // In the workspace's iframe the preview is a third party: only a
    // `SameSite=None; Secure` cookie reaches it there, and browsers that
    // block third-party cookies still keep a `Partitioned` one (CHIPS: kept
    // for this console only), so a frame gets that kind. Over plain HTTP on
    // a real domain Secure is not allowed, and the preview opens in its own
    // tab instead.
    let framed = req
        .headers()
        .get("sec-fetch-dest")
        .is_some_and(|v| v == "iframe");
    let attributes = match (state.preview.cookie_in_frames(), framed) {
        (true, true) => "SameSite=None; Secure; Partitioned",
        (true, false) => "SameSite=None; Secure",
        (false, _) => "SameSite=Lax",
    };
    let cookie = format!(
        "{COOKIE}={token}; Path=/; HttpOnly; {attributes}; Max-Age={}",
        SESSION_TTL.as_secs()
    );
    signed_in_redirect(&next, &cookie)
}

/// No preview cookie: a browser page load goes to the console for a ticket
/// (which answers 404 to anyone who may not see the project); other requests get 404.
fn to_console(state: &AppState, project_id: &str, req: &Request) -> Response {
    let navigates = req.method() == Method::GET
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
    if !navigates {
        return not_found();
    }
    let console = state.preview.console.clone().unwrap_or_else(|| {
        // p-<id>.<domain>[:port] -> <domain>[:port], same scheme.
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let rest = host.split_once('.').map_or(host, |(_, r)| r);
        format!("{}://{rest}", state.preview.scheme)
    });
    let next = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let location = format!(
        "{console}/api/v1/projects/{project_id}/preview/open?next={}",
        encode_component(next)
    );
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .body(Body::empty())
        .expect("valid response")
}

#[derive(serde::Deserialize)]
struct Report {
    kind: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    line: u32,
    #[serde(default)]
    column: u32,
    #[serde(default)]
    stack: String,
    /// The id the script made up when its page loaded: errors belong to the page loaded last.
    #[serde(default)]
    page: String,
}

/// Largest report body accepted.
const REPORT_MAX: usize = 16 * 1024;

/// Why a report is not taken: the page that sent it is not the preview's
/// own, or it sent too much. Answered with a bare status, as the script ignores it.
fn refuse_report(state: &AppState, project_id: &str, req: &Request) -> Option<StatusCode> {
    if req.method() != Method::POST {
        return Some(StatusCode::METHOD_NOT_ALLOWED);
    }
    // Only the preview's own pages: a page on another origin (another
    // project's preview on a sibling subdomain is same-site, so its
    // requests carry this preview's cookie) could otherwise write into the
    // agent's prompt. Browsers always send Origin on a POST.
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    if !origin.is_some_and(|o| is_origin_of(o, req.headers())) {
        return Some(StatusCode::FORBIDDEN);
    }
    // JSON only: a cross-origin page could send a "simple" text/plain or
    // form body without a preflight; JSON it cannot.
    if !is_json(req.headers()) {
        return Some(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > REPORT_MAX) {
        return Some(StatusCode::PAYLOAD_TOO_LARGE);
    }
    if !state.preview.reports.allow(project_id) {
        return Some(StatusCode::TOO_MANY_REQUESTS);
    }
    None
}

/// Whether `origin` (`scheme://host[:port]`) names the host this request
/// was sent to. The scheme is left out: behind a TLS proxy the appliance
/// sees plain HTTP for an https page.
fn is_origin_of(origin: &str, headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let authority = origin.split_once("://").map(|(_, a)| a);
    matches!((authority, host), (Some(a), Some(h)) if !a.is_empty() && a.eq_ignore_ascii_case(h))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// What the injected script saw in the browser.
async fn report(state: &AppState, project_id: &str, req: Request) -> Response {
    if let Some(refused) = refuse_report(state, project_id, &req) {
        return refused.into_response();
    }
    let Ok(bytes) = axum::body::to_bytes(req.into_body(), REPORT_MAX).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let Ok(r) = serde_json::from_slice::<Report>(&bytes) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let Some(running) = state.sandboxes.running(project_id) else {
        return StatusCode::NO_CONTENT.into_response();
    };
    if r.kind == "load" {
        running.page_loaded(&r.page);
    } else {
        // Script URLs are the preview's own: keep the path, as the project names it.
        let file = r
            .source
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split_once('/'))
            .map(|(_, path)| path.split(['?', '#']).next().unwrap_or("").to_string());
        let mut message: String = r.message.chars().take(2000).collect();
        if r.kind == "console" {
            message = format!("console.error: {message}");
        }
        if !r.stack.is_empty() && r.kind == "error" && r.source.is_empty() {
            message = format!(
                "{message}\n{}",
                r.stack.chars().take(2000).collect::<String>()
            );
        }
        running.report_browser_error(
            &r.page,
            Diagnostic {
                file: file.filter(|f| !f.is_empty()),
                line: (r.line > 0).then_some(r.line),
                column: (r.column > 0).then_some(r.column),
                severity: "error".into(),
                message,
                source: "browser".into(),
            },
        );
    }
    StatusCode::NO_CONTENT.into_response()
}

fn not_found() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no preview here, or you may not see it.",
        false,
    )
}

/// A path on this origin to redirect to: the one check every redirect uses
/// (`autocrea_frontend::redirect`, shared with the sign-in page).
pub fn is_local_path(p: &str) -> bool {
    autocrea_frontend::redirect::is_local_path(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use autocrea_core::config::Config;

    #[test]
    fn preview_hosts() {
        let config = Config::default();
        let p = Previews::new(&config, "127.0.0.1:8080".parse().unwrap());
        let host = |h: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_str(h).unwrap());
            p.project_of(&headers)
        };
        assert_eq!(host("p-abc123.localhost:8080").as_deref(), Some("abc123"));
        assert_eq!(host("P-ABC.LOCALHOST").as_deref(), Some("abc"));
        assert_eq!(host("localhost:8080"), None);
        assert_eq!(host("p-abc.evil.localhost.com"), None);
        assert_eq!(host("p-.localhost"), None);
        assert_eq!(host("x.p-abc.localhost"), None);
        assert_eq!(p.origin("abc"), "http://p-abc.localhost:8080");
    }

    #[test]
    fn only_local_paths_are_redirect_targets() {
        for ok in ["/", "/a/b?c=d", "/a%20b"] {
            assert!(is_local_path(ok), "{ok}");
        }
        // Percent-encoded slashes could become `//host` for a consumer that decodes again.
        for bad in [
            "//evil.com",
            "/\\evil.com",
            "https://evil.com",
            "evil.com",
            "/a\nb",
            "",
            "/%2F%2Fx",
            "/%09/evil.com",
            "/\t/evil.com",
        ] {
            assert!(!is_local_path(bad), "{bad}");
        }
    }

    #[test]
    fn previews_under_the_consoles_site_over_http_are_warned_about() {
        let warn = |console: &str, previews: &str, https: bool| {
            cookie_tossing_warning(console, previews, https).map(|w| w.severity.as_str())
        };
        assert_eq!(
            warn("autocrea.example.com", "preview.example.com", false),
            Some("warning")
        );
        assert_eq!(
            warn("autocrea.example.com", "p.autocrea.example.com", false),
            Some("warning")
        );
        assert_eq!(warn("example.com", "example.com", false), Some("warning"));
        assert_eq!(
            warn("autocrea.example.com", "preview.example.com", true),
            None,
            "__Host- cookies over HTTPS"
        );
        assert_eq!(
            warn("autocrea.example.com", "autocrea-preview.net", false),
            None
        );
        assert_eq!(
            warn("localhost", "localhost", false),
            Some("info"),
            "the single-machine default"
        );
        assert_eq!(warn("127.0.0.1", "localhost", false), None);
        assert_eq!(warn("10.0.0.5", "0.5", false), None);
    }

    #[test]
    fn the_consoles_host_comes_from_public_url_or_the_request() {
        let mut config = Config::default();
        let p = Previews::new(&config, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(
            p.cookie_warning(Some("localhost:8080"))
                .map(|w| w.severity.as_str()),
            Some("info")
        );
        assert_eq!(p.cookie_warning(Some("127.0.0.1:8080")), None);
        assert_eq!(p.cookie_warning(None), None);
        config.public_url = Some("http://autocrea.example.com:8080/".into());
        config.sandbox.preview_domain = "preview.example.com".into();
        let p = Previews::new(&config, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(
            p.cookie_warning(Some("127.0.0.1:8080"))
                .map(|w| w.severity.as_str()),
            Some("warning")
        );
        assert_eq!(host_without_port("[::1]:8080"), "[::1]");
        assert_eq!(host_without_port("Example.COM."), "example.com");
    }

    #[test]
    fn components_round_trip() {
        for s in ["/", "/a b?x=1&y=ü#z", "%zz"] {
            assert_eq!(page::decode_component(&encode_component(s)), s);
        }
    }
}
