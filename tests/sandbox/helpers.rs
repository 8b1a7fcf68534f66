//! Shared by the sandbox tests: servers whose containers are removed at the
//! end, projects, the way into a preview origin, file changes through the
//! git store (as the agent and the editor make them), WebSockets.

use autocrea_core::gitstore::{Author, Content};
pub use autocrea_e2e::Preview;
use autocrea_e2e::{Client, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub async fn project(c: &Client, template: &str) -> String {
    let r = c
        .post(
            "/api/v1/projects",
            json!({ "name": format!("App {template}"), "template": template }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

/// Starts the sandbox and waits until its dev server answers.
pub async fn start_ready(c: &Client, id: &str, wait_secs: u64) -> Value {
    let r = c
        .post_empty(&format!(
            "/api/v1/projects/{id}/sandbox/start?wait_secs={wait_secs}"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "ready", "sandbox not ready: {}", r.body);
    r.body
}

pub async fn wait_for(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while started.elapsed() < limit {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("timed out after {limit:?} waiting for {what}");
}

/// Reads text messages until one contains `needle`.
pub async fn ws_until<S>(ws: &mut S, needle: &str, limit: Duration) -> String
where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    use futures_util::StreamExt;
    let mut seen = String::new();
    let found = tokio::time::timeout(limit, async {
        while let Some(Ok(msg)) = ws.next().await {
            let text = match msg {
                tokio_tungstenite::tungstenite::Message::Text(t) => t.to_string(),
                tokio_tungstenite::tungstenite::Message::Binary(b) => {
                    String::from_utf8_lossy(&b).into_owned()
                }
                _ => continue,
            };
            seen.push_str(&text);
            if seen.contains(needle) {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(found, "no message with {needle:?}; got {seen:?}");
    seen
}

/// Changes a file as the agent and the editor do: a commit through the git
/// store, which updates the working tree the sandbox mounts.
pub fn write_file(s: &TestServer, id: &str, path: &str, text: &str) {
    let git = s.state().git.store();
    let expected = match git.read(id, None, path) {
        Ok((Content::File { entry, .. }, _)) => Some(entry.sha),
        _ => None,
    };
    let author = Author {
        name: "Test".into(),
        email: "test@example.com".into(),
    };
    git.write_file(
        id,
        None,
        None,
        path,
        Some(text.as_bytes()),
        expected.as_deref(),
        &format!("Change {path}"),
        &author,
    )
    .expect("file written");
}

/// `docker inspect` of a container, as JSON.
pub fn inspect(container: &str) -> Value {
    let out = std::process::Command::new("docker")
        .args(["inspect", container])
        .output()
        .unwrap();
    assert!(out.status.success(), "docker inspect {container}");
    serde_json::from_slice::<Value>(&out.stdout).unwrap()[0].clone()
}

/// Runs a command in a container as root, around the appliance (to play a
/// crash or read state a user could not).
pub fn docker_exec(container: &str, cmd: &[&str]) -> std::process::Output {
    std::process::Command::new("docker")
        .arg("exec")
        .arg(container)
        .args(cmd)
        .output()
        .unwrap()
}

/// `docker network inspect` of a network, as JSON (an array of one).
pub fn inspect_network(name: &str) -> Value {
    let out = std::process::Command::new("docker")
        .args(["network", "inspect", name])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `command` in the project's sandbox through the exec API; its output.
pub async fn exec_output(c: &Client, id: &str, command: &str, timeout_secs: u64) -> String {
    let r = c
        .post(
            &format!("/api/v1/projects/{id}/sandbox/exec"),
            json!({"command": command, "timeout_secs": timeout_secs}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["output"].as_str().unwrap_or_default().to_string()
}
