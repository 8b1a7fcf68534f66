//! A stand-in OpenAI-compatible model server that answers from a script,
//! for tests about the agent's logic (the llama.cpp path is tested with the
//! real small model).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A model that answers from a script; each entry is (delay, message).
#[derive(Clone, Default)]
pub struct Script {
    pub replies: Arc<Mutex<VecDeque<(u64, Value)>>>,
    pub requests: Arc<Mutex<Vec<Value>>>,
}

/// Serves `script` on a loopback port; returns the base URL (`.../v1`).
pub async fn scripted_model(script: Script) -> String {
    async fn answer(State(script): State<Script>, Json(body): Json<Value>) -> Json<Value> {
        script.requests.lock().unwrap().push(body);
        let next = script.replies.lock().unwrap().pop_front();
        let (delay, message) = next.unwrap_or((
            0,
            json!({"role": "assistant", "content": "The script ended."}),
        ));
        tokio::time::sleep(Duration::from_millis(delay)).await;
        let finish = if message.get("tool_calls").is_some() {
            "tool_calls"
        } else {
            "stop"
        };
        Json(
            json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "coder",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 200, "completion_tokens": 50, "total_tokens": 250}}),
        )
    }
    let app = axum::Router::new()
        .route("/v1/chat/completions", axum::routing::post(answer))
        .with_state(script);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// An assistant message calling tools; a string argument is sent as written.
pub fn calls(list: &[(&str, &str, Value)]) -> Value {
    let calls: Vec<Value> = list
        .iter()
        .map(|(id, name, args)| {
            let arguments = match args {
                Value::String(raw) => raw.clone(), // sent as the model wrote it, valid or not
                other => other.to_string(),
            };
            json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
        })
        .collect();
    json!({"role": "assistant", "content": null, "tool_calls": calls})
}

/// An assistant message with text only.
pub fn say(text: &str) -> Value {
    json!({"role": "assistant", "content": text})
}

impl Script {
    pub fn push(&self, reply: Value) {
        self.replies.lock().unwrap().push_back((0, reply));
    }

    /// The messages of every request so far.
    pub fn requests(&self) -> Vec<Value> {
        self.requests.lock().unwrap().clone()
    }
}
