//! Forwarding to a sandbox's dev server: plain HTTP/1 requests, WebSocket
//! (and any other) upgrades spliced through, and a script injected into
//! HTML pages that reports browser errors back to the appliance.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

pub type Client = hyper_util::client::legacy::Client<HttpConnector, Body>;

/// HTML larger than this passes through without the error-reporting script.
const INJECT_MAX: usize = 8 * 1024 * 1024;
const SCRIPT_TAG: &str = r#"<script src="/__autocrea/console.js"></script>"#;

pub fn client() -> Client {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .pool_idle_timeout(std::time::Duration::from_secs(30))
        .build(connector)
}

/// Headers that describe one hop, not the message (RFC 9110 §7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
];

/// Where a request goes and what the answer gets.
pub struct Upstream<'a> {
    pub addr: std::net::SocketAddr,
    /// Cookies of ours that the upstream never sees.
    pub hidden_cookies: &'a [&'a str],
    /// `http` or `https`, as the browser sees this origin.
    pub scheme: &'a str,
    /// Put the error-reporting script into HTML pages (previews only).
    pub inject: bool,
}

pub async fn forward(client: &Client, to: &Upstream<'_>, mut req: Request) -> Response {
    let (addr, hidden_cookies, scheme) = (to.addr, to.hidden_cookies, to.scheme);
    let upgrade = req.headers().get(header::UPGRADE).cloned();
    let client_upgrade = upgrade.as_ref().map(|_| hyper::upgrade::on(&mut req));
    let wants_page = is_navigation(req.headers());
    let (mut parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let Ok(uri) = format!("http://{addr}{path}").parse::<Uri>() else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let original_host = parts.headers.get(header::HOST).cloned();
    strip_hop_by_hop(&mut parts.headers);
    strip_cookies(&mut parts.headers, hidden_cookies);
    let headers = &mut parts.headers;
    // Dev servers check Host against their own name (Vite's allowedHosts);
    // the public name travels in X-Forwarded-Host.
    headers.insert(
        header::HOST,
        HeaderValue::from_str(&format!("localhost:{}", addr.port())).expect("valid host"),
    );
    if let Some(h) = original_host {
        headers.insert(HeaderName::from_static("x-forwarded-host"), h);
    }
    headers.insert(
        HeaderName::from_static("x-forwarded-proto"),
        HeaderValue::from_str(scheme).expect("valid scheme"),
    );
    // Uncompressed answers, so the error script can go into HTML; this hop is local.
    if to.inject {
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        );
    }
    if let Some(u) = &upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, u.clone());
    }
    parts.uri = uri;
    let upstream = Request::from_parts(parts, body);
    let mut resp = match client.request(upstream).await {
        Ok(r) => r,
        Err(e) => return not_answering(wants_page, &e.to_string()),
    };
    if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
        let Some(client_upgrade) = client_upgrade else {
            return StatusCode::BAD_GATEWAY.into_response();
        };
        let server_upgrade = hyper::upgrade::on(&mut resp);
        tokio::spawn(async move {
            let (Ok(client_io), Ok(server_io)) = (client_upgrade.await, server_upgrade.await)
            else {
                return;
            };
            let mut client_io = TokioIo::new(client_io);
            let mut server_io = TokioIo::new(server_io);
            let _ = tokio::io::copy_bidirectional(&mut client_io, &mut server_io).await;
        });
        let (mut parts, _) = resp.into_parts();
        strip_domain_cookies(&mut parts.headers);
        return Response::from_parts(parts, Body::empty());
    }
    let (mut parts, body) = resp.into_parts();
    strip_domain_cookies(&mut parts.headers);
    let is_html = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let encoded = parts
        .headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|e| e != "identity");
    strip_hop_by_hop(&mut parts.headers);
    if !to.inject || !is_html || encoded {
        return Response::from_parts(parts, Body::new(body));
    }
    let bytes = match http_body_util::Limited::new(body, INJECT_MAX)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return (
                StatusCode::BAD_GATEWAY,
                format!("reading the page failed: {e}"),
            )
                .into_response()
        }
    };
    let html = inject(&bytes);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(html.len()));
    Response::from_parts(parts, Body::from(html))
}

/// The dev server did not take the request (it is restarting, or it just
/// exited and the appliance has not seen it yet). A page load gets a page
/// that says so and tries again by itself, not the connection error as
/// text; the app's own requests (scripts, fetches) get a bare 502.
fn not_answering(wants_page: bool, why: &str) -> Response {
    if !wants_page {
        return StatusCode::BAD_GATEWAY.into_response();
    }
    super::page::page(
        StatusCode::BAD_GATEWAY,
        "The app is not answering yet",
        &format!("The app's server is not answering yet ({why}). This page tries again every few seconds."),
        true,
    )
}

/// Whether the browser is loading a page (a frame or tab), not a resource.
fn is_navigation(headers: &axum::http::HeaderMap) -> bool {
    let value = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    match value("sec-fetch-mode") {
        "" => value("accept").contains("text/html"),
        mode => mode == "navigate",
    }
}

/// The page with the error-reporting script first in `<head>` (or first of all).
fn inject(html: &[u8]) -> Vec<u8> {
    let lower: Vec<u8> = html
        .iter()
        .take(64 * 1024)
        .map(u8::to_ascii_lowercase)
        .collect();
    let at = find(&lower, b"<head")
        .and_then(|start| {
            lower[start..]
                .iter()
                .position(|&b| b == b'>')
                .map(|end| start + end + 1)
        })
        .unwrap_or(0);
    let mut out = Vec::with_capacity(html.len() + SCRIPT_TAG.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(SCRIPT_TAG.as_bytes());
    out.extend_from_slice(&html[at..]);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn strip_hop_by_hop(headers: &mut axum::http::HeaderMap) {
    // Headers named in Connection are hop-by-hop too.
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    for h in HOP_BY_HOP
        .iter()
        .copied()
        .chain(named.iter().map(String::as_str))
    {
        headers.remove(h);
    }
}

/// Drops the app's `Set-Cookie` headers that carry a `Domain` attribute. A
/// cookie with one reaches the parent domain and its other subdomains (the
/// console, other previews): "cookie tossing", e.g. a session cookie planted
/// for the console. Host-only cookies stay on the preview's own origin.
fn strip_domain_cookies(headers: &mut axum::http::HeaderMap) {
    let kept: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter(|v| !sets_domain(v))
        .cloned()
        .collect();
    headers.remove(header::SET_COOKIE);
    for v in kept {
        headers.append(header::SET_COOKIE, v);
    }
}

/// Whether a `Set-Cookie` value names a `Domain`. Values that are not text
/// are dropped as well: browsers may still read them, and we cannot tell.
fn sets_domain(value: &HeaderValue) -> bool {
    let Ok(text) = std::str::from_utf8(value.as_bytes()) else {
        return true;
    };
    text.split(';').skip(1).any(|attribute| {
        let name = attribute.split_once('=').map_or(attribute, |(n, _)| n);
        name.trim().eq_ignore_ascii_case("domain")
    })
}

/// Drops the appliance's own cookies: the app behind the proxy never sees them.
fn strip_cookies(headers: &mut axum::http::HeaderMap, hidden: &[&str]) {
    let kept: Vec<String> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(k, _)| k);
            !pair.is_empty() && !hidden.contains(&name)
        })
        .map(String::from)
        .collect();
    headers.remove(header::COOKIE);
    if !kept.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&kept.join("; ")) {
            headers.insert(header::COOKIE, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_goes_first_in_head() {
        let out = inject(b"<!doctype html><HTML><Head lang=x><title>t</title></head></html>");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("<!doctype html><HTML><Head lang=x>{SCRIPT_TAG}<title>t</title></head></html>")
        );
        assert!(String::from_utf8(inject(b"<p>hi</p>"))
            .unwrap()
            .starts_with(SCRIPT_TAG));
    }

    #[test]
    fn cookies_for_a_parent_domain_are_dropped_host_only_ones_kept() {
        let mut h = axum::http::HeaderMap::new();
        for v in [
            "app=1; Path=/; HttpOnly",
            "autocrea_session=planted; Domain=localhost; Path=/",
            "b=2; path=/; DOMAIN = .example.com",
            "c=3;domain=example.com",
            "d=domain; Path=/domain",
        ] {
            h.append(header::SET_COOKIE, HeaderValue::from_static(v));
        }
        h.append(
            header::SET_COOKIE,
            HeaderValue::from_bytes(b"e=\xff; Domain=x").unwrap(),
        );
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        strip_domain_cookies(&mut h);
        let left: Vec<_> = h
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(left, ["app=1; Path=/; HttpOnly", "d=domain; Path=/domain"]);
        assert_eq!(h.get(header::CONTENT_TYPE).unwrap(), "text/html");
    }

    #[test]
    fn a_dev_server_that_does_not_answer_gives_page_loads_a_page_that_retries() {
        let mut nav = axum::http::HeaderMap::new();
        nav.insert("sec-fetch-mode", HeaderValue::from_static("navigate"));
        nav.insert(header::ACCEPT, HeaderValue::from_static("text/html,*/*"));
        let mut script = axum::http::HeaderMap::new();
        script.insert("sec-fetch-mode", HeaderValue::from_static("no-cors"));
        script.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        let mut old_browser = axum::http::HeaderMap::new();
        old_browser.insert(header::ACCEPT, HeaderValue::from_static("text/html"));
        assert!(is_navigation(&nav) && is_navigation(&old_browser) && !is_navigation(&script));

        let page = not_answering(true, "connection refused");
        assert_eq!(page.status(), StatusCode::BAD_GATEWAY);
        assert!(page.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let resource = not_answering(false, "connection refused");
        assert_eq!(resource.status(), StatusCode::BAD_GATEWAY);
        assert!(resource.headers().get(header::CONTENT_TYPE).is_none());
    }

    #[test]
    fn appliance_cookies_are_not_forwarded() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; autocrea_preview=secret; b=2"),
        );
        h.append(
            header::COOKIE,
            HeaderValue::from_static("autocrea_session=s"),
        );
        strip_cookies(&mut h, &["autocrea_preview", "autocrea_session"]);
        assert_eq!(h.get(header::COOKIE).unwrap(), "a=1; b=2");
    }
}
