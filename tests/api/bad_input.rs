use autocrea_e2e::{TestServer, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn oversized_malformed_and_wrongly_typed_bodies() {
    let s = TestServer::start_with(|c| c.max_body_bytes = 64 * 1024).await;
    let c = s.user("ada@example.com").await;

    let big = "x".repeat(100 * 1024);
    let r = c
        .post(
            "/api/v1/projects",
            json!({"name": "big", "description": big}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large")
    );

    let rb = c
        .request(reqwest::Method::POST, "/api/v1/projects")
        .header("content-type", "application/json")
        .body("{\"name\": ");
    let r = c.send(rb).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "malformed_json")
    );
    assert!(
        r.message().contains("EOF") || r.message().contains("line 1"),
        "the parser's words: {}",
        r.message()
    );

    let r = c.post("/api/v1/projects", json!({"name": 42})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );
    assert!(r.message().contains("name"), "{}", r.message());

    let r = c
        .post("/api/v1/projects", json!({"description": "no name"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // The name may be left out when a prompt is given; without one it is
    // named as the field at fault.
    assert!(r.message().starts_with("name: "), "{}", r.message());

    let rb = c
        .request(reqwest::Method::POST, "/api/v1/projects")
        .header("content-type", "text/plain")
        .body("{}");
    assert_eq!(c.send(rb).await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let r = c.get("/api/v1/nope").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "no_such_route")
    );
    let r = c
        .send(c.request(reqwest::Method::PUT, "/api/v1/projects"))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    assert!(
        c.get("/api/v1/projects").await.body["projects"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing was created"
    );
    s.stop().await;
}

#[tokio::test]
async fn unicode_and_very_long_names() {
    let s = TestServer::start().await;
    let c = s.user("zoë@example.com").await;
    for name in [
        "Zoë's café ☕",
        "日本語のアプリ",
        "🚀🚀🚀",
        "right-to-left עברית",
        &"é".repeat(100),
    ] {
        let r = c.post("/api/v1/projects", json!({"name": name})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.text);
        assert_eq!(r.body["name"], name);
        let slug = r.body["slug"].as_str().unwrap();
        assert!(
            !slug.is_empty()
                && slug
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{slug}"
        );
        let got = c
            .get(&format!(
                "/api/v1/projects/{}",
                r.body["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(got.body["name"], name, "stored verbatim");
    }
    for (name, why) in [
        (&*"é".repeat(101), "at most 100"),
        ("   ", "must not be empty"),
        ("tab\u{7}bell", "control"),
    ] {
        let r = c.post("/api/v1/projects", json!({"name": name})).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "invalid_input")
        );
        assert!(r.message().contains(why), "{}", r.message());
    }
    let r = c
        .patch("/api/v1/me", json!({"name": "x".repeat(101)}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = c
        .post("/api/v1/me/tokens", json!({"name": "t".repeat(101)}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = s.browser().post("/api/v1/auth/signup", json!({"email": format!("{}@example.com", "a".repeat(300)), "name": "A", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    s.stop().await;
}

#[tokio::test]
async fn sql_metacharacters_in_every_text_field() {
    let s = TestServer::start().await;
    let evil = "Robert'); DROP TABLE users; -- \" % _ \\ ; /* */";
    let c = s.browser();
    let email = "o'brien+test@example.com";
    let r = c
        .post(
            "/api/v1/auth/signup",
            json!({"email": email, "name": evil, "password": evil}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["name"], evil);
    assert_eq!(s.browser().login(email, evil).await.status, StatusCode::OK);
    assert_eq!(
        s.browser().login("' OR '1'='1", "' OR '1'='1").await.status,
        StatusCode::UNAUTHORIZED
    );

    let p = c
        .post(
            "/api/v1/projects",
            json!({"name": evil, "description": evil}),
        )
        .await;
    assert_eq!(
        (p.body["name"].as_str(), p.body["description"].as_str()),
        (Some(evil), Some(evil))
    );
    let id = p.body["id"].as_str().unwrap();
    assert_eq!(
        c.patch(
            &format!("/api/v1/projects/{id}"),
            json!({"name": evil, "description": evil})
        )
        .await
        .status,
        StatusCode::OK
    );
    for q in ["'", "%", "_", "\\", "' OR 1=1 --", evil] {
        let r = c.get(&format!("/api/v1/projects?q={}", urlencode(q))).await;
        assert_eq!(r.status, StatusCode::OK, "{q}");
    }
    let r = c
        .get(&format!("/api/v1/projects?q={}", urlencode("DROP TABLE")))
        .await;
    assert_eq!(
        r.body["projects"].as_array().unwrap().len(),
        1,
        "found literally"
    );
    let r = c
        .get(&format!("/api/v1/projects?q={}", urlencode("%")))
        .await;
    assert_eq!(
        r.body["projects"].as_array().unwrap().len(),
        1,
        "% is a literal percent sign here"
    );
    let r = c
        .get(&format!("/api/v1/projects/{}", urlencode("' OR '1'='1")))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        c.post("/api/v1/me/tokens", json!({"name": evil}))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        c.patch("/api/v1/me", json!({"name": evil})).await.body["name"],
        evil
    );

    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(users, 1, "the users table is intact");
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(check, "ok");
    s.stop().await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
