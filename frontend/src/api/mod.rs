//! The browser's client for the JSON API: one function per endpoint, in one
//! module per domain, taking and giving the types of `autocrea-wire` (the
//! very ones the server serialises). Changes carry the CSRF token from the
//! `autocrea_csrf` cookie in `X-CSRF-Token`. On the server these calls are
//! never made (data loads in the browser), and they say so if they are.

pub mod admin;
pub mod agent;
pub mod auth;
pub mod env;
pub mod files;
pub mod llm;
pub mod me;
pub mod projects;
pub mod publish;
pub mod remote;
pub mod sandbox;
pub mod versions;

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Serialize;

/// Where every endpoint of the console's API lives.
const BASE: &str = "/api/v1";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiFailure {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Splits an error message of the form `field: reason` (how the server names
/// the field at fault) so forms can show it next to that field.
pub fn field_of(message: &str) -> Option<(&str, &str)> {
    let (field, reason) = message.split_once(": ")?;
    field
        .chars()
        .all(|c| c.is_ascii_lowercase() || c == '_')
        .then_some((field, reason))
}

/// Percent-encodes a query string value (or a path segment).
fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `GET path` as `T`.
async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
    decode(request("GET", path, None).await?)
}

/// A change (`POST`, `PUT`, `PATCH`, `DELETE`) without a body, the answer as `T`.
async fn send<T: DeserializeOwned>(method: &str, path: &str) -> Result<T, ApiFailure> {
    decode(request(method, path, None).await?)
}

/// A change with `body` as JSON, the answer as `T`.
async fn send_json<T: DeserializeOwned, B: Serialize + ?Sized>(
    method: &str,
    path: &str,
    body: &B,
) -> Result<T, ApiFailure> {
    let body = serde_json::to_value(body).map_err(|e| ApiFailure {
        status: 0,
        code: "bad_request".into(),
        message: format!("the request could not be written: {e}"),
    })?;
    decode(request(method, path, Some(body)).await?)
}

/// A change whose answer (204, 202 or a body nobody reads) is not kept.
async fn send_only(method: &str, path: &str) -> Result<(), ApiFailure> {
    send::<IgnoredAny>(method, path).await.map(|_| ())
}

/// A change with a JSON body whose answer is not kept.
async fn send_json_only<B: Serialize + ?Sized>(
    method: &str,
    path: &str,
    body: &B,
) -> Result<(), ApiFailure> {
    send_json::<IgnoredAny, B>(method, path, body)
        .await
        .map(|_| ())
}

fn decode<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiFailure> {
    serde_json::from_value(value).map_err(|e| ApiFailure {
        status: 0,
        code: "bad_response".into(),
        message: format!("the server's answer was not understood: {e}"),
    })
}

#[cfg(feature = "hydrate")]
async fn request(
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<serde_json::Value, ApiFailure> {
    use gloo_net::http::{Method, RequestBuilder};
    let network = |e: gloo_net::Error| ApiFailure {
        status: 0,
        code: "network".into(),
        message: format!("cannot reach the server: {e}"),
    };
    let method = match method {
        "POST" => Method::POST,
        "PATCH" => Method::PATCH,
        "PUT" => Method::PUT,
        "DELETE" => Method::DELETE,
        _ => Method::GET,
    };
    let mut builder = RequestBuilder::new(path)
        .method(method.clone())
        .header("Accept", "application/json");
    if method != Method::GET {
        if let Some(token) = csrf_token() {
            builder = builder.header("X-CSRF-Token", &token);
        }
    }
    let response = match body {
        Some(b) => builder.json(&b).map_err(network)?.send().await,
        None => builder.send().await,
    }
    .map_err(network)?;
    answer(response).await
}

/// Uploads a file (a `File` from an input, a drop or a paste) as the raw
/// request body; the answer as `T`.
#[cfg(feature = "hydrate")]
async fn upload<T: DeserializeOwned>(path: &str, file: &web_sys::File) -> Result<T, ApiFailure> {
    use gloo_net::http::{Method, RequestBuilder};
    let mut builder = RequestBuilder::new(path)
        .method(Method::POST)
        .header("Accept", "application/json");
    if let Some(token) = csrf_token() {
        builder = builder.header("X-CSRF-Token", &token);
    }
    let network = |e: gloo_net::Error| ApiFailure {
        status: 0,
        code: "network".into(),
        message: format!("cannot reach the server: {e}"),
    };
    let blob: &wasm_bindgen::JsValue = file.as_ref();
    let response = builder
        .body(blob.clone())
        .map_err(network)?
        .send()
        .await
        .map_err(network)?;
    decode(answer(response).await?)
}

/// The JSON of a response, or the server's error as an `ApiFailure`.
#[cfg(feature = "hydrate")]
async fn answer(response: gloo_net::http::Response) -> Result<serde_json::Value, ApiFailure> {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let value: serde_json::Value = if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    };
    if (200..300).contains(&status) {
        return Ok(value);
    }
    let code = value["error"]["code"]
        .as_str()
        .unwrap_or("http_error")
        .to_string();
    let message = value["error"]["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("the server answered {status}"));
    if status == 401 && code == "unauthenticated" {
        // The session ended elsewhere (sign-out, password change): start over.
        crate::session::go_to("/login");
    }
    Err(ApiFailure {
        status,
        code,
        message,
    })
}

#[cfg(not(feature = "hydrate"))]
async fn request(
    _method: &str,
    _path: &str,
    _body: Option<serde_json::Value>,
) -> Result<serde_json::Value, ApiFailure> {
    Err(ApiFailure {
        status: 0,
        code: "server_side".into(),
        message: "API calls are made from the browser".into(),
    })
}

#[cfg(feature = "hydrate")]
fn csrf_token() -> Option<String> {
    use wasm_bindgen::JsCast;
    let doc = web_sys::window()?
        .document()?
        .dyn_into::<web_sys::HtmlDocument>()
        .ok()?;
    let cookies = doc.cookie().ok()?;
    cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == "autocrea_csrf" || *k == "__Host-autocrea_csrf")
        .map(|(_, v)| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_percent_encoded() {
        assert_eq!(encode("a b&c=é/~"), "a%20b%26c%3D%C3%A9%2F~");
    }

    #[test]
    fn a_field_is_named_before_a_colon() {
        assert_eq!(field_of("name: too long"), Some(("name", "too long")));
        assert_eq!(field_of("Something: else"), None);
    }
}
