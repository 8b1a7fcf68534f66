use autocrea_e2e::TestServer;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn tokens_work_without_csrf_and_die_when_revoked() {
    let s = TestServer::start().await;
    let c = s.user("ada@example.com").await;
    let r = c.post("/api/v1/me/tokens", json!({"name": "ci"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let (id, token) = (
        r.body["id"].as_i64().unwrap(),
        r.body["token"].as_str().unwrap().to_string(),
    );
    assert!(token.starts_with("acr_") && token.len() >= 40);

    let list = c.get("/api/v1/me/tokens").await;
    assert_eq!(list.body["tokens"][0]["name"], "ci");
    assert!(!list.text.contains(&token), "the secret is shown once only");

    let t = s.with_token(&token);
    assert_eq!(t.get("/api/v1/me").await.body["email"], "ada@example.com");
    let r = t
        .post("/api/v1/projects", json!({"name": "From a script"}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "bearer requests need no CSRF token: {}",
        r.text
    );
    let lower = s.send_with_scheme(&token, "token").await;
    assert_eq!(lower, StatusCode::OK, "`Authorization: token` works too");

    // The database keeps a hash only.
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM api_tokens")
        .fetch_all(s.pool())
        .await
        .unwrap();
    assert!(stored.iter().all(|h| h.len() == 64 && h != &token));

    assert_eq!(
        c.delete(&format!("/api/v1/me/tokens/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    let r = t.get("/api/v1/me").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    assert_eq!(
        c.delete(&format!("/api/v1/me/tokens/{id}")).await.status,
        StatusCode::NOT_FOUND
    );

    // Another user cannot revoke my token.
    let mine = c
        .post("/api/v1/me/tokens", json!({"name": "second"}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let other = s.user("bob@example.com").await;
    assert_eq!(
        other
            .delete(&format!("/api/v1/me/tokens/{mine}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.get("/api/v1/me/tokens").await.body["tokens"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    s.stop().await;
}

trait SchemeProbe {
    async fn send_with_scheme(&self, token: &str, scheme: &str) -> StatusCode;
}

impl SchemeProbe for TestServer {
    async fn send_with_scheme(&self, token: &str, scheme: &str) -> StatusCode {
        reqwest::Client::new()
            .get(format!("{}/api/v1/me", self.url))
            .header("authorization", format!("{scheme} {token}"))
            .send()
            .await
            .unwrap()
            .status()
    }
}

#[tokio::test]
async fn csrf_is_required_on_cookie_authenticated_changes() {
    let s = TestServer::start().await;
    let c = s.user("ada@example.com").await;
    let bare = c.without_csrf();
    let r = bare.post("/api/v1/projects", json!({"name": "x"})).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "csrf_failed"));
    let rb = bare
        .request(reqwest::Method::POST, "/api/v1/projects")
        .header("X-CSRF-Token", "forged")
        .json(&json!({"name": "x"}));
    assert_eq!(bare.send(rb).await.status, StatusCode::FORBIDDEN);
    for (method, path) in [
        ("DELETE", "/api/v1/me/tokens/1"),
        ("PATCH", "/api/v1/me"),
        ("POST", "/api/v1/auth/logout"),
    ] {
        let rb = bare.request(method.parse().unwrap(), path).json(&json!({}));
        assert_eq!(
            bare.send(rb).await.status,
            StatusCode::FORBIDDEN,
            "{method} {path}"
        );
    }
    assert_eq!(
        c.get("/api/v1/me").await.status,
        StatusCode::OK,
        "logout without CSRF did not end the session"
    );
    assert!(
        bare.get("/api/v1/projects").await.body["projects"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing was created"
    );
    assert_eq!(
        c.post("/api/v1/projects", json!({"name": "x"}))
            .await
            .status,
        StatusCode::CREATED
    );
    s.stop().await;
}
