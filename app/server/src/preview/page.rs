//! The small HTML pages the preview origin answers with itself (waiting,
//! not found, errors) and the URL-component escaping of its links. A leaf:
//! the handlers, the proxy and the origin's state all use it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// A small self-contained page (no console assets on a preview origin).
pub(crate) fn page(status: StatusCode, title: &str, detail: &str, refresh: bool) -> Response {
    let refresh = if refresh {
        r#"<meta http-equiv="refresh" content="3">"#
    } else {
        ""
    };
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
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub(crate) fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
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

/// The answer to a sign-in on a preview or app origin: its cookie, then `next`.
pub(crate) fn signed_in_redirect(next: &str, cookie: &str) -> Response {
    axum::response::Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, next)
        .header(header::SET_COOKIE, cookie)
        .header(header::CACHE_CONTROL, "no-store")
        .body(axum::body::Body::empty())
        .expect("valid response")
}

/// The decoded value of `name` in a query string.
pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| decode_component(v))
}

/// Where a sign-in on a preview or app origin lands: `next` from the
/// query when it is a header-safe local path, else the root.
pub(crate) fn landing(query: &str) -> String {
    query_param(query, "next")
        .filter(|n| {
            autocrea_frontend::redirect::is_local_path(n) && HeaderValue::from_str(n).is_ok()
        })
        .unwrap_or_else(|| "/".into())
}
