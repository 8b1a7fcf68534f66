//! A static deployment's files, served by the appliance: tower-http's
//! `ServeDir` (types, ranges, HEAD, Last-Modified) behind compression, with
//! an ETag that is the deployment itself (its files never change, so one
//! tag per deployment is exact for every path), and the SPA fallback for
//! templates with client-side routing. The folder holds plain files only
//! (see `autocrea_core::publish::unpack`), never a link.

use super::cache::{Cached, FileCache};
use autocrea_core::publish::Target;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::sync::Arc;
use tower::ServiceExt;
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};

pub async fn serve(t: &Target, mut req: Request, cache: &FileCache) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            "a static app takes GET and HEAD only",
        )
            .into_response();
    }
    let etag = format!("\"{}\"", t.deployment_id);
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim().trim_start_matches("W/") == etag)
        });
    if unchanged {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        res.headers_mut()
            .insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex"));
        return res;
    }
    // The deployment's ETag is the only validator. Dates are not: a
    // rollback serves files older than the ones the browser holds, and
    // ServeDir would answer their If-Modified-Since with 304.
    req.headers_mut().remove(header::IF_MODIFIED_SINCE);
    req.headers_mut().remove(header::IF_UNMODIFIED_SINCE);
    let whole = req.method() == Method::GET && !req.headers().contains_key(header::RANGE);
    if whole {
        if let Some(file) = cache.get(&t.deployment_id, &t.root, req.uri().path()).await {
            return from_memory(file, &etag, req).await;
        }
    }
    let path = req.uri().path();
    // Client-side routes ("/todos/3") have no file; assets ("/x.js") that
    // are missing stay 404 so a broken link is not answered with a page.
    let last = path.rsplit('/').next().unwrap_or("");
    let spa_route = t.spa && !last.contains('.');
    let dir = ServeDir::new(&t.root).append_index_html_on_directories(true);
    // not_found_service answers 404 with the project's own 404.html, if any.
    let compression = CompressionLayer::new();
    let answer = if spa_route {
        let dir = dir.fallback(ServeFile::new(t.root.join("index.html")));
        tower::Layer::layer(&compression, dir)
            .oneshot(req)
            .await
            .map(IntoResponse::into_response)
    } else {
        let dir = dir.not_found_service(ServeFile::new(t.root.join("404.html")));
        tower::Layer::layer(&compression, dir)
            .oneshot(req)
            .await
            .map(IntoResponse::into_response)
    };
    let mut res = answer
        .unwrap_or_else(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response());
    let ok = res.status() == StatusCode::OK;
    let h = res.headers_mut();
    if ok {
        h.insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex"));
    }
    h.remove(header::LAST_MODIFIED);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// A cached file, through the same compression as the file server's.
async fn from_memory(file: Arc<Cached>, etag: &str, req: Request) -> Response {
    let etag = HeaderValue::from_str(etag).expect("hex");
    let answer = move |_req: Request| {
        let mut res = Response::new(Body::from(file.body.clone()));
        let h = res.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&file.mime) {
            h.insert(header::CONTENT_TYPE, v);
        }
        h.insert(header::ETAG, etag.clone());
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        async move { Ok::<_, Infallible>(res) }
    };
    tower::Layer::layer(&CompressionLayer::new(), tower::service_fn(answer))
        .oneshot(req)
        .await
        .map(IntoResponse::into_response)
        .unwrap_or_else(|e: Infallible| match e {})
}
