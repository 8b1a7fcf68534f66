//! Previews on their own origin: `p-<project>.<preview domain>`.
//!
//! The console's cookies are host-only, so a browser never sends them to a
//! preview origin, and a generated app can never read them. A person gets
//! into a preview with a one-time ticket minted by the console (signed in,
//! allowed to see the project) and exchanged on the preview origin for a
//! cookie that only that origin holds. Requests without it are sent to the
//! console to get one; anyone else gets 404.

mod proxy;

use crate::extract::cookie_names;
use crate::state::AppState;
use autocrea_core::config::Config;
use autocrea_core::projects;
use autocrea_core::sandbox::{DevState, Diagnostic};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const COOKIE: &str = "autocrea_preview";
const TICKET_TTL: Duration = Duration::from_secs(60);
const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// How long a preview session trusts its last permission check.
const RECHECK: Duration = Duration::from_secs(10);
/// How long a preview request waits for a starting dev server.
const START_WAIT: Duration = Duration::from_secs(30);
const CONSOLE_JS: &str = include_str!("console.js");

pub struct Previews {
    domain: String,
    scheme: &'static str,
    /// Port written in preview URLs; `None` for the scheme's default.
    port: Option<u16>,
    /// The console's base URL when configured; otherwise derived per request.
    console: Option<String>,
    https: bool,
    tickets: Mutex<HashMap<String, Ticket>>,
    sessions: Mutex<HashMap<String, Session>>,
    pub(crate) client: proxy::Client,
}

struct Ticket {
    user_id: i64,
    project_id: String,
    expires: Instant,
}

#[derive(Clone)]
struct Session {
    user_id: i64,
    project_id: String,
    template: String,
    expires: Instant,
    checked: Instant,
}

impl Previews {
    pub fn new(config: &Config, addr: SocketAddr) -> Self {
        let public = config.public_url.as_deref().map(|u| u.trim_end_matches('/').to_string());
        let (scheme, port) = match &public {
            Some(u) => {
                let https = u.starts_with("https://");
                let authority = u.split("://").nth(1).unwrap_or("").split('/').next().unwrap_or("");
                let port = authority.rsplit_once(':').and_then(|(_, p)| p.parse().ok());
                (if https { "https" } else { "http" }, port)
            }
            None => ("http", Some(addr.port())),
        };
        Self {
            domain: config.sandbox.preview_domain.clone(),
            scheme,
            port,
            console: public,
            https: config.is_https(),
            tickets: Mutex::default(),
            sessions: Mutex::default(),
            client: proxy::client(),
        }
    }

    /// The preview origin of a project, e.g. `http://p-abc.localhost:8080`.
    pub fn origin(&self, project_id: &str) -> String {
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("{}://p-{project_id}.{}{port}", self.scheme, self.domain)
    }

    /// Every preview origin as a CSP source, e.g. `http://*.localhost:8080`:
    /// the console's workspace shows previews in an iframe.
    pub fn frame_source(&self) -> String {
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("{}://*.{}{port}", self.scheme, self.domain)
    }

    /// Whether the preview cookie may be `SameSite=None; Secure`, which an
    /// iframe on the console needs (the preview origin is another site):
    /// over HTTPS, and on `*.localhost`, which browsers treat as secure.
    fn cookie_in_frames(&self) -> bool {
        self.https || self.domain == "localhost" || self.domain.ends_with(".localhost")
    }

    /// The project a request's Host names, when it is a preview origin.
    pub fn project_of(&self, headers: &HeaderMap) -> Option<String> {
        let host = headers.get(header::HOST)?.to_str().ok()?.to_ascii_lowercase();
        let host = host.rsplit_once(':').map_or(host.as_str(), |(h, p)| {
            if p.chars().all(|c| c.is_ascii_digit()) { h } else { host.as_str() }
        });
        let label = host.strip_suffix(&self.domain)?.strip_suffix('.')?;
        let id = label.strip_prefix("p-")?;
        (!id.is_empty() && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
            .then(|| id.to_string())
    }

    /// A one-time ticket that opens `project_id`'s preview for `user_id`.
    pub fn mint_ticket(&self, user_id: i64, project_id: &str) -> String {
        let ticket = autocrea_core::secrets::random_token(32);
        let mut tickets = self.tickets.lock().unwrap_or_else(|p| p.into_inner());
        tickets.retain(|_, t| t.expires > Instant::now());
        tickets.insert(
            ticket.clone(),
            Ticket { user_id, project_id: project_id.to_string(), expires: Instant::now() + TICKET_TTL },
        );
        ticket
    }

    /// The URL that signs the browser into the preview and lands on `next`.
    pub fn entry_url(&self, project_id: &str, ticket: &str, next: &str) -> String {
        format!(
            "{}/__autocrea/auth?ticket={ticket}&next={}",
            self.origin(project_id),
            encode_component(next)
        )
    }

    fn take_ticket(&self, ticket: &str) -> Option<Ticket> {
        let t = self.tickets.lock().unwrap_or_else(|p| p.into_inner()).remove(ticket)?;
        (t.expires > Instant::now()).then_some(t)
    }

    fn session(&self, headers: &HeaderMap) -> Option<(String, Session)> {
        let token = crate::extract::cookie(headers, COOKIE)?;
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let s = sessions.get(token)?;
        (s.expires > Instant::now()).then(|| (token.to_string(), s.clone()))
    }
}

/// Middleware in front of every route: requests for a preview origin go to
/// the preview, everything else to the console.
pub async fn route(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match state.preview.project_of(req.headers()) {
        Some(project_id) => serve(state, project_id, req).await,
        None => next.run(req).await,
    }
}

async fn serve(state: AppState, project_id: String, req: Request) -> Response {
    let previews = state.preview.clone();
    match req.uri().path() {
        "/__autocrea/auth" => return sign_in(&state, &project_id, &req),
        "/__autocrea/console.js" => {
            return (
                [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-store")],
                CONSOLE_JS,
            )
                .into_response()
        }
        _ => {}
    }
    let Some((token, session)) = previews.session(req.headers()).filter(|(_, s)| s.project_id == project_id) else {
        return to_console(&state, &project_id, &req);
    };
    let template = if session.checked.elapsed() < RECHECK {
        session.template
    } else {
        // Still the project's owner? Deleted projects and revoked access end here.
        match projects::get(&state.pool, session.user_id, &project_id).await {
            Ok(p) => {
                if let Some(s) = previews.sessions.lock().unwrap_or_else(|p| p.into_inner()).get_mut(&token) {
                    s.checked = Instant::now();
                }
                p.template
            }
            Err(_) => {
                previews.sessions.lock().unwrap_or_else(|p| p.into_inner()).remove(&token);
                return not_found();
            }
        }
    };
    if req.uri().path() == "/__autocrea/report" && req.method() == Method::POST {
        return report(&state, &project_id, req).await;
    }
    // Fast path: a running sandbox needs no lock; a stopped one is started.
    let running = match state.sandboxes.running(&project_id) {
        Some(r) => r,
        None => match state.sandboxes.start(&project_id, &template).await {
            Ok(r) => r,
            Err(e) => return page(StatusCode::SERVICE_UNAVAILABLE, "The preview cannot start", &e.to_string(), false),
        },
    };
    running.touch();
    if running.state() != DevState::Ready && !running.wait_ready(START_WAIT).await {
        let view = state.sandboxes.view(&project_id, &template);
        let tail: Vec<String> = running.logs.tail(15).into_iter().map(|l| l.text).collect();
        let detail = format!(
            "The dev server is {}{}.\n\n{}",
            serde_json::to_value(view.state).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
            view.last_exit.map(|e| format!(" (last exit: {e})")).unwrap_or_default(),
            tail.join("\n")
        );
        return page(StatusCode::SERVICE_UNAVAILABLE, "The preview is not ready yet", &detail, true);
    }
    let hidden = cookie_names(previews.https);
    proxy::forward(&previews.client, &running, req, &[COOKIE, hidden.session, hidden.csrf], previews.scheme).await
}

/// `/__autocrea/auth?ticket=...&next=/path`: a ticket becomes a preview cookie.
fn sign_in(state: &AppState, project_id: &str, req: &Request) -> Response {
    let query = req.uri().query().unwrap_or("");
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| decode_component(v))
    };
    let Some(ticket) = param("ticket").and_then(|t| state.preview.take_ticket(&t)) else {
        return not_found();
    };
    if ticket.project_id != project_id {
        return not_found();
    }
    // A header-safe local path, or the root.
    let next = param("next")
        .filter(|n| is_local_path(n) && HeaderValue::from_str(n).is_ok())
        .unwrap_or_else(|| "/".into());
    let token = autocrea_core::secrets::random_token(32);
    let now = Instant::now();
    {
        let mut sessions = state.preview.sessions.lock().unwrap_or_else(|p| p.into_inner());
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
    let framed = req.headers().get("sec-fetch-dest").is_some_and(|v| v == "iframe");
    let attributes = match (state.preview.cookie_in_frames(), framed) {
        (true, true) => "SameSite=None; Secure; Partitioned",
        (true, false) => "SameSite=None; Secure",
        (false, _) => "SameSite=Lax",
    };
    let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; {attributes}; Max-Age={}", SESSION_TTL.as_secs());
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, next)
        .header(header::SET_COOKIE, cookie)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::empty())
        .expect("valid response")
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
        let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
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
}

/// What the injected script saw in the browser.
async fn report(state: &AppState, project_id: &str, req: Request) -> Response {
    let Ok(bytes) = axum::body::to_bytes(req.into_body(), 32 * 1024).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let Ok(r) = serde_json::from_slice::<Report>(&bytes) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let Some(running) = state.sandboxes.running(project_id) else {
        return StatusCode::NO_CONTENT.into_response();
    };
    if r.kind == "load" {
        running.clear_browser_errors();
    } else {
        // Script URLs are the preview's own: keep the path, as the project names it.
        let file = r.source.split("://").nth(1).and_then(|rest| rest.split_once('/')).map(|(_, path)| {
            path.split(['?', '#']).next().unwrap_or("").to_string()
        });
        let mut message: String = r.message.chars().take(2000).collect();
        if r.kind == "console" {
            message = format!("console.error: {message}");
        }
        if !r.stack.is_empty() && r.kind == "error" && r.source.is_empty() {
            message = format!("{message}\n{}", r.stack.chars().take(2000).collect::<String>());
        }
        running.report_browser_error(Diagnostic {
            file: file.filter(|f| !f.is_empty()),
            line: (r.line > 0).then_some(r.line),
            column: (r.column > 0).then_some(r.column),
            severity: "error".into(),
            message,
            source: "browser".into(),
        });
    }
    StatusCode::NO_CONTENT.into_response()
}

fn not_found() -> Response {
    page(StatusCode::NOT_FOUND, "Not found", "There is no preview here, or you may not see it.", false)
}

/// A small self-contained page (no console assets on a preview origin).
fn page(status: StatusCode, title: &str, detail: &str, refresh: bool) -> Response {
    let refresh = if refresh { r#"<meta http-equiv="refresh" content="3">"# } else { "" };
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\">{refresh}<title>{t}</title>\
         <style>body{{font:15px system-ui,sans-serif;margin:3rem auto;max-width:46rem;padding:0 1rem;color:#222}}\
         pre{{background:#f4f4f5;padding:1rem;white-space:pre-wrap;overflow:auto}}</style></head>\
         <body><h1>{t}</h1><pre>{d}</pre></body></html>",
        t = escape_html(title),
        d = escape_html(detail)
    );
    let mut resp = (status, body).into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A path on this origin to redirect to: `/x`, never `//host` or `/\\host`
/// (browsers read a backslash as a slash there), nor a control character.
pub fn is_local_path(p: &str) -> bool {
    p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && !p.chars().any(char::is_control)
}

pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for ok in ["/", "/a/b?c=d", "/%2F%2Fx"] {
            assert!(is_local_path(ok), "{ok}");
        }
        for bad in ["//evil.com", "/\\evil.com", "https://evil.com", "evil.com", "/a\nb", ""] {
            assert!(!is_local_path(bad), "{bad}");
        }
    }

    #[test]
    fn components_round_trip() {
        for s in ["/", "/a b?x=1&y=ü#z", "%zz"] {
            assert_eq!(decode_component(&encode_component(s)), s);
        }
    }
}
