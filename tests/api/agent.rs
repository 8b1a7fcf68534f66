//! Agent turns driven by a scripted OpenAI-compatible model server: files
//! written as one commit by the Developer, bad calls fed back and repaired,
//! a stopped turn leaves the project at its last version, credits charged.

use autocrea_e2e::scripted::{calls, scripted_model, Script};
use autocrea_e2e::{Client, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

pub async fn setup(script: &Script) -> (TestServer, Client, String, String) {
    setup_with(script, |_| {}).await
}

pub async fn setup_with(
    script: &Script,
    adjust: impl FnOnce(&mut autocrea_core::Config),
) -> (TestServer, Client, String, String) {
    let base = scripted_model(script.clone()).await;
    let s = TestServer::start_with(adjust).await;
    let c = s.user("ada@example.com").await; // the first account: admin
    let r = c
        .send(c.request(reqwest::Method::PUT, "/api/v1/admin/llm/policy").json(&json!({"local": true, "providers": [
            {"id": "scripted", "kind": "openai", "base_url": base, "enabled": true, "models": ["coder"]}]})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = c
        .send(
            c.request(reqwest::Method::PUT, "/api/v1/me/provider-keys/scripted")
                .json(&json!({"key": "sk-scripted-1234"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let project = c.new_project("Agent app").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let thread = c
        .post(
            &format!("/api/v1/projects/{project}/threads"),
            json!({"title": "Build it"}),
        )
        .await;
    assert_eq!(thread.status, StatusCode::CREATED, "{}", thread.text);
    (
        s,
        c,
        project,
        thread.body["id"].as_str().unwrap().to_string(),
    )
}

pub async fn wait_idle(c: &Client, project: &str, thread: &str) -> Value {
    for _ in 0..300 {
        let m = c
            .get(&format!(
                "/api/v1/projects/{project}/threads/{thread}/messages"
            ))
            .await;
        if m.body["running"] == false {
            return m.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the turn did not end in 30 s");
}

pub async fn events(c: &Client, project: &str, thread: &str) -> Vec<Value> {
    c.get(&format!(
        "/api/v1/projects/{project}/threads/{thread}/events?follow=false"
    ))
    .await
    .body["events"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_writes_files_as_one_commit_and_recovers_from_bad_calls() {
    let script = Script::default();
    script.replies.lock().unwrap().extend([
        (0, calls(&[
            ("c1", "create_file", json!({"path": "about.html", "content": "<h1>About us</h1>\n"})),
            ("c2", "create_file", json!("{\"path\": \"broken.html\", \"content\": ")),
            ("c3", "create_file", json!({"path": "../escape.html", "content": "x"})),
        ])),
        (0, calls(&[
            ("c4", "update_file_sections", json!({"path": "index.html", "sections": [{"search": "Hello from AUTOCREA", "replace": "Welcome to Agent app"}]})),
            ("c5", "create_file", json!({"path": "contact.html", "content": "<h1>Contact</h1>\n"})),
        ])),
        (0, json!({"role": "assistant", "content": "Added an about and a contact page."})),
    ]);
    let (s, c, project, thread) = setup(&script).await;
    let base = format!("/api/v1/projects/{project}/threads/{thread}");
    let r = c
        .post(
            &format!("{base}/messages"),
            json!({"content": "Add about and contact pages", "model": "scripted/coder"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["status"], "running");
    let again = c
        .post(
            &format!("{base}/messages"),
            json!({"content": "More", "model": "scripted/coder"}),
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "turn_running"),
        "one turn at a time per thread"
    );
    let body = wait_idle(&c, &project, &thread).await;

    // One new version, by the Developer, with exactly the turn's files.
    let versions = c
        .get(&format!("/api/v1/projects/{project}/versions"))
        .await
        .body;
    assert_eq!(versions["total"], 2, "{versions}");
    let v = &versions["versions"][0];
    assert_eq!(v["author"]["name"], "Developer (agent)");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("Added an about and a contact page."),
        "{v}"
    );
    let mut files: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    files.sort();
    assert_eq!(files, ["about.html", "contact.html", "index.html"]);
    let wt = s.state().git.worktree_path(&project);
    assert!(!wt.parent().unwrap().join("escape.html").exists());
    assert!(std::fs::read_to_string(wt.join("index.html"))
        .unwrap()
        .contains("Welcome to Agent app"));

    // The bad calls went back to the model as errors it could act on.
    let requests = script.requests.lock().unwrap().clone();
    let second: Vec<String> = requests[1]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect();
    assert!(
        second.iter().any(|t| t.contains("not valid JSON")),
        "{second:?}"
    );
    assert!(
        second.iter().any(|t| t.contains("path refused")),
        "{second:?}"
    );
    assert_eq!(
        requests[0]["tools"].as_array().unwrap().len(),
        13,
        "every tool but add_dependency (a static project has no package.json)"
    );

    // Stored messages, events, usage and credits.
    let roles: Vec<&str> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles.first(), Some(&"user"));
    assert_eq!(roles.last(), Some(&"assistant"));
    let ev = events(&c, &project, &thread).await;
    let kinds: Vec<&str> = ev.iter().map(|e| e["type"].as_str().unwrap()).collect();
    for k in [
        "step",
        "tool:start",
        "tool:end",
        "file:updated",
        "preview:refresh",
        "message",
        "turn:end",
    ] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    let end = ev.iter().rev().find(|e| e["type"] == "turn:end").unwrap();
    assert_eq!(end["data"]["status"], "done", "{end}");
    let after = c
        .get(&format!(
            "/api/v1/projects/{project}/threads/{thread}/events?follow=false&after={}",
            ev[2]["id"]
        ))
        .await;
    assert_eq!(
        after.body["events"].as_array().unwrap().len(),
        ev.len() - 3,
        "resume after an id"
    );
    let balance: i64 = sqlx::query_scalar("SELECT SUM(milli) FROM credit_ledger WHERE user_id = (SELECT id FROM users WHERE email = 'ada@example.com')")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(
        balance,
        100_000 - 750,
        "three model calls of 250 tokens, a thousandth each"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_turn_leaves_the_last_version_and_a_spent_balance_refuses() {
    let script = Script::default();
    script.replies.lock().unwrap().extend([
        (
            0,
            calls(&[(
                "c1",
                "create_file",
                json!({"path": "half.html", "content": "<h1>Half</h1>\n"}),
            )]),
        ),
        (3000, json!({"role": "assistant", "content": "too late"})),
    ]);
    let (s, c, project, thread) = setup(&script).await;
    let base = format!("/api/v1/projects/{project}/threads/{thread}");
    let wt = s.state().git.worktree_path(&project);
    assert_eq!(
        c.post_empty(&format!("{base}/stop")).await.status,
        StatusCode::CONFLICT,
        "nothing to stop yet"
    );
    let r = c
        .post(
            &format!("{base}/messages"),
            json!({"content": "Start something", "model": "scripted/coder"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    for _ in 0..100 {
        if wt.join("half.html").exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(wt.join("half.html").exists(), "the first call was applied");
    assert_eq!(
        c.post_empty(&format!("{base}/stop")).await.status,
        StatusCode::ACCEPTED
    );
    wait_idle(&c, &project, &thread).await;
    assert!(
        !wt.join("half.html").exists(),
        "a stopped turn's changes are gone"
    );
    assert_eq!(
        c.get(&format!("/api/v1/projects/{project}/versions"))
            .await
            .body["total"],
        1
    );
    let ev = events(&c, &project, &thread).await;
    assert_eq!(ev.last().unwrap()["data"]["status"], "stopped");

    // No credits left: refused before anything starts.
    sqlx::query("INSERT INTO credit_ledger (user_id, milli, reason, created_at) SELECT id, -1000000, 'admin', 0 FROM users WHERE email = 'ada@example.com'")
        .execute(s.pool())
        .await
        .unwrap();
    let r = c
        .post(
            &format!("{base}/messages"),
            json!({"content": "Again", "model": "scripted/coder"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYMENT_REQUIRED, "insufficient_credits"),
        "{}",
        r.text
    );
    assert_eq!(
        script.requests.lock().unwrap().len(),
        2,
        "the model was not asked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hourly_turn_limit_and_the_token_rate_come_from_config() {
    let script = Script::default();
    script
        .replies
        .lock()
        .unwrap()
        .push_back((0, json!({"role": "assistant", "content": "Nothing to do."})));
    let (s, c, project, thread) = setup_with(&script, |c| {
        c.agent.turns_per_hour = 1;
        c.agent.milli_credits_per_token = 4;
    })
    .await;
    let base = format!("/api/v1/projects/{project}/threads/{thread}");
    let r = c
        .post(
            &format!("{base}/messages"),
            json!({"content": "Hello", "model": "scripted/coder"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    wait_idle(&c, &project, &thread).await;
    let r = c
        .post(
            &format!("{base}/messages"),
            json!({"content": "Again", "model": "scripted/coder"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "turn_limit"),
        "{}",
        r.text
    );
    assert!(r.headers.get("retry-after").is_some());
    let balance: i64 = sqlx::query_scalar("SELECT SUM(milli) FROM credit_ledger")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(balance, 100_000 - 250 * 4);
}

/// With a warm container waiting, the turn's check starts the sandbox while
/// the turn holds the project's writer lock: the warm one cannot take the
/// working tree then, so a new container serves and the turn ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_checks_its_work_while_a_warm_sandbox_waits() {
    let script = Script::default();
    script.replies.lock().unwrap().extend([
        (
            0,
            calls(&[(
                "c1",
                "create_file",
                json!({"path": "app2.js", "content": "console.log(2);\n"}),
            )]),
        ),
        (
            0,
            json!({"role": "assistant", "content": "Added a script."}),
        ),
    ]);
    let (s, c, project, thread) = setup_with(&script, |c| c.sandbox.warm_pool = 1).await;
    for _ in 0..600 {
        if s.state().sandboxes.warm_counts().get("static") == Some(&1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        s.state().sandboxes.warm_counts().get("static"),
        Some(&1),
        "a warm static sandbox"
    );
    let r = c
        .post(
            &format!("/api/v1/projects/{project}/threads/{thread}/messages"),
            json!({"content": "Add a script", "model": "scripted/coder"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    wait_idle(&c, &project, &thread).await;
    let ev = events(&c, &project, &thread).await;
    assert_eq!(
        ev.last().unwrap()["data"]["status"],
        "done",
        "{:?}",
        ev.last()
    );
    assert_eq!(
        c.get(&format!("/api/v1/projects/{project}/versions"))
            .await
            .body["total"],
        2
    );
}
