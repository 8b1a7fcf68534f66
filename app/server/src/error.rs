//! The one place where domain errors become HTTP: every error leaves the
//! `/api/v1` routes as `{"error": {"code", "message"}}` with a fitting
//! status. Each domain error converts with `From`, so handlers use `?` and
//! never pick a status themselves for a domain failure.
//!
//! Which error belongs where:
//! - `AccountError` (core `accounts`): sign-up, sign-in, passwords, sessions
//!   and API tokens.
//! - `ProjectError` (core `projects`): a project's name, template, existence.
//! - `GitError` (core `gitstore`): repositories, files, versions. `NotFound`,
//!   `Invalid` and `Conflict` are the caller's (404, 400, 409); a failing
//!   repository is ours (500).
//! - `StoreError` (core `agent::store_error`): threads, messages, turns and
//!   attachments.
//! - `SandboxError` (core `sandbox`): containers, previews, commands. An
//!   engine that is away is 503 `sandbox_unavailable`, one that fails 502.
//! - `PublishError` (core `publish`): deployments, sites and their access.
//!   A version or deployment that is not there is 404, a build already
//!   running or a live deployment deleted 409, a taken name 409
//!   `name_taken`; the engine's and the disk's failures are ours.
//! - `RemoteError` (core `remote`): a project's external git remote. No
//!   link is 404, a bad URL or field 400, a push the remote refuses as
//!   non-fast-forward 409 `remote_has_changes`, a webhook signature that
//!   does not check 401 `bad_signature`, a remote that fails or cannot be
//!   reached 502 `remote_failed` (git's text, the token removed).
//! - `EnvVarError` (core `env_vars`): a bad name or value 400, an unknown
//!   variable 404, a value sealed with another master key 409
//!   `undecryptable` (setting it again fixes it).
//! - `LlmStoreError` (core `llm`): provider keys and the provider policy.
//! - `sqlx::Error` and `DbError`: always 500; the detail goes to the log.
//! - `ApiError::invalid`, `forbidden`, `not_found` and `new` directly: checks
//!   a handler makes itself (a field it validates, a rule of the route).
//!
//! Not here, on purpose: the OpenAI-compatible `/v1` gateway answers with
//! OpenAI's error shape from `LlmError` (`llm/mod.rs`), which OpenAI clients
//! read, and the Gitea-compatible API with Gitea's (`gitea/mod.rs`).

use autocrea_core::accounts::AccountError;
use autocrea_core::agent::store::StoreError;
use autocrea_core::db::DbError;
use autocrea_core::env_vars::EnvVarError;
use autocrea_core::gitstore::GitError;
use autocrea_core::projects::ProjectError;
use autocrea_core::publish::PublishError;
use autocrea_core::remote::RemoteError;
use autocrea_core::sandbox::SandboxError;
pub use autocrea_wire::error::{ErrorBody, ErrorDetail};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in or send an API token (Authorization: Bearer ...)",
        )
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_input", message)
    }
    pub fn internal(error: impl std::fmt::Display) -> Self {
        // The detail goes to the log, never to the client.
        tracing::error!(%error, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on the server; the error was logged",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        use AccountError::*;
        let message = e.to_string();
        match e {
            Invalid(_) => Self::invalid(message),
            WeakPassword(_) => Self::new(StatusCode::BAD_REQUEST, "weak_password", message),
            EmailTaken => Self::new(StatusCode::CONFLICT, "email_taken", message),
            WrongCredentials => Self::new(StatusCode::UNAUTHORIZED, "wrong_credentials", message),
            WrongCurrentPassword => {
                Self::new(StatusCode::BAD_REQUEST, "wrong_current_password", message)
            }
            Throttled { retry_after_secs } => Self {
                retry_after: Some(retry_after_secs),
                ..Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", message)
            },
            Disabled => Self::new(StatusCode::FORBIDDEN, "account_disabled", message),
            SignupClosed => Self::new(StatusCode::FORBIDDEN, "signup_closed", message),
            UserNotFound => Self::not_found("user"),
            TokenNotFound => Self::not_found("API token"),
            Hashing(_) | Db(_) => Self::internal(message),
        }
    }
}

impl From<ProjectError> for ApiError {
    fn from(e: ProjectError) -> Self {
        let message = e.to_string();
        match e {
            ProjectError::Invalid(_) => Self::invalid(message),
            ProjectError::UnknownTemplate(_) => {
                Self::new(StatusCode::BAD_REQUEST, "unknown_template", message)
            }
            ProjectError::NotFound => Self::not_found("project"),
            ProjectError::Db(_) => Self::internal(message),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::internal(e)
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        Self::internal(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<GitError> for ApiError {
    fn from(e: GitError) -> Self {
        let message = e.to_string();
        match e {
            GitError::NotFound(what) => Self::not_found(what),
            GitError::Invalid(_) => Self::invalid(message),
            GitError::Conflict(_) => Self::new(StatusCode::CONFLICT, "conflict", message),
            GitError::Git(_) | GitError::Io(_) => Self::internal(message),
        }
    }
}

impl From<autocrea_core::llm::LlmStoreError> for ApiError {
    fn from(e: autocrea_core::llm::LlmStoreError) -> Self {
        use autocrea_core::llm::LlmStoreError::*;
        let message = e.to_string();
        match e {
            Invalid(_) => Self::invalid(message),
            NotFound => Self::not_found("provider key"),
            Decrypt => Self::new(StatusCode::CONFLICT, "key_unreadable", message),
            MasterKey { .. } | Db(_) | Io(_) => Self::internal(message),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::not_found(what),
            StoreError::Invalid(m) => Self::invalid(m),
            StoreError::Db(e) => {
                tracing::error!(error = %e, "agent store");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the database failed",
                )
            }
        }
    }
}

impl From<RemoteError> for ApiError {
    fn from(e: RemoteError) -> Self {
        let message = e.to_string();
        match e {
            RemoteError::NotLinked => Self::new(StatusCode::NOT_FOUND, "not_found", message),
            RemoteError::Invalid(m) => Self::invalid(m),
            RemoteError::RemoteAhead => {
                Self::new(StatusCode::CONFLICT, "remote_has_changes", message)
            }
            RemoteError::BadSignature => {
                Self::new(StatusCode::UNAUTHORIZED, "bad_signature", message)
            }
            RemoteError::Failed(m) => Self::new(StatusCode::BAD_GATEWAY, "remote_failed", m),
            RemoteError::Secret => Self::new(StatusCode::CONFLICT, "secret_unreadable", message),
            RemoteError::Git(e) => e.into(),
            RemoteError::Db(e) => e.into(),
        }
    }
}

impl From<PublishError> for ApiError {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::NotFound(what) => ApiError::not_found(what),
            PublishError::Invalid(m) => ApiError::invalid(m),
            PublishError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            e @ PublishError::NameTaken(_) => {
                ApiError::new(StatusCode::CONFLICT, "name_taken", e.to_string())
            }
            e @ PublishError::Unsupported(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unsupported",
                e.to_string(),
            ),
            PublishError::Sandbox(e) => e.into(),
            PublishError::Git(e) => e.into(),
            PublishError::Env(e) => e.into(),
            PublishError::Io(e) => ApiError::internal(e),
            PublishError::Db(e) => e.into(),
        }
    }
}

impl From<EnvVarError> for ApiError {
    fn from(e: EnvVarError) -> Self {
        match e {
            EnvVarError::Invalid(m) => ApiError::invalid(m),
            e @ EnvVarError::NotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            // The person can fix it (set the value again); not a server fault to hide.
            e @ EnvVarError::Decrypt => {
                ApiError::new(StatusCode::CONFLICT, "undecryptable", e.to_string())
            }
            EnvVarError::Db(e) => e.into(),
        }
    }
}

impl From<SandboxError> for ApiError {
    fn from(e: SandboxError) -> Self {
        let (status, code) = match &e {
            SandboxError::Disabled
            | SandboxError::EngineUnavailable(_)
            | SandboxError::ImageMissing(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "sandbox_unavailable")
            }
            SandboxError::NoSandbox(_) | SandboxError::Invalid(_) => {
                (StatusCode::BAD_REQUEST, "invalid_input")
            }
            SandboxError::CommandRefused(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "command_refused")
            }
            SandboxError::NotRunning => (StatusCode::CONFLICT, "sandbox_not_running"),
            SandboxError::Engine(_) | SandboxError::Git(_) | SandboxError::Io(_) => {
                tracing::error!(error = %e, "sandbox failure");
                (StatusCode::BAD_GATEWAY, "sandbox_failed")
            }
        };
        ApiError::new(status, code, e.public_message())
    }
}
