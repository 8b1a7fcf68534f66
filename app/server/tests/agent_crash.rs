//! kill -9 of the server in the middle of an agent turn: the repository is
//! intact (git fsck), the half-done changes are gone from the working tree,
//! and after the restart the turn is marked failed.

mod common;

use axum::Json;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A model that writes one file, then takes a minute to answer.
async fn slow_model() -> String {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |Json(_): Json<Value>| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                let message = if n == 0 {
                    json!({"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
                        "function": {"name": "create_file", "arguments": "{\"path\": \"half.html\", \"content\": \"<h1>Half</h1>\"}"}}]})
                } else {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    json!({"role": "assistant", "content": "done"})
                };
                Json(json!({"id": "x", "object": "chat.completion", "created": 0, "model": "coder",
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_turn_leaves_an_intact_repository_and_a_failed_turn() {
    let model = slow_model().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = common::free_port();
    let token = common::user_token(&data, "ada@example.com", true);
    let http = reqwest::Client::new();
    let mut server = common::start(&data, port);
    let url = server.url.clone();
    let call = |method: reqwest::Method, path: &str, body: Value| {
        http.request(method, format!("{url}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let policy = json!({"local": false, "providers": [{"id": "scripted", "kind": "openai", "base_url": model, "enabled": true, "models": ["coder"]}]});
    assert_eq!(
        call(reqwest::Method::PUT, "/api/v1/admin/llm/policy", policy)
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        call(
            reqwest::Method::PUT,
            "/api/v1/me/provider-keys/scripted",
            json!({"key": "sk-any-1234"})
        )
        .await
        .unwrap()
        .status(),
        200
    );
    let project: Value = call(
        reqwest::Method::POST,
        "/api/v1/projects",
        json!({"name": "Crashy"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let id = project["id"].as_str().unwrap().to_string();
    let thread: Value = call(
        reqwest::Method::POST,
        &format!("/api/v1/projects/{id}/threads"),
        json!({}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let tid = thread["id"].as_str().unwrap().to_string();
    let sent = call(
        reqwest::Method::POST,
        &format!("/api/v1/projects/{id}/threads/{tid}/messages"),
        json!({"content": "Go", "model": "scripted/coder"}),
    )
    .await
    .unwrap();
    assert_eq!(sent.status(), 202);

    let worktree = data.join("worktrees").join(&id);
    for _ in 0..200 {
        if worktree.join("half.html").exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        worktree.join("half.html").exists(),
        "the turn was under way"
    );
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();

    let server = common::start(&data, port);
    let repo = data.join("repos").join(format!("{id}.git"));
    let fsck = std::process::Command::new("git")
        .args(["--git-dir"])
        .arg(&repo)
        .args(["fsck", "--full"])
        .output()
        .unwrap();
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
    assert!(
        !worktree.join("half.html").exists(),
        "the half-done change is discarded"
    );
    let versions: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/projects/{id}/versions", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(versions["total"], 1, "no version from the cut-off turn");
    let pool =
        sqlx::SqlitePool::connect(&format!("sqlite://{}", data.join("autocrea.db").display()))
            .await
            .unwrap();
    let (status, error): (String, String) = sqlx::query_as("SELECT status, error FROM turns")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "failed");
    assert!(error.contains("stopped during this turn"), "{error}");
    let mut server = server;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}
