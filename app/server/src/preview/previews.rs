//! The preview origin's own state: its address scheme, the one-time
//! tickets and preview sessions, the admin's cookie warning. Apart from the
//! request handlers in `preview/mod.rs` because `AppState` holds it, and
//! the handlers take `AppState`.

use super::page::encode_component;
use super::proxy;
use autocrea_core::config::Config;
use autocrea_core::sync::lock;
pub use autocrea_wire::settings::{Severity, Warning};
use axum::http::{header, HeaderMap};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const COOKIE: &str = "autocrea_preview";
/// Reports one project's previews may send per minute; the rest are
/// dropped (a page that logs in a loop must not flood the agent's context).
pub(super) const REPORTS_PER_MINUTE: u32 = 120;
pub(super) const TICKET_TTL: Duration = Duration::from_secs(60);
pub(super) const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// How long a preview session trusts its last permission check.
pub(super) const RECHECK: Duration = Duration::from_secs(10);
/// How long a preview request waits for a starting dev server.
pub(super) const START_WAIT: Duration = Duration::from_secs(30);
pub(super) const CONSOLE_JS: &str = include_str!("console.js");

pub struct Previews {
    pub(super) domain: String,
    pub(crate) scheme: &'static str,
    /// Port written in preview URLs; `None` for the scheme's default.
    pub(crate) port: Option<u16>,
    /// The console's base URL when configured; otherwise derived per request.
    pub(crate) console: Option<String>,
    pub(super) https: bool,
    pub(super) tickets: Mutex<HashMap<String, Ticket>>,
    pub(super) sessions: Mutex<HashMap<String, Session>>,
    /// Browser error reports, per project.
    pub(super) reports: RateLimit,
    pub(crate) client: proxy::Client,
}

pub(super) struct Ticket {
    pub(super) user_id: i64,
    pub(super) project_id: String,
    pub(super) expires: Instant,
}

#[derive(Clone)]
pub(super) struct Session {
    pub(super) user_id: i64,
    pub(super) project_id: String,
    pub(super) template: String,
    pub(super) expires: Instant,
    pub(super) checked: Instant,
}

impl Previews {
    pub fn new(config: &Config, addr: SocketAddr) -> Self {
        let public = config
            .public_url
            .as_deref()
            .map(|u| u.trim_end_matches('/').to_string());
        let (scheme, port) = match &public {
            Some(u) => {
                let https = u.starts_with("https://");
                let authority = u
                    .split("://")
                    .nth(1)
                    .unwrap_or("")
                    .split('/')
                    .next()
                    .unwrap_or("");
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
            reports: RateLimit::new(REPORTS_PER_MINUTE, Duration::from_secs(60)),
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
    pub(super) fn cookie_in_frames(&self) -> bool {
        self.https || self.domain == "localhost" || self.domain.ends_with(".localhost")
    }

    /// The project a request's Host names, when it is a preview origin.
    pub fn project_of(&self, headers: &HeaderMap) -> Option<String> {
        let host = headers
            .get(header::HOST)?
            .to_str()
            .ok()?
            .to_ascii_lowercase();
        let host = host.rsplit_once(':').map_or(host.as_str(), |(h, p)| {
            if p.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                host.as_str()
            }
        });
        let label = host.strip_suffix(&self.domain)?.strip_suffix('.')?;
        let id = label.strip_prefix("p-")?;
        (!id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        .then(|| id.to_string())
    }

    /// A one-time ticket that opens `project_id`'s preview for `user_id`.
    pub fn mint_ticket(&self, user_id: i64, project_id: &str) -> String {
        let ticket = autocrea_core::secrets::random_token(32);
        let mut tickets = lock(&self.tickets);
        tickets.retain(|_, t| t.expires > Instant::now());
        tickets.insert(
            ticket.clone(),
            Ticket {
                user_id,
                project_id: project_id.to_string(),
                expires: Instant::now() + TICKET_TTL,
            },
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

    pub(super) fn take_ticket(&self, ticket: &str) -> Option<Ticket> {
        let t = lock(&self.tickets).remove(ticket)?;
        (t.expires > Instant::now()).then_some(t)
    }

    pub(super) fn session(&self, headers: &HeaderMap) -> Option<(String, Session)> {
        let token = crate::cookies::cookie(headers, COOKIE)?;
        let sessions = lock(&self.sessions);
        let s = sessions.get(token)?;
        (s.expires > Instant::now()).then(|| (token.to_string(), s.clone()))
    }
}

impl Previews {
    /// The admin's warning when previews could plant cookies for the
    /// console; `request_host` stands in for the console's host when no
    /// `public_url` is set.
    pub fn cookie_warning(&self, request_host: Option<&str>) -> Option<Warning> {
        let console = match &self.console {
            Some(url) => url
                .split_once("://")
                .map_or(url.as_str(), |(_, rest)| rest)
                .split('/')
                .next()
                .unwrap_or(""),
            None => request_host?,
        };
        cookie_tossing_warning(&host_without_port(console), &self.domain, self.https)
    }
}

/// `host[:port]` -> host, lowercased (`[::1]:8080` -> `[::1]`).
pub(super) fn host_without_port(authority: &str) -> String {
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) && !h.ends_with(':') => h,
        _ => authority,
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// The site a host belongs to, roughly: its last two labels, or `localhost`
/// for `localhost` and its subdomains. (Without the Public Suffix List this
/// misses `co.uk`-style suffixes in the safe direction: it may warn where a
/// browser would not.) IP addresses have no site beyond themselves.
pub(super) fn site_of(host: &str) -> String {
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return host.to_string();
    }
    if host == "localhost" || host.ends_with(".localhost") {
        return "localhost".into();
    }
    let labels: Vec<&str> = host.split('.').collect();
    labels[labels.len().saturating_sub(2)..].join(".")
}

/// Over plain HTTP the console's cookies have no `__Host-` prefix, so a page
/// on a sibling subdomain (a preview, whose scripts the project's authors
/// write) can set a cookie with `Domain=<site>` that the console then reads
/// as its own ("cookie tossing"). Over HTTPS the prefix forbids that.
pub fn cookie_tossing_warning(
    console_host: &str,
    preview_domain: &str,
    https: bool,
) -> Option<Warning> {
    let preview_domain = preview_domain.trim_matches('.').to_ascii_lowercase();
    if https || console_host.is_empty() || site_of(console_host) != site_of(&preview_domain) {
        return None;
    }
    let site = site_of(console_host);
    if site == "localhost" {
        return Some(Warning {
            code: "preview_cookie_tossing".into(),
            severity: Severity::Info,
            message: format!(
                "Single-machine setup: previews on *.{preview_domain} and the console on {console_host} share the site \
                 \"localhost\" over plain HTTP, so a preview's script could set a cookie the console reads. That is fine \
                 when everyone who builds apps here is trusted; for a shared server, serve the console over HTTPS \
                 (an https:// public_url) or give previews a domain of their own."
            ),
        });
    }
    Some(Warning {
        code: "preview_cookie_tossing".into(),
        severity: Severity::Warning,
        message: format!(
            "Previews (*.{preview_domain}) share the site \"{site}\" with the console ({console_host}), which is served \
             over plain HTTP: a preview's script could set a cookie for {site} that the console reads as its own \
             (cookie tossing), e.g. to sign someone into another account. Serve the console over HTTPS (an https:// \
             public_url, whose cookies are __Host- prefixed), or put previews on a domain of their own, not under \
             {site} (as GitHub moved Pages to github.io)."
        ),
    })
}

/// A fixed-window count per key: at most `limit` hits per `window`.
pub(super) struct RateLimit {
    pub(super) limit: u32,
    pub(super) window: Duration,
    pub(super) hits: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimit {
    pub(super) fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            hits: Mutex::default(),
        }
    }

    /// Counts a hit for `key`; false when the window's limit is used up.
    pub(super) fn allow(&self, key: &str) -> bool {
        let now = Instant::now();
        let mut hits = lock(&self.hits);
        if hits.len() > 10_000 {
            hits.retain(|_, (start, _)| now - *start < self.window);
        }
        let (start, count) = hits.entry(key.to_string()).or_insert((now, 0));
        if now - *start >= self.window {
            *start = now;
            *count = 0;
        }
        *count += 1;
        *count <= self.limit
    }
}
