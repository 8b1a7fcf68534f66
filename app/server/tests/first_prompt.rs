//! The first run on the default install, with the real development model:
//! the newcomer's first prompt starts a turn that streams tokens (no
//! context failure), Stop ends it mid-generation and frees the worker's
//! slot, and a context too small for any turn is refused before it starts.

mod common;

use common::appliance::{start, wait_ready, Server};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

struct Client<'a> {
    http: reqwest::Client,
    s: &'a Server,
    token: String,
}

impl Client<'_> {
    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> reqwest::Response {
        self.http
            .request(method, format!("{}{path}", self.s.url))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn project_and_thread(&self, template: &str) -> (String, String) {
        let project: Value = self
            .call(
                reqwest::Method::POST,
                "/api/v1/projects",
                json!({"name": "Todo", "template": template}),
            )
            .await
            .json()
            .await
            .unwrap();
        let id = project["id"].as_str().unwrap().to_string();
        let thread: Value = self
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/projects/{id}/threads"),
                json!({}),
            )
            .await
            .json()
            .await
            .unwrap();
        (id, thread["id"].as_str().unwrap().to_string())
    }

    async fn events(&self, id: &str, tid: &str) -> Vec<Value> {
        let ev: Value = self
            .call(
                reqwest::Method::GET,
                &format!("/api/v1/projects/{id}/threads/{tid}/events?follow=false"),
                json!({}),
            )
            .await
            .json()
            .await
            .unwrap();
        ev["events"].as_array().unwrap().clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_prompt_streams_tokens_and_stop_ends_it_and_frees_the_slot() {
    // The defaults, except one slot: a slot Stop failed to free would block the next request.
    let (s, token) = start("slots = 1", "");
    let c = Client {
        http: reqwest::Client::new(),
        s: &s,
        token,
    };
    wait_ready(&c.http, &s, &c.token).await;
    let (id, tid) = c.project_and_thread("vite-react").await;
    let r = c
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/projects/{id}/threads/{tid}/messages"),
            json!({"content": "Build a todo list app with add and delete", "model": "local"}),
        )
        .await;
    assert_eq!(
        r.status(),
        202,
        "the first prompt starts a turn: {}",
        r.text().await.unwrap()
    );

    // Tokens stream to the turn's card while the model writes its first call.
    let started = Instant::now();
    let tokens = loop {
        let events = c.events(&id, &tid).await;
        if let Some(end) = events.iter().find(|e| e["type"] == "turn:end") {
            panic!("the turn ended before any token streamed: {end}");
        }
        let tokens: Vec<Value> = events
            .into_iter()
            .filter(|e| e["type"] == "token")
            .collect();
        if tokens.len() >= 5 {
            break tokens;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no tokens streamed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!(
        "first streamed token after {:.1} s; e.g. {}",
        started.elapsed().as_secs_f64(),
        tokens[0]["data"]
    );
    assert!(tokens.iter().all(|t| t["data"]["text"].is_string()));

    // Stop in the middle of the generation.
    let stop_at = Instant::now();
    let r = c
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/projects/{id}/threads/{tid}/stop"),
            json!({}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let end = loop {
        if let Some(end) = c
            .events(&id, &tid)
            .await
            .into_iter()
            .find(|e| e["type"] == "turn:end")
        {
            break end;
        }
        assert!(
            stop_at.elapsed() < Duration::from_secs(30),
            "Stop did not end the turn"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let took = stop_at.elapsed();
    eprintln!("Stop ended the turn after {:.2} s", took.as_secs_f64());
    assert_eq!(end["data"]["status"], "stopped", "{end}");
    // Nothing of the turn stays in the working tree (the files are as the template made them).
    let tree: Value = c
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/projects/{id}/versions"),
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        tree["versions"].as_array().map(Vec::len),
        Some(1),
        "no commit from a stopped turn: {tree}"
    );

    // The worker's only slot is free again: a short request is answered.
    let answered = Instant::now();
    let r = c
        .call(reqwest::Method::POST, "/v1/chat/completions", json!({"model": "local", "max_tokens": 4, "messages": [{"role": "user", "content": "Hi"}]}))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    eprintln!(
        "a request after Stop answered in {:.2} s",
        answered.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_context_too_small_is_refused_before_the_turn_starts() {
    let (s, token) = start("slots = 1\ncontext = 1024", "");
    let c = Client {
        http: reqwest::Client::new(),
        s: &s,
        token,
    };
    wait_ready(&c.http, &s, &c.token).await;
    let (id, tid) = c.project_and_thread("vite-react").await;
    let r = c
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/projects/{id}/threads/{tid}/messages"),
            json!({"content": "Build a todo list app", "model": "local"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "context_too_small", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("this model's context is 1024 tokens; the agent needs at least "),
        "{message}"
    );
    assert!(
        message.contains("Admin → Models") && message.contains("add a provider"),
        "{message}"
    );
    // Refused before anything was stored: no message, no turn.
    let messages: Value = c
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/projects/{id}/threads/{tid}/messages"),
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        messages["messages"].as_array().map(Vec::len),
        Some(0),
        "{messages}"
    );
    // The admin sees the same verdict, not "ready".
    let admin: Value = c
        .call(reqwest::Method::GET, "/api/v1/admin/llm", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(admin["local_status"]["agent_ready"], false, "{admin}");
    assert_eq!(
        admin["local_status"]["state"], "test_model",
        "the development model is a test model first: {admin}"
    );
}
