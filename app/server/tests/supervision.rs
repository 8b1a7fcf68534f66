//! `autocrea serve` with its supervised llm-worker and the real small model:
//! the `/v1` gateway streams from the local model; `kill -9` of the worker
//! mid-stream gives the client a clear error, the server stays up, the
//! worker comes back, and the next request succeeds. Usage is recorded.

mod common;

use common::appliance::{start, wait_ready};
use serde_json::{json, Value};
use std::process::Command;
use std::time::{Duration, Instant};

fn ask(max_tokens: u32, stream: bool) -> Value {
    json!({ "messages": [{ "role": "user", "content": "Tell me a story." }], "max_tokens": max_tokens,
            "temperature": 0, "stream": stream })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_survives_a_killed_worker_and_serves_after_the_restart() {
    let (s, token) = start("slots = 2\ncontext = 2048", "");
    let http = reqwest::Client::new();
    let status = wait_ready(&http, &s, &token).await;
    assert_eq!(status["model"], "gemma-3-270m");
    let pid = status["pid"].as_u64().expect("a running worker has a pid") as i32;

    // The gateway lists the local model and answers with it (token auth).
    let models: Value = http
        .get(format!("{}/v1/models", s.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["data"][0]["id"], "gemma-3-270m");
    let r: Value = http
        .post(format!("{}/v1/chat/completions", s.url))
        .bearer_auth(&token)
        .json(&ask(8, false))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["model"], "gemma-3-270m");
    assert!(r["usage"]["completion_tokens"].as_u64().unwrap() > 0, "{r}");

    // A long stream; the worker is killed once tokens flow.
    let mut banned = ask(1500, true);
    banned["logit_bias"] = json!({ "1": -100, "106": -100 });
    let mut response = http
        .post(format!("{}/v1/chat/completions", s.url))
        .bearer_auth(&token)
        .json(&banned)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = String::new();
    while body.matches("data: ").count() < 3 {
        body.push_str(&String::from_utf8_lossy(
            &response.chunk().await.unwrap().expect("tokens flow"),
        ));
    }
    let killed = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(30), response.chunk())
        .await
        .expect("the stream ends")
        .unwrap()
    {
        body.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        !body.contains("[DONE]"),
        "a cut answer is not presented as complete"
    );
    let last: Value =
        serde_json::from_str(body.trim_end().rsplit("data: ").next().unwrap()).unwrap();
    let message = last["error"]["message"]
        .as_str()
        .expect("the stream ends with an error event");
    assert!(
        message.contains("local model worker") && message.contains("restarting"),
        "{message}"
    );

    // The server stays up and says what happened; the worker comes back.
    let r = http.get(format!("{}/healthz", s.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let status = wait_ready(&http, &s, &token).await;
    assert!(status["restarts"].as_u64().unwrap() >= 1, "{status}");
    assert!(
        status["last_exit"].as_str().unwrap().contains("signal 9"),
        "{status}"
    );
    assert_ne!(status["pid"].as_u64().unwrap() as i32, pid);
    let r: Value = http
        .post(format!("{}/v1/chat/completions", s.url))
        .bearer_auth(&token)
        .json(&ask(8, false))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        r["choices"][0]["message"]["content"].is_string(),
        "the next request succeeds: {r}"
    );

    // Usage: every call was recorded against the user (failed one included).
    // A call's usage row is written just after its answer: wait for it a little.
    let mut usage = Value::Null;
    for _ in 0..50 {
        usage = http
            .get(format!("{}/api/v1/me/usage", s.url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if usage[0]["requests"].as_i64().unwrap_or(0) >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(usage[0]["provider"], "local");
    assert!(usage[0]["requests"].as_i64().unwrap() >= 3, "{usage}");
    assert!(usage[0]["completion_tokens"].as_i64().unwrap() > 0);
}
