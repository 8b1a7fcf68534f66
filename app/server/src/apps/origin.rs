//! The apps origins' own state: their address scheme, the one-time
//! tickets the console mints and the sign-ins they become. Apart from the
//! handlers in `apps/mod.rs` because `AppState` holds it.

use crate::preview::page::encode_component;
use crate::preview::previews::Previews;
use autocrea_core::config::Config;
use autocrea_core::sync::lock;
use axum::http::{header, HeaderMap};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The sign-in cookie of an app's origin (host-only, HttpOnly); under
/// HTTPS `__Host-` prefixed, so no sibling app can set one for it.
pub const COOKIE: &str = "autocrea_app";
pub const HOST_COOKIE: &str = "__Host-autocrea_app";
pub(super) const TICKET_TTL: Duration = Duration::from_secs(60);
pub(super) const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// How long a sign-in trusts its last check of the account and the app's access.
pub(super) const RECHECK: Duration = Duration::from_secs(10);

pub struct Apps {
    pub(super) domain: String,
    pub(super) scheme: &'static str,
    pub(super) port: Option<u16>,
    /// The console's base URL (`public_url`), else derived per request.
    pub(super) console: Option<String>,
    pub(super) https: bool,
    tickets: Mutex<HashMap<String, Pass>>,
    pub(super) sessions: Mutex<HashMap<String, Pass>>,
    /// Small files of static deployments, in memory.
    pub(super) files: super::cache::FileCache,
}

/// A ticket or a sign-in: a person, for one address label.
#[derive(Clone)]
pub(super) struct Pass {
    pub(super) user_id: i64,
    pub(super) label: String,
    pub(super) expires: Instant,
    pub(super) checked: Instant,
}

impl Apps {
    /// Apps share the previews' scheme and port (one listener serves both).
    pub fn new(config: &Config, previews: &Previews) -> Self {
        Self {
            domain: config.publish.apps_domain.clone(),
            scheme: previews.scheme,
            port: previews.port,
            console: previews.console.clone(),
            https: config.is_https(),
            tickets: Mutex::default(),
            sessions: Mutex::default(),
            files: Default::default(),
        }
    }

    /// The origin of an address label, e.g. `http://todo.apps.localhost:8080`.
    pub fn origin(&self, label: &str) -> String {
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("{}://{label}.{}{port}", self.scheme, self.domain)
    }

    /// The cookie name of this appliance's app sign-ins.
    pub fn cookie_name(&self) -> &'static str {
        if self.https {
            HOST_COOKIE
        } else {
            COOKIE
        }
    }

    /// Whether a request's Host is the apps domain or under it: such a
    /// request never reaches the console, whether or not it names an app.
    pub fn is_apps_host(&self, headers: &HeaderMap) -> bool {
        host_of(headers).is_some_and(|h| {
            h == self.domain
                || h.strip_suffix(&self.domain)
                    .is_some_and(|rest| rest.ends_with('.'))
        })
    }

    /// The address label of a request's Host when it is on the apps domain.
    pub fn label_of(&self, headers: &HeaderMap) -> Option<String> {
        let host = host_of(headers)?;
        let label = host.strip_suffix(&self.domain)?.strip_suffix('.')?;
        (!label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
        .then(|| label.to_string())
    }

    /// The console's base URL, for a request that came to an app's origin.
    pub(super) fn console_for(&self, headers: &HeaderMap) -> String {
        if let Some(c) = &self.console {
            return c.clone();
        }
        // Without public_url: the apps domain's parent (apps.localhost ->
        // localhost), on the port the request used.
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let port = host
            .rsplit_once(':')
            .map(|(_, p)| format!(":{p}"))
            .unwrap_or_default();
        let parent = self
            .domain
            .split_once('.')
            .map_or(self.domain.as_str(), |(_, rest)| rest);
        format!("{}://{parent}{port}", self.scheme)
    }

    pub fn mint_ticket(&self, user_id: i64, label: &str) -> String {
        let ticket = autocrea_core::secrets::random_token(32);
        let now = Instant::now();
        let mut tickets = lock(&self.tickets);
        tickets.retain(|_, t| t.expires > now);
        tickets.insert(
            ticket.clone(),
            Pass {
                user_id,
                label: label.to_string(),
                expires: now + TICKET_TTL,
                checked: now,
            },
        );
        ticket
    }

    /// The URL that signs the browser into the app and lands on `next`.
    pub fn entry_url(&self, label: &str, ticket: &str, next: &str) -> String {
        format!(
            "{}/__autocrea/auth?ticket={ticket}&next={}",
            self.origin(label),
            encode_component(next)
        )
    }

    pub(super) fn take_ticket(&self, ticket: &str) -> Option<Pass> {
        let t = lock(&self.tickets).remove(ticket)?;
        (t.expires > Instant::now()).then_some(t)
    }

    pub(super) fn start_session(&self, pass: Pass) -> String {
        let token = autocrea_core::secrets::random_token(32);
        let now = Instant::now();
        let mut sessions = lock(&self.sessions);
        sessions.retain(|_, s| s.expires > now);
        sessions.insert(
            token.clone(),
            Pass {
                expires: now + SESSION_TTL,
                checked: now,
                ..pass
            },
        );
        token
    }

    /// The sign-in a request carries for `label`: `(token, pass)`. Every
    /// cookie of the name is tried: another app may have planted one for
    /// the whole apps domain, which the browser sends first.
    pub(super) fn session(&self, headers: &HeaderMap, label: &str) -> Option<(String, Pass)> {
        let sessions = lock(&self.sessions);
        crate::cookies::cookies(headers, self.cookie_name()).find_map(|token| {
            let s = sessions.get(token)?;
            (s.expires > Instant::now() && s.label == label).then(|| (token.to_string(), s.clone()))
        })
    }
}

/// The request's host, lowercased, without its port.
fn host_of(headers: &HeaderMap) -> Option<String> {
    let host = headers
        .get(header::HOST)?
        .to_str()
        .ok()?
        .to_ascii_lowercase();
    Some(match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h.to_string(),
        _ => host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn app_hosts() {
        let config = Config::default();
        let previews = Previews::new(&config, "127.0.0.1:8080".parse().unwrap());
        let apps = Apps::new(&config, &previews);
        let label = |h: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_str(h).unwrap());
            apps.label_of(&headers)
        };
        assert_eq!(label("todo.apps.localhost:8080").as_deref(), Some("todo"));
        assert_eq!(
            label("TODO-1a2b3c4d.Apps.Localhost").as_deref(),
            Some("todo-1a2b3c4d")
        );
        assert_eq!(label("apps.localhost:8080"), None);
        assert_eq!(label("p-abc.localhost:8080"), None);
        assert_eq!(label("x.todo.apps.localhost"), None);
        let on = |h: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_str(h).unwrap());
            apps.is_apps_host(&headers)
        };
        assert!(on("apps.localhost:8080") && on("x.todo.apps.localhost"));
        assert!(!on("localhost:8080") && !on("myapps.localhost") && !on("p-abc.localhost"));
        assert_eq!(label("todo.apps.localhost.evil.com"), None);
        assert_eq!(apps.origin("todo"), "http://todo.apps.localhost:8080");
        let mut h = HeaderMap::new();
        h.insert(
            header::HOST,
            HeaderValue::from_static("todo.apps.localhost:8080"),
        );
        assert_eq!(apps.console_for(&h), "http://localhost:8080");
    }
}
