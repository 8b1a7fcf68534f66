//! Server-rendered pages: guards, the signed-in user in the first paint,
//! security headers, and the embedded UI bundle.

use autocrea_e2e::TestServer;
use reqwest::StatusCode;

#[tokio::test]
async fn private_pages_send_visitors_to_sign_in() {
    let s = TestServer::start().await;
    // A fresh install leads everyone to sign-up: the first account is the admin.
    let c = s.browser();
    for path in ["/", "/login", "/admin", "/projects/abc"] {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.headers["location"].to_str().unwrap(), "/signup", "{path}");
    }
    let r = c.get("/signup").await;
    assert!(
        r.text.contains("first-run-signup") && !r.text.contains("Welcome back"),
        "{}",
        r.text
    );
    // Once an account exists, sign-in it is.
    s.user("ada@example.com").await;
    for path in [
        "/",
        "/profile",
        "/admin",
        "/projects/abc",
        "/projects/abc/settings",
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        let to = r.headers["location"].to_str().unwrap();
        assert!(to.starts_with("/login?next="), "{path} -> {to}");
    }
    let r = c.get("/login").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text.contains("Sign in") && r.text.contains("/pkg/autocrea.js"),
        "SSR with the hydration script"
    );
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("'nonce-") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(
        r.text.contains(&format!("nonce=\"{nonce}\"")),
        "inline scripts carry this response's nonce"
    );
    assert_eq!(r.headers["x-frame-options"], "DENY");
    assert!(r.text.contains("Welcome back"));
    let r = c.get("/signup").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        !r.text.contains("first-run-signup"),
        "only a fresh install says so"
    );
    s.stop().await;
}

#[tokio::test]
async fn signed_in_pages_render_the_user_and_admin_page_is_for_admins() {
    let s = TestServer::start().await;
    let admin = s.user("admin@example.com").await;
    let member = s.user("member@example.com").await;
    member
        .patch("/api/v1/me", serde_json::json!({"name": "Mia Member"}))
        .await;

    let r = member.get("/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text.contains("Mia Member"),
        "the first paint shows who is signed in"
    );
    assert!(
        !r.text.contains("href=\"/admin\""),
        "no admin link for members"
    );
    assert_eq!(member.get("/admin").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        member.get("/login").await.status,
        StatusCode::SEE_OTHER,
        "signed-in people skip the sign-in page"
    );

    let r = admin.get("/admin").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("href=\"/admin\""));
    let r = admin.get("/no/such/page").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test]
async fn the_ui_bundle_is_embedded_in_the_binary() {
    assert!(
        autocrea::assets::bundle_present(),
        "run installer/build-frontend.sh before building the server"
    );
    let s = TestServer::start().await;
    let c = s.browser();
    for (path, mime) in [
        ("/pkg/autocrea.js", "javascript"),
        ("/pkg/autocrea_bg.wasm", "application/wasm"),
        ("/assets/main.css", "text/css"),
        ("/assets/favicon.svg", "image/svg+xml"),
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(
            r.headers["content-type"].to_str().unwrap().contains(mime),
            "{path}"
        );
        let etag = r.headers["etag"].to_str().unwrap().to_string();
        let again = c
            .send(
                c.request(reqwest::Method::GET, path)
                    .header("if-none-match", etag),
            )
            .await;
        assert_eq!(
            again.status,
            StatusCode::NOT_MODIFIED,
            "{path} revalidates with its ETag"
        );
    }
    let r = c
        .send(
            c.request(reqwest::Method::GET, "/pkg/autocrea_bg.wasm")
                .header("accept-encoding", "gzip"),
        )
        .await;
    assert_eq!(
        r.headers
            .get("content-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("gzip")
    );
    assert_eq!(c.get("/pkg/nope.js").await.status, StatusCode::NOT_FOUND);
    s.stop().await;
}
