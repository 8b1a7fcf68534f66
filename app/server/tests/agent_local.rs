//! One agent turn through the real local model (the small development model
//! on the CPU) with grammar-constrained tool calls: the model's calls parse
//! and are applied to the project. Full mode, so the Architect (read tools
//! and finish, whose arguments are short) acts first: the 270M base model
//! is no coder, and with write tools it tends to repeat array items until
//! max_tokens cuts the call, which is fed back to it as an error. The
//! request spells out a call on a file the template has: the model picks
//! the tool first (name before arguments) and fills in what it has seen;
//! asked vaguely, it copies text from the tool list as the path.

mod common;

use common::appliance::{start, wait_ready};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_through_the_local_model_makes_tool_calls_that_parse_and_apply() {
    // Short answers and few calls keep the CPU model's turn to a minute or two.
    let (s, token) = start(
        "slots = 1",
        "[agent]\nmax_iterations = 3\nmax_tokens = 200\n",
    );
    let http = reqwest::Client::new();
    wait_ready(&http, &s, &token).await;
    let call = |method: reqwest::Method, path: &str, body: Value| {
        http.request(method, format!("{}{path}", s.url))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let project: Value = call(
        reqwest::Method::POST,
        "/api/v1/projects",
        json!({"name": "Local", "template": "static"}),
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
    let r = call(reqwest::Method::POST, &format!("/api/v1/projects/{id}/threads/{tid}/messages"), json!({"content": "Call read_file with {\"path\": \"index.html\"}, then finish.", "model": "local", "mode": "full", "auto_approve": true}))
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());

    let started = Instant::now();
    let events = loop {
        let ev: Value = call(
            reqwest::Method::GET,
            &format!("/api/v1/projects/{id}/threads/{tid}/events?follow=false"),
            json!({}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let list = ev["events"].as_array().unwrap().clone();
        if list.iter().any(|e| e["type"] == "turn:end") {
            break list;
        }
        assert!(
            started.elapsed() < Duration::from_secs(400),
            "the turn did not end: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let ends: Vec<&Value> = events.iter().filter(|e| e["type"] == "tool:end").collect();
    eprintln!(
        "local model turn: {:.1} s; tool results: {:?}",
        started.elapsed().as_secs_f64(),
        ends.iter()
            .map(|e| format!(
                "{} ok={} {}",
                e["data"]["name"], e["data"]["ok"], e["data"]["summary"]
            ))
            .collect::<Vec<_>>()
    );

    // Every call the model wrote parses (the grammar allows nothing else), and at least one was applied.
    let messages: Value = call(
        reqwest::Method::GET,
        &format!("/api/v1/projects/{id}/threads/{tid}/messages"),
        json!({}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let mut calls = 0;
    for m in messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["tool_calls"].is_string())
    {
        let list: Vec<Value> = serde_json::from_str(m["tool_calls"].as_str().unwrap()).unwrap();
        for c in list {
            calls += 1;
            assert!(
                autocrea_core::agent::tools::NAMES.contains(&c["name"].as_str().unwrap()),
                "a real tool: {c}"
            );
            let args: Result<Value, _> = serde_json::from_str(c["arguments"].as_str().unwrap());
            assert!(
                args.is_ok_and(|a| a.is_object()),
                "the arguments parse: {c}"
            );
        }
    }
    assert!(calls >= 1, "the model called a tool: {messages}");
    assert!(
        ends.iter().any(|e| e["data"]["ok"] == true),
        "a call was applied: {ends:?}"
    );
    let usage: Value = call(reqwest::Method::GET, "/api/v1/me/usage", json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(usage[0]["provider"], "local", "{usage}");
}
