//! Server-rendered pages (Leptos). Before rendering, the session is resolved
//! once: signed-out visitors of private pages are sent to sign in, and the
//! signed-in user is handed to the UI so the first paint already shows it.

use crate::extract::resolve;
use crate::state::AppState;
use autocrea_core::accounts::users;
use autocrea_frontend::session::FirstRun;
use autocrea_frontend::{App, SessionInfo};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

const PUBLIC_ONLY: &[&str] = &["/login", "/signup"];

fn next_param(path_and_query: &str) -> String {
    // Only local paths go into `next` (and the sign-in page checks it again
    // with the same function), so it cannot redirect off-site.
    let local = autocrea_frontend::redirect::local_or_root(Some(path_and_query));
    let safe: String = local
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "/-_.?=&".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "/login?next={}",
        safe.replace('&', "%26")
            .replace('?', "%3F")
            .replace('=', "%3D")
    )
}

async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    // A bad or expired credential on a page simply means "signed out".
    let auth = resolve(&parts, &state).await.ok().flatten();
    let public_only = PUBLIC_ONLY.contains(&path.as_str());
    // A fresh install: the first visitor makes the first account (the admin),
    // so sign-in ("Welcome back") and private pages lead to sign-up.
    let first_run = auth.is_none() && matches!(users::count(&state.pool).await, Ok(0));
    if first_run {
        if path != "/signup" {
            return Redirect::to("/signup").into_response();
        }
        parts.extensions.insert(FirstRun(true));
    }
    match &auth {
        Some(_) if public_only => return Redirect::to("/").into_response(),
        None if !public_only => {
            let target = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            return Redirect::to(&next_param(target)).into_response();
        }
        Some(a) if path.starts_with("/admin") && !a.user.is_admin => {
            return Redirect::to("/").into_response()
        }
        _ => {}
    }
    if let Some(a) = auth {
        parts.extensions.insert(SessionInfo {
            id: a.user.id,
            email: a.user.email.clone(),
            username: a.user.username.clone(),
            name: a.user.name.clone(),
            is_admin: a.user.is_admin,
        });
    }
    let mut response = next.run(Request::from_parts(parts, body)).await;
    let h = response.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Sets a Content-Security-Policy whose only inline scripts are the ones
/// carrying this response's nonce (the hydration loader and the theme setter).
fn set_csp(frame_src: &str) {
    let Some(nonce) = use_nonce() else {
        return;
    };
    let Some(options) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'; frame-src {frame_src}; worker-src 'self' blob:"
    );
    if let Ok(v) = HeaderValue::from_str(&policy) {
        options.insert_header(header::CONTENT_SECURITY_POLICY, v);
    }
}

pub fn router(state: &AppState) -> Router<AppState> {
    let routes = generate_route_list(App);
    let options = state.leptos.clone();
    let frame_src = state.preview.frame_source();
    Router::new()
        .leptos_routes_with_context(
            state,
            routes,
            || {},
            move || {
                set_csp(&frame_src);
                autocrea_frontend::shell(options.clone())
            },
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), guard))
}

async fn not_found() -> Response {
    (axum::http::StatusCode::NOT_FOUND, axum::response::Html(
        "<!doctype html><meta charset=utf-8><title>Not found · AUTOCREA</title>\
         <body style=\"font-family:system-ui;padding:4rem;text-align:center\"><h1>Page not found</h1>\
         <p><a href=\"/\">Back to your projects</a></p>",
    ))
        .into_response()
}
