//! Model providers behind one trait. Each adapter turns an OpenAI-shaped
//! request into its vendor's request and the vendor's answer (whole or
//! streamed) into [`ChatEvent`]s:
//!
//! - [`openai::OpenAiCompatible`]: any OpenAI-compatible endpoint (OpenAI,
//!   vLLM, Ollama, llama-server) and our own local worker;
//! - [`anthropic::Anthropic`]: the Anthropic Messages API;
//! - [`gemini::Gemini`]: the Gemini API (`generateContent`).

pub mod anthropic;
pub mod gemini;
pub mod openai;
pub mod sse;

use super::wire::{ChatRequest, CompletionRequest};
use super::{EventStream, LlmError};
use std::time::Duration;

pub use autocrea_core::llm::policy::ProviderKind;

/// An adapter for `kind`'s protocol at `base_url` with `key`.
pub fn adapter(
    kind: ProviderKind,
    name: &str,
    base_url: &str,
    key: Option<String>,
) -> Box<dyn Provider> {
    match kind {
        ProviderKind::Openai => Box::new(openai::OpenAiCompatible::new(name, base_url, key)),
        ProviderKind::Anthropic => Box::new(anthropic::Anthropic::new(
            name,
            base_url,
            key.unwrap_or_default(),
        )),
        ProviderKind::Gemini => {
            Box::new(gemini::Gemini::new(name, base_url, key.unwrap_or_default()))
        }
    }
}

#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// The name used in errors (`openai`, `local`...).
    fn name(&self) -> &str;

    /// A chat answer from `model`; the stream ends with `ChatEvent::Finish`.
    /// Errors before the first byte of the answer (a refused key, an unknown
    /// model) come back here, so the gateway can answer with a status.
    async fn chat(&self, model: &str, request: ChatRequest) -> Result<EventStream, LlmError>;

    /// A raw-prompt completion. Only OpenAI-compatible endpoints have one.
    async fn complete(
        &self,
        _model: &str,
        _request: CompletionRequest,
    ) -> Result<EventStream, LlmError> {
        Err(LlmError::BadRequest(format!(
            "{} has no raw-prompt completions; use /v1/chat/completions",
            self.name()
        )))
    }
}

/// The HTTP client every adapter uses: connection timeout, no overall
/// timeout (answers stream for minutes), no redirects to other hosts. Built
/// once: building one reads the system's CA store, and adapters are made per
/// request; clones share the connection pool.
pub fn http_client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("autocrea/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("the HTTP client builds")
        })
        .clone()
}

/// A vendor's refusal as an error that says who refused and why, with the
/// vendor's own message when it sent one.
pub async fn upstream_error(provider: &str, response: reqwest::Response) -> LlmError {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.pointer("/message"))
                .and_then(|m| m.as_str().map(str::to_string))
        })
        .unwrap_or_else(|| text.chars().take(300).collect());
    LlmError::Upstream {
        provider: provider.to_string(),
        status,
        message,
    }
}

/// A transport failure (connection refused, reset) as an error naming the provider.
pub fn transport_error(provider: &str, e: reqwest::Error) -> LlmError {
    LlmError::Unavailable(format!("cannot reach {provider}: {e}"))
}

/// What an answer stream says when it ends without its last event.
pub fn cut_short(provider: &str) -> LlmError {
    LlmError::Unavailable(format!(
        "{provider} stopped answering before the end (the connection closed mid-answer)"
    ))
}

/// What one upstream event adds to the answer.
#[derive(Default)]
pub struct Step {
    pub events: Vec<super::ChatEvent>,
    /// The answer is complete (its last event came).
    pub done: bool,
}

/// Turns a vendor's server-sent events into chat events with `handle`,
/// which sees every event in order. A body that ends before `handle` said
/// `done` is an error: the answer was cut short.
pub fn translate_sse(
    provider: &str,
    response: reqwest::Response,
    handle: impl FnMut(sse::SseEvent) -> Result<Step, LlmError> + Send + 'static,
) -> EventStream {
    use futures_util::StreamExt;
    let provider = provider.to_string();
    let events = Box::pin(sse::events(response.bytes_stream()));
    let state = (
        events,
        handle,
        std::collections::VecDeque::<super::ChatEvent>::new(),
        false,
        provider,
    );
    Box::pin(futures_util::stream::unfold(
        state,
        |(mut events, mut handle, mut queue, mut done, provider)| async move {
            loop {
                if let Some(e) = queue.pop_front() {
                    return Some((Ok(e), (events, handle, queue, done, provider)));
                }
                if done {
                    return None;
                }
                let result = match events.next().await {
                    Some(Ok(event)) => handle(event),
                    Some(Err(e)) => Err(transport_error(&provider, e)),
                    None => Err(cut_short(&provider)),
                };
                match result {
                    Ok(step) => {
                        queue.extend(step.events);
                        done = step.done;
                    }
                    Err(e) => {
                        done = true;
                        return Some((Err(e), (events, handle, queue, done, provider)));
                    }
                }
            }
        },
    ))
}

/// A whole (non-streamed) answer as a finished stream.
pub fn ready(events: Vec<super::ChatEvent>) -> EventStream {
    Box::pin(futures_util::stream::iter(events.into_iter().map(Ok)))
}

#[cfg(test)]
mod image_tests {
    use super::{anthropic, gemini};
    use crate::llm::wire::image_tests::request;

    #[test]
    fn vendors_get_images_in_their_own_blocks() {
        let body = anthropic::request_body("claude", &request());
        let blocks = &body["messages"][0]["content"];
        assert_eq!(
            blocks[0],
            serde_json::json!({"type": "text", "text": "Make it look like this"})
        );
        assert_eq!(
            blocks[1],
            serde_json::json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0K"}})
        );
        assert_eq!(blocks[2]["source"]["url"], "https://example.com/a.png");
        let body = gemini::request_body(&request());
        let parts = &body["contents"][0]["parts"];
        assert_eq!(
            parts[1],
            serde_json::json!({"inlineData": {"mimeType": "image/png", "data": "iVBORw0K"}})
        );
    }
}
