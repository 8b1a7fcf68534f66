//! The `/v1` gateway with a provider: the admin's policy, a user's own key
//! (encrypted, never shown, usable only by its owner), answers whole and
//! streamed, and usage per user and project.

use autocrea_e2e::TestServer;
use axum::extract::{Request, State};
use axum::response::IntoResponse;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// An OpenAI-compatible vendor that records the Authorization header and
/// body of each request and answers "Hello!" (streamed when asked).
async fn vendor() -> (Seen, String) {
    async fn answer(State(seen): State<Seen>, req: Request) -> axum::response::Response {
        let auth = req
            .headers()
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body: Value = serde_json::from_slice(
            &axum::body::to_bytes(req.into_body(), 1 << 20)
                .await
                .unwrap(),
        )
        .unwrap();
        seen.lock().unwrap().push((auth, body.clone()));
        if body["stream"] == true {
            let chunk = |delta: Value, finish: Value| {
                json!({ "id": "c", "object": "chat.completion.chunk", "created": 1,
                "model": body["model"], "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }] })
            };
            let text = format!(
                "data: {}\n\ndata: {}\n\ndata: {}\n\ndata: {}\n\ndata: [DONE]\n\n",
                chunk(json!({ "role": "assistant", "content": "" }), Value::Null),
                chunk(json!({ "content": "Hel" }), Value::Null),
                chunk(json!({ "content": "lo!" }), json!("stop")),
                json!({ "id": "c", "object": "chat.completion.chunk", "created": 1, "model": body["model"], "choices": [],
                    "usage": { "prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14 } })
            );
            return ([("content-type", "text/event-stream")], text).into_response();
        }
        axum::Json(json!({ "id": "c", "object": "chat.completion", "created": 1, "model": body["model"],
            "choices": [{ "index": 0, "message": { "role": "assistant", "content": "Hello!" }, "finish_reason": "stop" }],
            "usage": { "prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12 } }))
        .into_response()
    }
    let seen: Seen = Default::default();
    let app = axum::Router::new()
        .route("/v1/chat/completions", axum::routing::post(answer))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (seen, url)
}

fn policy(url: &str, enabled: bool) -> Value {
    json!({ "local": true, "providers": [
        { "id": "acme", "kind": "openai", "base_url": url, "enabled": enabled, "models": ["m1", "m2"] },
        { "id": "anthropic", "kind": "anthropic", "base_url": "https://api.anthropic.com", "enabled": false, "models": ["claude-x"] } ] })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_keys_policy_answers_and_usage() {
    let (seen, url) = vendor().await;
    let s = TestServer::start().await;
    let admin = s.user("admin@example.com").await;
    let alice = s.user("alice@example.com").await;
    let bob = s.user("bob@example.com").await;

    // Only admins set the policy; a bad one is refused whole.
    let put = |c: &autocrea_e2e::Client, path: &str, body: Value| {
        let rb = c.request(Method::PUT, path).json(&body);
        let c = c.clone();
        async move { c.send(rb).await }
    };
    assert_eq!(
        put(&alice, "/api/v1/admin/llm/policy", policy(&url, true))
            .await
            .status,
        403
    );
    let mut bad = policy(&url, true);
    bad["providers"][0]["base_url"] = json!("ftp://x");
    let r = put(&admin, "/api/v1/admin/llm/policy", bad).await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (400, "invalid_input"),
        "{}",
        r.text
    );
    assert_eq!(
        put(&admin, "/api/v1/admin/llm/policy", policy(&url, true))
            .await
            .status,
        200
    );
    let providers = alice.get("/api/v1/llm/providers").await.body;
    assert_eq!(
        providers["providers"].as_array().unwrap().len(),
        1,
        "disabled providers are not offered: {providers}"
    );
    assert_eq!(providers["providers"][0]["has_key"], false);

    // Without a key the provider's models are not listed and cannot be used.
    let token = alice.new_token("gateway").await;
    let alice_api = s.with_token(&token);
    let models = alice_api.get("/v1/models").await.body;
    assert!(!models.to_string().contains("acme/m1"), "{models}");
    let ask = |model: &str, stream: bool| json!({ "model": model, "messages": [{ "role": "user", "content": "Hi" }], "stream": stream });
    let r = alice_api
        .post("/v1/chat/completions", ask("acme/m1", false))
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (400, "no_api_key"),
        "{}",
        r.text
    );
    assert!(r.message().contains("profile"));

    // Alice stores her key: only its last four characters ever come back.
    let key = "sk-alice-secret-key-7421";
    let r = put(
        &alice,
        "/api/v1/me/provider-keys/acme",
        json!({ "key": key }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["last4"], "7421");
    assert!(!r.text.contains("secret"));
    let listed = alice.get("/api/v1/me/provider-keys").await;
    assert!(
        listed.text.contains("7421") && !listed.text.contains("secret"),
        "{}",
        listed.text
    );
    let r = put(
        &alice,
        "/api/v1/me/provider-keys/nope",
        json!({ "key": key }),
    )
    .await;
    assert_eq!(r.status, 404);
    let r = put(
        &alice,
        "/api/v1/me/provider-keys/acme",
        json!({ "key": "short" }),
    )
    .await;
    assert_eq!(r.status, 400);
    // At rest it is encrypted.
    let (ct, last4): (Vec<u8>, String) =
        sqlx::query_as("SELECT ciphertext, last4 FROM provider_keys")
            .fetch_one(s.pool())
            .await
            .unwrap();
    assert_eq!(last4, "7421");
    assert!(
        !ct.windows(10).any(|w| w == &key.as_bytes()[..10]),
        "the key is not stored in clear"
    );
    assert!(std::fs::metadata(s.data_dir().join("master.key")).is_ok());

    // Through the gateway, charged to her project.
    let project = alice.new_project("Chatty").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let models = alice_api.get("/v1/models").await.body;
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["acme/m1", "acme/m2"]);
    let rb = alice_api
        .request(Method::POST, "/v1/chat/completions")
        .header("X-Autocrea-Project", &project)
        .json(&ask("acme/m1", false));
    let r = alice_api.send(rb).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["choices"][0]["message"]["content"], "Hello!");
    assert_eq!(r.body["model"], "acme/m1");
    assert_eq!(r.body["usage"]["total_tokens"], 12);
    let (auth, body) = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        auth,
        format!("Bearer {key}"),
        "the vendor gets her decrypted key"
    );
    assert_eq!(body["model"], "m1");
    let rb = alice_api
        .request(Method::POST, "/v1/chat/completions")
        .header("X-Autocrea-Project", &project)
        .json(&ask("acme/m1", true));
    let r = alice_api.send(rb).await;
    assert_eq!(r.headers["content-type"], "text/event-stream");
    let data: Vec<&str> = r
        .text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .collect();
    assert_eq!(data.last(), Some(&"[DONE]"));
    let text: String = data
        .iter()
        .filter(|d| **d != "[DONE]")
        .map(|d| {
            serde_json::from_str::<Value>(d).unwrap()["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(text, "Hello!");

    // Usage: per user and project, with tokens.
    let mut usage = Value::Null;
    for _ in 0..50 {
        usage = alice.get("/api/v1/me/usage").await.body;
        if usage[0]["requests"] == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(usage.as_array().unwrap().len(), 1, "{usage}");
    assert_eq!(usage[0]["project_id"], json!(project));
    assert_eq!(usage[0]["model"], "acme/m1");
    assert_eq!(
        (
            usage[0]["requests"].as_i64(),
            usage[0]["prompt_tokens"].as_i64(),
            usage[0]["completion_tokens"].as_i64()
        ),
        (Some(2), Some(21), Some(5))
    );
    let all = admin.get("/api/v1/admin/usage").await.body;
    assert!(all.to_string().contains("alice"), "{all}");
    assert_eq!(bob.get("/api/v1/me/usage").await.body, json!([]));

    // Keys are their owner's: Bob cannot use or delete Alice's, nor charge her project.
    let bob_api = s.with_token(&bob.new_token("b").await);
    let r = bob_api
        .post("/v1/chat/completions", ask("acme/m1", false))
        .await;
    assert_eq!(r.code(), "no_api_key");
    assert_eq!(
        bob.delete("/api/v1/me/provider-keys/acme").await.status,
        404
    );
    let rb = bob_api
        .request(Method::POST, "/v1/chat/completions")
        .header("X-Autocrea-Project", &project)
        .json(&ask("acme/m1", false));
    assert_eq!(bob_api.send(rb).await.status, 400);
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "nothing of Bob's reached the vendor"
    );

    // Unknown models and switched-off providers are 404 in OpenAI's shape.
    let r = alice_api
        .post("/v1/chat/completions", ask("acme/m9", false))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "model_not_found"));
    assert_eq!(
        put(&admin, "/api/v1/admin/llm/policy", policy(&url, false))
            .await
            .status,
        200
    );
    let r = alice_api
        .post("/v1/chat/completions", ask("acme/m1", false))
        .await;
    assert_eq!(r.status, 404);
    // The local model is off in these test servers: 503 with the reason.
    let r = alice_api
        .post(
            "/v1/chat/completions",
            json!({ "messages": [{ "role": "user", "content": "Hi" }] }),
        )
        .await;
    assert_eq!(r.status, 503);
    assert!(r.message().contains("turned off"), "{}", r.text);

    // Alice deletes her key; the audit log has both events.
    assert_eq!(
        alice.delete("/api/v1/me/provider-keys/acme").await.status,
        204
    );
    assert_eq!(alice.get("/api/v1/me/provider-keys").await.body, json!([]));
    let audit = admin.get("/api/v1/admin/audit").await.text;
    assert!(audit.contains("provider_key.stored") && audit.contains("provider_key.deleted"));
    assert!(!audit.contains("secret-key"));
    s.stop().await;
}
