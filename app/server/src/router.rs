//! The whole route table in one place. API routes are registered together
//! with their OpenAPI description (utoipa-axum), so the published document
//! and the router cannot disagree.

use crate::api::{
    admin, apps, attachments, auth, deployments, env, files, gateway, health, llm, me, projects,
    remote, sandbox, search, site, templates, threads, versions,
};
use crate::error::ApiError;
use crate::state::AppState;
use crate::{assets, openapi, pages};
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, StatusCode};
use axum::routing::get;
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

/// The API routes and their OpenAPI document.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(auth::signup))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(me::get, me::update))
        .routes(routes!(me::change_password))
        .routes(routes!(me::list_tokens, me::create_token))
        .routes(routes!(me::revoke_token))
        .routes(routes!(projects::list, projects::create))
        .routes(routes!(projects::get, projects::update, projects::delete))
        .routes(routes!(projects::duplicate))
        .routes(routes!(versions::list))
        .routes(routes!(versions::get))
        .routes(routes!(versions::diff))
        .routes(routes!(versions::revert))
        .routes(routes!(
            versions::previewing,
            versions::preview_version,
            versions::preview_latest
        ))
        .routes(routes!(versions::branches, versions::create_branch))
        .routes(routes!(versions::switch_branch))
        .routes(routes!(versions::delete_branch))
        .routes(routes!(sandbox::status))
        .routes(routes!(sandbox::start))
        .routes(routes!(sandbox::stop))
        .routes(routes!(sandbox::restart))
        .routes(routes!(sandbox::logs))
        .routes(routes!(sandbox::exec))
        .routes(routes!(sandbox::errors, sandbox::check))
        .routes(routes!(sandbox::terminal))
        .routes(routes!(sandbox::open_preview))
        .routes(routes!(sandbox::preview_ticket))
        .routes(routes!(sandbox::overview))
        .routes(routes!(deployments::list, deployments::create))
        .routes(routes!(deployments::get, deployments::delete))
        .routes(routes!(deployments::promote))
        .routes(routes!(deployments::logs))
        .routes(routes!(site::get, site::update))
        .routes(routes!(env::list))
        .routes(routes!(env::put, env::delete))
        .routes(routes!(remote::get, remote::put, remote::delete))
        .routes(routes!(remote::push))
        .routes(routes!(remote::pull))
        .routes(routes!(remote::rotate_secret))
        .routes(routes!(remote::webhook).layer(DefaultBodyLimit::max(remote::WEBHOOK_BODY_MAX)))
        .routes(routes!(apps::list))
        .routes(routes!(apps::open))
        .routes(routes!(apps::icon))
        .routes(routes!(files::tree))
        .routes(routes!(files::read, files::save, files::delete))
        .routes(routes!(files::rename))
        .routes(routes!(search::search))
        // Images are larger than the API's usual body limit.
        .routes(routes!(attachments::upload).layer(DefaultBodyLimit::max(attachments::BODY_MAX)))
        .routes(routes!(attachments::download))
        .routes(routes!(search::replace))
        .routes(routes!(threads::list, threads::create))
        .routes(routes!(threads::messages, threads::send))
        .routes(routes!(threads::stop))
        .routes(routes!(threads::edit))
        .routes(routes!(threads::regenerate))
        .routes(routes!(threads::turns))
        .routes(routes!(threads::answer_plan))
        .routes(routes!(
            threads::agent_settings,
            threads::set_agent_settings
        ))
        .routes(routes!(threads::events))
        .routes(routes!(templates::list))
        .routes(routes!(admin::get_settings, admin::update_settings))
        .routes(routes!(admin::list_users))
        .routes(routes!(admin::audit_log))
        .routes(routes!(llm::providers))
        .routes(routes!(llm::list_keys))
        .routes(routes!(llm::put_key, llm::delete_key))
        .routes(routes!(llm::my_usage))
        .routes(routes!(llm::admin_view))
        .routes(routes!(llm::update_policy))
        .routes(routes!(llm::put_shared_key, llm::delete_shared_key))
        .routes(routes!(llm::all_usage))
        .routes(routes!(gateway::models))
        .routes(routes!(gateway::chat_completions))
        .routes(routes!(gateway::completions))
        .split_for_parts()
}

async fn api_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_such_route",
        "there is no such API route; see /api/openapi.json",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not accept that method; see /api/openapi.json",
    )
}

/// A request refused for its size leaves its body unread on the socket, so
/// hyper drops the connection after answering. Without `Connection: close`
/// the client cannot know that and may send its next request on the dead
/// connection (seen as a broken pipe on the request after a 413).
async fn close_after_refused_body(mut res: axum::response::Response) -> axum::response::Response {
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

/// The complete application.
pub fn build(state: AppState) -> Router {
    let (api, doc) = api();
    let doc = std::sync::Arc::new(doc);
    let api = api
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { axum::Json((*doc).clone()) }
            }),
        )
        // Reserved namespaces answer in JSON rather than falling through to pages.
        .route("/api/{*rest}", axum::routing::any(api_not_found))
        .route("/v1/{*rest}", axum::routing::any(api_not_found))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));

    Router::new()
        .merge(api)
        .nest("/git", crate::git_http::router())
        .merge(assets::router())
        .merge(pages::router(&state))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        // Outermost: a preview origin's requests never reach the console's routes.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::preview::route,
        ))
        // Outside the previews': an app's origin never reaches them either.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::apps::route,
        ))
        .layer(axum::middleware::map_response(close_after_refused_body))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
