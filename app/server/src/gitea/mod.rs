//! A Gitea-compatible REST API under `/git/api/v1`, so Gitea tooling (the Go
//! SDK, gitea-js, the Python wrappers) pointed at `http://HOST/git` works.
//! Field names, status codes and pagination headers follow Gitea's.

mod contents;
mod history;
mod repos;
mod tokens;
mod types;

use crate::error::ApiError;
use crate::git_auth::{self, CredentialError, Method};
use crate::state::AppState;
use autocrea_core::accounts::{AccountError, User};
use autocrea_core::gitstore::GitError;
use autocrea_core::projects::{self, Project, ProjectError};
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

/// The Gitea release whose API this subset follows (the Go SDK checks it).
pub const GITEA_VERSION: &str = "1.22.0";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/version",
            get(|| async { Json(serde_json::json!({ "version": GITEA_VERSION })) }),
        )
        .route("/user", get(repos::current_user))
        .route("/user/repos", get(repos::list_mine).post(repos::create))
        .route("/users/{username}/repos", get(repos::list_for_user))
        .route(
            "/users/{username}/tokens",
            get(tokens::list).post(tokens::create),
        )
        .route(
            "/users/{username}/tokens/{token}",
            axum::routing::delete(tokens::delete),
        )
        .route(
            "/repos/{owner}/{repo}",
            get(repos::get).patch(repos::edit).delete(repos::delete),
        )
        .route("/repos/{owner}/{repo}/contents", get(contents::root))
        .route(
            "/repos/{owner}/{repo}/contents/{*path}",
            get(contents::get)
                .post(contents::create)
                .put(contents::update)
                .delete(contents::delete),
        )
        .route(
            "/repos/{owner}/{repo}/branches",
            get(history::branches).post(history::create_branch),
        )
        .route(
            "/repos/{owner}/{repo}/branches/{*branch}",
            get(history::branch).delete(history::delete_branch),
        )
        .route("/repos/{owner}/{repo}/commits", get(history::commits))
        .route(
            "/repos/{owner}/{repo}/git/commits/{sha}",
            get(history::commit),
        )
        .fallback(|| async {
            GiteaError::new(StatusCode::NOT_FOUND, "The target couldn't be found.")
        })
}

/// Gitea's error body: `{"message", "url"}`.
#[derive(Debug)]
pub struct GiteaError {
    pub status: StatusCode,
    pub message: String,
}

impl GiteaError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "The target couldn't be found.")
    }
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
}

impl IntoResponse for GiteaError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "message": self.message, "url": "/api/openapi.json", "errors": null });
        let mut r = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"AUTOCREA\""),
            );
        }
        r
    }
}

impl From<ApiError> for GiteaError {
    fn from(e: ApiError) -> Self {
        let status = if e.status == StatusCode::BAD_REQUEST {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            e.status
        };
        Self::new(status, e.message)
    }
}

impl From<GitError> for GiteaError {
    fn from(e: GitError) -> Self {
        match e {
            GitError::NotFound(_) => Self::not_found(),
            GitError::Invalid(m) => Self::unprocessable(m),
            GitError::Conflict(m) => Self::new(StatusCode::CONFLICT, m),
            other => ApiError::from(other).into(),
        }
    }
}

impl From<ProjectError> for GiteaError {
    fn from(e: ProjectError) -> Self {
        match e {
            ProjectError::NotFound => Self::not_found(),
            other => ApiError::from(other).into(),
        }
    }
}

impl From<AccountError> for GiteaError {
    fn from(e: AccountError) -> Self {
        ApiError::from(e).into()
    }
}

pub type GiteaResult<T> = Result<T, GiteaError>;

/// An authenticated Gitea API caller.
pub struct Caller {
    pub user: User,
    pub method: Method,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = GiteaError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match git_auth::caller_with_method(parts, state).await {
            Ok(Some((user, method))) => {
                let safe = matches!(
                    parts.method,
                    axum::http::Method::GET | axum::http::Method::HEAD
                );
                if !safe && !method.can_write() {
                    return Err(GiteaError::new(
                        StatusCode::FORBIDDEN,
                        "token does not have at least one of required scope(s): [write:repository]",
                    ));
                }
                Ok(Caller { user, method })
            }
            Ok(None) => Err(GiteaError::new(
                StatusCode::UNAUTHORIZED,
                "token is required",
            )),
            Err(CredentialError::Invalid(m)) => Err(GiteaError::new(StatusCode::UNAUTHORIZED, m)),
            Err(CredentialError::Failed(e)) => Err(e.into()),
        }
    }
}

/// `http://host` as the client reached us (or the configured public URL).
pub fn base_url(headers: &HeaderMap, state: &AppState) -> String {
    if let Some(url) = &state.config.public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The caller's repository `owner/repo`; anything else is 404.
pub async fn owned_repo(
    state: &AppState,
    caller: &Caller,
    owner: &str,
    repo: &str,
) -> GiteaResult<Project> {
    if !caller.user.username.eq_ignore_ascii_case(owner) {
        return Err(GiteaError::not_found());
    }
    let slug = repo
        .strip_suffix(".git")
        .unwrap_or(repo)
        .to_ascii_lowercase();
    Ok(projects::find_by_slug(&state.pool, caller.user.id, &slug).await?)
}

/// Gitea's `page` and `limit` query parameters (1-based; limit 1..=50, default 30).
#[derive(Deserialize, Default)]
pub struct Paging {
    pub page: Option<usize>,
    pub limit: Option<usize>,
}

impl Paging {
    pub fn page(&self) -> usize {
        self.page.unwrap_or(1).max(1)
    }
    pub fn limit(&self) -> usize {
        self.limit.unwrap_or(30).clamp(1, 50)
    }
    /// The slice of `items` for this page (empty past the last page).
    pub fn slice<T: Clone>(&self, items: &[T]) -> Vec<T> {
        items
            .iter()
            .skip((self.page() - 1) * self.limit())
            .take(self.limit())
            .cloned()
            .collect()
    }
}

/// `X-Total-Count` (and Gitea's `X-Total`, `X-PageCount`, `X-HasMore`) plus `Link`.
pub fn paging_headers(total: usize, paging: &Paging, url: &str) -> HeaderMap {
    let (page, limit) = (paging.page(), paging.limit());
    let pages = total.div_ceil(limit).max(1);
    let mut h = HeaderMap::new();
    let mut set = |k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    set("x-total-count", total.to_string());
    set("x-total", total.to_string());
    set("x-pagecount", pages.to_string());
    set("x-page", page.to_string());
    set("x-perpage", limit.to_string());
    set("x-hasmore", (page < pages).to_string());
    let mut links = Vec::new();
    if page < pages {
        links.push(format!(
            "<{url}?page={}&limit={limit}>; rel=\"next\"",
            page + 1
        ));
        links.push(format!("<{url}?page={pages}&limit={limit}>; rel=\"last\""));
    }
    if page > 1 {
        links.push(format!("<{url}?page=1&limit={limit}>; rel=\"first\""));
        links.push(format!(
            "<{url}?page={}&limit={limit}>; rel=\"prev\"",
            page - 1
        ));
    }
    if !links.is_empty() {
        set("link", links.join(","));
    }
    let _ = set;
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("X-Total-Count, X-Total, X-PageCount, X-HasMore, Link"),
    );
    h
}
