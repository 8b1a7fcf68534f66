//! The UI's static files (wasm, js, css, icons), embedded in the binary so it
//! serves the whole UI when copied alone to an air-gapped machine.

use crate::state::AppState;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rust_embed::RustEmbed;

/// Built by `installer/build-frontend.sh` into `site/` at the repository root.
#[derive(RustEmbed)]
#[folder = "../../site"]
pub struct Site;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/pkg/{*path}", get(|Path(p): Path<String>, h: HeaderMap| async move { serve(&format!("pkg/{p}"), &h) }))
        .route("/assets/{*path}", get(|Path(p): Path<String>, h: HeaderMap| async move { serve(&format!("assets/{p}"), &h) }))
        .route("/favicon.ico", get(|h: HeaderMap| async move { serve("assets/favicon.svg", &h) }))
        .layer(tower_http::compression::CompressionLayer::new())
}

/// True when the hydration bundle is in the binary (the server warns otherwise).
pub fn bundle_present() -> bool {
    Site::get("pkg/autocrea.js").is_some() && Site::get("pkg/autocrea_bg.wasm").is_some()
}

fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some(file) = Site::get(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let etag = format!("\"{}\"", hex_prefix(&file.metadata.sha256_hash()));
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mime = file.metadata.mimetype().to_string();
    let mut response = file.data.into_owned().into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&mime)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    // Not content-hashed names: revalidate every time, cheap thanks to the ETag.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    response
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().take(12).map(|b| format!("{b:02x}")).collect()
}
