//! `autocrea serve` with its supervised llm-worker and the real small model:
//! the `/v1` gateway streams from the local model; `kill -9` of the worker
//! mid-stream gives the client a clear error, the server stays up, the
//! worker comes back, and the next request succeeds. Usage is recorded.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_autocrea");

struct Server {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(dir: &Path, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(BIN)
        .args(args)
        .env("AUTOCREA_CONFIG", dir.join("autocrea.toml"))
        .env("AUTOCREA_SANDBOX", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{args:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// A server in a fresh data folder with one admin and their API token.
fn start() -> (Server, String) {
    let dir = tempfile::tempdir().unwrap();
    let models = Path::new(&manifest_dir()).join("../../models/models.toml");
    std::fs::write(
        dir.path().join("autocrea.toml"),
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n[llm]\nmodels = \"{}\"\nthreads = 2\nslots = 2\ncontext = 2048\n",
            dir.path().join("data").display(),
            models.display()
        ),
    )
    .unwrap();
    run(dir.path(), &["user", "create", "--email", "ada@example.com", "--name", "Ada", "--admin", "--password-stdin"], "a long enough passphrase 42\n");
    let token = run(dir.path(), &["token", "create", "--email", "ada@example.com", "--name", "t"], "")
        .trim()
        .to_string();
    let mut child = Command::new(BIN)
        .arg("serve")
        .env("AUTOCREA_CONFIG", dir.path().join("autocrea.toml"))
        .env("AUTOCREA_SANDBOX", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line
        .split("listening on ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("serve prints its address")
        .to_string();
    (Server { child, url, _dir: dir }, token)
}

async fn worker_status(http: &reqwest::Client, s: &Server, token: &str) -> Value {
    http.get(format!("{}/api/v1/admin/llm", s.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["worker"]
        .clone()
}

async fn wait_ready(http: &reqwest::Client, s: &Server, token: &str) -> Value {
    let started = Instant::now();
    loop {
        let w = worker_status(http, s, token).await;
        if w["state"] == "ready" {
            return w;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "the worker never became ready: {w}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn ask(max_tokens: u32, stream: bool) -> Value {
    json!({ "messages": [{ "role": "user", "content": "Tell me a story." }], "max_tokens": max_tokens,
            "temperature": 0, "stream": stream })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_survives_a_killed_worker_and_serves_after_the_restart() {
    let (s, token) = start();
    let http = reqwest::Client::new();
    let status = wait_ready(&http, &s, &token).await;
    assert_eq!(status["model"], "gemma-3-270m");
    let pid = status["pid"].as_u64().expect("a running worker has a pid") as i32;

    // The gateway lists the local model and answers with it (token auth).
    let models: Value = http.get(format!("{}/v1/models", s.url)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(models["data"][0]["id"], "gemma-3-270m");
    let r: Value = http.post(format!("{}/v1/chat/completions", s.url)).bearer_auth(&token)
        .json(&ask(8, false)).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["model"], "gemma-3-270m");
    assert!(r["usage"]["completion_tokens"].as_u64().unwrap() > 0, "{r}");

    // A long stream; the worker is killed once tokens flow.
    let mut banned = ask(1500, true);
    banned["logit_bias"] = json!({ "1": -100, "106": -100 });
    let mut response = http.post(format!("{}/v1/chat/completions", s.url)).bearer_auth(&token)
        .json(&banned).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut body = String::new();
    while body.matches("data: ").count() < 3 {
        body.push_str(&String::from_utf8_lossy(&response.chunk().await.unwrap().expect("tokens flow")));
    }
    let killed = Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
    assert!(killed.success());
    let started = Instant::now();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(30), response.chunk()).await.expect("the stream ends").unwrap() {
        body.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(!body.contains("[DONE]"), "a cut answer is not presented as complete");
    let last: Value = serde_json::from_str(body.trim_end().rsplit("data: ").next().unwrap()).unwrap();
    let message = last["error"]["message"].as_str().expect("the stream ends with an error event");
    assert!(message.contains("local model worker") && message.contains("restarting"), "{message}");

    // The server stays up and says what happened; the worker comes back.
    let r = http.get(format!("{}/healthz", s.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let status = wait_ready(&http, &s, &token).await;
    assert!(status["restarts"].as_u64().unwrap() >= 1, "{status}");
    assert!(status["last_exit"].as_str().unwrap().contains("signal 9"), "{status}");
    assert_ne!(status["pid"].as_u64().unwrap() as i32, pid);
    let r: Value = http.post(format!("{}/v1/chat/completions", s.url)).bearer_auth(&token)
        .json(&ask(8, false)).send().await.unwrap().json().await.unwrap();
    assert!(r["choices"][0]["message"]["content"].is_string(), "the next request succeeds: {r}");

    // Usage: every call was recorded against the user (failed one included).
    let usage: Value = http.get(format!("{}/api/v1/me/usage", s.url)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(usage[0]["provider"], "local");
    assert!(usage[0]["requests"].as_i64().unwrap() >= 3, "{usage}");
    assert!(usage[0]["completion_tokens"].as_i64().unwrap() > 0);
}

/// The package folder of this checkout, read when the test runs: the build
/// cache is shared between checkouts, so a path baked in at compile time may
/// name another one.
fn manifest_dir() -> String {
    std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")
}
