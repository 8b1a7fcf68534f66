//! Language models: the OpenAI wire format, the providers behind one trait,
//! the supervised local worker, and turning a provider's events back into
//! OpenAI responses (whole or streamed).

pub mod call_stream;
pub mod encode;
pub mod providers;
pub mod resolve;
pub mod supervisor;
pub mod wire;

use axum::http::StatusCode;
use futures_util::Stream;
use std::pin::Pin;

/// What a provider's answer is made of, whatever the vendor's format.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatEvent {
    Text(String),
    /// A piece of a tool call while it is written (progress: the first
    /// piece of a call has its id and name). The whole call still follows
    /// as `ToolCall`, so a consumer that wants only whole calls skips these.
    ToolCallDelta {
        index: usize,
        id: Option<String>,
        name: Option<String>,
        arguments: String,
    },
    ToolCall(wire::ToolCall),
    /// The last event: why it ended (`stop`, `length`, `tool_calls`) and the
    /// token counts.
    Finish {
        reason: String,
        usage: wire::Usage,
    },
}

pub type EventStream = Pin<Box<dyn Stream<Item = Result<ChatEvent, LlmError>> + Send>>;

/// Everything that can go wrong asking a model, each with the HTTP status
/// the gateway answers with.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LlmError {
    #[error("{0}")]
    BadRequest(String),
    #[error("no model {0:?} is available to you; GET /v1/models lists them")]
    ModelNotFound(String),
    #[error("no API key for provider {provider}; add one in your profile (Model provider keys)")]
    NoKey { provider: String },
    #[error("the model is busy; retry in {retry_after} s")]
    Busy { retry_after: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error("{provider} answered {status}: {message}")]
    Upstream {
        provider: String,
        status: u16,
        message: String,
    },
    #[error("{0}")]
    Internal(String),
}

impl LlmError {
    pub fn status(&self) -> StatusCode {
        match self {
            LlmError::BadRequest(_) | LlmError::NoKey { .. } => StatusCode::BAD_REQUEST,
            LlmError::ModelNotFound(_) => StatusCode::NOT_FOUND,
            LlmError::Busy { .. } => StatusCode::TOO_MANY_REQUESTS,
            LlmError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            LlmError::Upstream { .. } => StatusCode::BAD_GATEWAY,
            LlmError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// OpenAI's `type` and `code` for this error.
    pub fn kind_and_code(&self) -> (&'static str, &'static str) {
        match self {
            LlmError::BadRequest(_) => ("invalid_request_error", "invalid_request"),
            LlmError::ModelNotFound(_) => ("invalid_request_error", "model_not_found"),
            LlmError::NoKey { .. } => ("invalid_request_error", "no_api_key"),
            LlmError::Busy { .. } => ("rate_limit_error", "queue_full"),
            LlmError::Unavailable(_) => ("server_error", "model_unavailable"),
            LlmError::Upstream { .. } => ("server_error", "upstream_error"),
            LlmError::Internal(_) => ("server_error", "internal"),
        }
    }

    pub fn body(&self) -> serde_json::Value {
        let (kind, code) = self.kind_and_code();
        wire::error_body(kind, code, &self.to_string())
    }
}

impl axum::response::IntoResponse for LlmError {
    fn into_response(self) -> axum::response::Response {
        let mut r = (self.status(), axum::Json(self.body())).into_response();
        if let LlmError::Busy { retry_after } = self {
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after),
            );
        }
        r
    }
}
