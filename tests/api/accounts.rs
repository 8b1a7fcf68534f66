use autocrea_e2e::{Client, TestServer, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn signup_login_logout_and_replayed_cookie() {
    let s = TestServer::start().await;
    let c = s.browser();
    let r = c
        .post(
            "/api/v1/auth/signup",
            json!({"email": "Ada@Example.com", "name": "Ada Lovelace", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["email"], "ada@example.com");
    assert_eq!(r.body["is_admin"], true, "the first user is the admin");
    assert!(r.body.get("password_hash").is_none());
    let cookies: Vec<_> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("autocrea_session="))
        .expect("session cookie");
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Lax")
            && session.contains("Path=/"),
        "{session}"
    );
    let csrf = cookies
        .iter()
        .find(|c| c.starts_with("autocrea_csrf="))
        .expect("csrf cookie");
    assert!(
        !csrf.contains("HttpOnly"),
        "the UI must read the CSRF cookie"
    );

    assert_eq!(c.get("/api/v1/me").await.body["name"], "Ada Lovelace");
    let first_cookie = c.session_cookie().unwrap();

    // Sign in again: a new session id, never the old one.
    let r = c.login("ada@example.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK);
    let second_cookie = c.session_cookie().unwrap();
    assert_ne!(first_cookie, second_cookie);
    assert!(second_cookie.len() >= 22, "at least 128 bits");

    let r = c.post_empty("/api/v1/auth/logout").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);

    // Replaying either old cookie gets nowhere.
    for old in [first_cookie, second_cookie] {
        let r = c
            .send(
                c.http
                    .get(format!("{}/api/v1/me", s.url))
                    .header("cookie", format!("autocrea_session={old}")),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "replayed cookie must be dead"
        );
        assert_eq!(r.code(), "unauthenticated");
    }
    s.stop().await;
}

#[tokio::test]
async fn second_user_is_not_admin_and_duplicates_and_weak_passwords_are_refused() {
    let s = TestServer::start().await;
    s.user("first@example.com").await;
    let c = s.user("second@example.com").await;
    assert_eq!(c.get("/api/v1/me").await.body["is_admin"], false);

    let other = s.browser();
    let r = other
        .post(
            "/api/v1/auth/signup",
            json!({"email": "SECOND@example.com", "name": "X", "password": PASSWORD}),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "email_taken"));

    for (password, why) in [
        ("short", "at least 8"),
        ("password123", "common"),
        ("aaaaaaaaaaaa", "repeated"),
    ] {
        let r = other
            .post(
                "/api/v1/auth/signup",
                json!({"email": "third@example.com", "name": "X", "password": password}),
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "weak_password"),
            "{password}"
        );
        assert!(r.message().contains(why), "{password}: {}", r.message());
    }
    let r = other
        .post(
            "/api/v1/auth/signup",
            json!({"email": "not-an-email", "name": "X", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );
    assert!(r.message().starts_with("email:"), "{}", r.message());
    s.stop().await;
}

#[tokio::test]
async fn wrong_password_until_throttled() {
    let s = TestServer::start_with(|c| {
        c.login_throttle.max_failures = 3;
        c.login_throttle.lockout_secs = 600;
    })
    .await;
    s.user("ada@example.com").await;
    let c = s.browser();
    for _ in 0..2 {
        let r = c.login("ada@example.com", "wrong password!").await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNAUTHORIZED, "wrong_credentials")
        );
    }
    let r = c.login("ada@example.com", "wrong password!").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts")
    );
    // Now even the right password is refused, with a clear wait.
    let r = c.login("ADA@example.com", PASSWORD).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts")
    );
    assert!(
        r.message().contains("try again in 10 minutes"),
        "{}",
        r.message()
    );
    assert!(
        r.headers
            .get("retry-after")
            .unwrap()
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 500
    );
    // Another account from the same address is not locked yet.
    s.user("bob@example.com").await;
    assert_eq!(
        s.browser().login("bob@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
    s.stop().await;
}

#[tokio::test]
async fn password_change_ends_other_sessions() {
    let s = TestServer::start().await;
    let a = s.user("ada@example.com").await;
    let b = s.browser();
    assert_eq!(
        b.login("ada@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
    let token = a.new_token("script").await;

    let r = a
        .post(
            "/api/v1/me/password",
            json!({"current_password": "nope nope nope", "new_password": "a brand new secret"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "wrong_current_password")
    );
    let r = a
        .post(
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "a brand new secret"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);

    assert_eq!(
        a.get("/api/v1/me").await.status,
        StatusCode::OK,
        "the session that changed it stays"
    );
    assert_eq!(
        b.get("/api/v1/me").await.status,
        StatusCode::UNAUTHORIZED,
        "other sessions end"
    );
    assert_eq!(
        s.with_token(&token).get("/api/v1/me").await.status,
        StatusCode::OK,
        "API tokens are separate credentials"
    );
    assert_eq!(
        s.browser().login("ada@example.com", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.browser()
            .login("ada@example.com", "a brand new secret")
            .await
            .status,
        StatusCode::OK
    );

    let r = a.patch("/api/v1/me", json!({"name": "  Ada K.  "})).await;
    assert_eq!(r.body["name"], "Ada K.");
    s.stop().await;
}

#[tokio::test]
async fn admin_closes_signup() {
    let s = TestServer::start().await;
    let admin = s.user("admin@example.com").await;
    let member = s.user("member@example.com").await;
    let r = member
        .patch("/api/v1/admin/settings", json!({"open_signup": false}))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"));

    let r = admin
        .patch("/api/v1/admin/settings", json!({"open_signup": false}))
        .await;
    assert_eq!(
        (r.status, r.body["open_signup"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    let r = s
        .browser()
        .post(
            "/api/v1/auth/signup",
            json!({"email": "late@example.com", "name": "Late", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "signup_closed")
    );

    let log = admin.get("/api/v1/admin/audit").await;
    let actions: Vec<&str> = log.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"settings.update") && actions.contains(&"user.signup"),
        "{actions:?}"
    );
    assert!(
        log.body["entries"][0]["ip"]
            .as_str()
            .unwrap()
            .starts_with("127."),
        "audit records the address"
    );

    admin
        .patch("/api/v1/admin/settings", json!({"open_signup": true}))
        .await;
    let r = s
        .browser()
        .post(
            "/api/v1/auth/signup",
            json!({"email": "late@example.com", "name": "Late", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    s.stop().await;
}

#[tokio::test]
async fn cross_site_login_is_refused() {
    let s = TestServer::start().await;
    s.user("ada@example.com").await;
    let c: Client = s.browser();
    let rb = c
        .request(reqwest::Method::POST, "/api/v1/auth/login")
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}));
    assert_eq!(c.send(rb).await.status, StatusCode::FORBIDDEN);
    s.stop().await;
}

#[tokio::test]
async fn health_probes() {
    let s = TestServer::start().await;
    let c = s.browser();
    let r = c.get("/healthz").await;
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    assert_eq!(c.get("/readyz").await.status, StatusCode::OK);
    s.pool().close().await;
    assert_eq!(
        c.get("/readyz").await.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "readiness follows the database"
    );
    assert_eq!(c.get("/healthz").await.status, StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn behind_https_cookies_are_secure_and_host_prefixed() {
    let s = TestServer::start_with(|c| c.public_url = Some("https://autocrea.example.com".into()))
        .await;
    let c = s.browser();
    let r = c
        .post(
            "/api/v1/auth/signup",
            json!({"email": "ada@example.com", "name": "Ada", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let cookies: Vec<_> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("__Host-autocrea_session="))
        .expect("__Host- session cookie");
    assert!(
        session.contains("; Secure") && session.contains("Path=/") && !session.contains("Domain"),
        "{session}"
    );
    assert!(cookies
        .iter()
        .any(|c| c.starts_with("__Host-autocrea_csrf=") && c.contains("; Secure")));
    // The plain-HTTP cookie name means nothing here.
    let value = session
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1;
    let rb = c
        .http
        .get(format!("{}/api/v1/me", s.url))
        .header("cookie", format!("autocrea_session={value}"));
    assert_eq!(c.send(rb).await.status, StatusCode::UNAUTHORIZED);
    let rb = c
        .http
        .get(format!("{}/api/v1/me", s.url))
        .header("cookie", format!("__Host-autocrea_session={value}"));
    assert_eq!(c.send(rb).await.status, StatusCode::OK);
    s.stop().await;
}
