//! Walks every API route of the router (from its OpenAPI document, which the
//! router is built from) against tests/authz_matrix.toml.

use autocrea_core::agent::store;
use autocrea_e2e::{Client, TestServer, PASSWORD};
use reqwest::Method;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Deserialize)]
struct Matrix {
    route: Vec<Route>,
    gitea: Vec<Route>,
}

#[derive(Deserialize)]
struct Route {
    method: String,
    path: String,
    body: Option<String>,
    resource: Option<String>,
    query: Option<String>,
    expect: BTreeMap<String, u16>,
}

const ROLES: [&str; 4] = ["anonymous", "other", "owner", "admin"];

fn matrix() -> Matrix {
    let text = std::fs::read_to_string(format!("{}/authz_matrix.toml", manifest_dir())).unwrap();
    toml::from_str(&text).expect("authz_matrix.toml parses")
}

#[test]
fn every_router_route_is_in_the_matrix() {
    let (_router, doc) = autocrea::router::api();
    let mut in_router = BTreeSet::new();
    for (path, item) in doc.paths.paths.iter() {
        for (method, op) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PATCH", &item.patch),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
        ] {
            if op.is_some() {
                in_router.insert((method.to_string(), path.clone()));
            }
        }
    }
    let m = matrix();
    let in_matrix: BTreeSet<_> = m
        .route
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    let missing: Vec<_> = in_router.difference(&in_matrix).collect();
    let stale: Vec<_> = in_matrix.difference(&in_router).collect();
    assert!(
        missing.is_empty(),
        "routes missing from tests/authz_matrix.toml: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "matrix routes the router does not have: {stale:?}"
    );
    for r in &m.route {
        let roles: BTreeSet<_> = r.expect.keys().map(String::as_str).collect();
        assert_eq!(
            roles,
            ROLES.into_iter().collect(),
            "{} {} must list every role",
            r.method,
            r.path
        );
    }
}

#[tokio::test]
async fn every_role_gets_the_expected_status_on_every_route() {
    // The "remote" fixture links to a closed port on loopback over http.
    let s = TestServer::start_with(|c| {
        c.remote.allow_http = true;
        c.remote.allow_loopback = true;
    })
    .await;
    s.user("admin@example.com").await;
    s.user("owner@example.com").await;
    s.user("other@example.com").await;
    let emails = [
        ("other", "other@example.com"),
        ("owner", "owner@example.com"),
        ("admin", "admin@example.com"),
    ];
    // Fixtures are made with a token: the matrix's own logout and password
    // change requests end sessions, never tokens.
    let owner = s.with_token(
        &signed_in(&s, "owner@example.com")
            .await
            .new_token("fixtures")
            .await,
    );
    let mut failures = Vec::new();
    let mut fresh = 0;

    for route in matrix().route {
        for role in ROLES {
            // A fresh session per request: logout and password change end sessions.
            let client = match emails.iter().find(|(r, _)| *r == role) {
                Some((_, email)) => signed_in(&s, email).await,
                None => s.browser(),
            };
            let path = match route.resource.as_deref() {
                Some("project") => {
                    let id = owner.new_project("Owned").await["id"]
                        .as_str()
                        .unwrap()
                        .to_string();
                    let sha = owner
                        .get(&format!("/api/v1/projects/{id}/versions"))
                        .await
                        .body["versions"][0]["sha"]
                        .as_str()
                        .unwrap()
                        .to_string();
                    owner
                        .post(
                            &format!("/api/v1/projects/{id}/branches"),
                            serde_json::json!({"name": "feature"}),
                        )
                        .await;
                    let path = route
                        .path
                        .replace("{id}", &id)
                        .replace("{sha}", &sha)
                        .replace("{name}", "feature");
                    match &route.query {
                        Some(q) => format!("{path}?{}", q.replace("{sha}", &sha)),
                        None => path,
                    }
                }
                Some("env_var") => {
                    // A project of the owner's with one production variable, `feature`.
                    let id = owner.new_project("With env").await["id"]
                        .as_str()
                        .unwrap()
                        .to_string();
                    let r = owner
                        .send(
                            owner
                                .request(
                                    reqwest::Method::PUT,
                                    &format!("/api/v1/projects/{id}/env/production/feature"),
                                )
                                .json(&serde_json::json!({"value": "a value of the owner"})),
                        )
                        .await;
                    assert_eq!(r.status, reqwest::StatusCode::OK, "{}", r.text);
                    route
                        .path
                        .replace("{id}", &id)
                        .replace("{scope}", "production")
                        .replace("{name}", "feature")
                }
                Some("thread") => {
                    let id = owner.new_project("Chatty").await["id"]
                        .as_str()
                        .unwrap()
                        .to_string();
                    let t = owner
                        .post(
                            &format!("/api/v1/projects/{id}/threads"),
                            serde_json::json!({"title": "t"}),
                        )
                        .await;
                    assert_eq!(t.status, 201, "{}", t.text);
                    let thread_id = t.body["id"].as_str().unwrap().to_string();
                    // A message and a turn of the owner's, stored directly: no model runs here.
                    let thread = store::thread(s.pool(), &id, &thread_id).await.unwrap();
                    let turn = store::begin_turn(
                        s.pool(),
                        &thread,
                        thread.created_by,
                        "quick",
                        "local",
                        None,
                    )
                    .await
                    .unwrap();
                    store::end_turn(s.pool(), &turn.id, store::TurnStatus::Done, None, None)
                        .await
                        .unwrap();
                    let message = store::add_message(
                        s.pool(),
                        &thread_id,
                        store::NewMessage {
                            role: store::Role::User,
                            content: "Hi".into(),
                            turn_id: Some(turn.id.clone()),
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap();
                    let path = route
                        .path
                        .replace("{id}", &id)
                        .replace("{thread}", &thread_id)
                        .replace("{message}", &message.id)
                        .replace("{turn}", &turn.id);
                    match &route.query {
                        Some(q) => format!("{path}?{q}"),
                        None => path,
                    }
                }
                Some("deployment") => {
                    // Two deployments of a static project: the first one is
                    // built and superseded (so it may be deleted and promoted).
                    let id = owner.new_project("Published").await["id"]
                        .as_str()
                        .unwrap()
                        .to_string();
                    let first = publish_and_wait(&owner, &id).await;
                    publish_and_wait(&owner, &id).await;
                    let label = owner.get(&format!("/api/v1/projects/{id}/site")).await.body
                        ["name"]
                        .as_str()
                        .unwrap()
                        .to_string();
                    let path = route
                        .path
                        .replace("{id}", &id)
                        .replace("{deployment}", &first)
                        .replace("{label}", &label);
                    match &route.query {
                        Some(q) => format!("{path}?{q}"),
                        None => path,
                    }
                }
                Some("remote") => {
                    let id = owner.new_project("Linked").await["id"]
                        .as_str()
                        .unwrap()
                        .to_string();
                    let r = owner
                        .send(
                            owner
                                .request(Method::PUT, &format!("/api/v1/projects/{id}/remote"))
                                .json(&serde_json::json!({"url": "http://127.0.0.1:1/none.git"})),
                        )
                        .await;
                    assert_eq!(r.status, 200, "{}", r.text);
                    route.path.replace("{id}", &id)
                }
                Some("token") => {
                    let r = owner
                        .post("/api/v1/me/tokens", serde_json::json!({"name": "owned"}))
                        .await;
                    route.path.replace("{id}", &r.body["id"].to_string())
                }
                Some("provider_key") => {
                    let r = owner
                        .send(
                            owner
                                .request(Method::PUT, "/api/v1/me/provider-keys/anthropic")
                                .json(&serde_json::json!({"key": "sk-ant-owner-0000"})),
                        )
                        .await;
                    assert_eq!(r.status, 200, "{}", r.text);
                    route.path.replace("{provider}", "anthropic")
                }
                // PUT stores everyone's own openai key; DELETE aims at the
                // owner's anthropic key, which only the owner has.
                _ => route.path.replace("{provider}", "openai"),
            };
            fresh += 1;
            let body = route.body.as_ref().map(|b| {
                b.replace("$EMAIL", &format!("fresh{fresh}@example.com"))
                    .replace("$OWNER_EMAIL", "owner@example.com")
                    .replace("$PASSWORD", PASSWORD)
            });
            let mut rb = client.request(route.method.parse().unwrap(), &path);
            if let Some(b) = body {
                rb = rb.header("content-type", "application/json").body(b);
            }
            let reply = client.send(rb).await;
            let want = route.expect[role];
            if reply.status.as_u16() != want {
                failures.push(format!(
                    "{} {} as {role}: got {} want {want}: {}",
                    route.method, path, reply.status, reply.text
                ));
            }
            if reply.status.as_u16() >= 400 && reply.body["error"]["code"].as_str().is_none() {
                failures.push(format!(
                    "{} {} as {role}: error without the JSON error shape: {}",
                    route.method, path, reply.text
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorization matrix violations:\n{}",
        failures.join("\n")
    );
    s.stop().await;
}

/// Publishes the project's latest version and waits until it is built.
async fn publish_and_wait(owner: &Client, project: &str) -> String {
    let r = owner
        .post(
            &format!("/api/v1/projects/{project}/deployments"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    for _ in 0..200 {
        let d = owner
            .get(&format!("/api/v1/projects/{project}/deployments/{id}"))
            .await;
        match d.body["status"].as_str() {
            Some("ready") => return id,
            Some("queued" | "building") => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await
            }
            other => panic!("the deployment ended {other:?}: {}", d.text),
        }
    }
    panic!("the deployment was not built in 10 s");
}

async fn signed_in(s: &TestServer, email: &str) -> Client {
    let c = s.browser();
    let r = c.login(email, PASSWORD).await;
    assert_eq!(r.status.as_u16(), 200, "{email}: {}", r.text);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_gets_the_expected_status_on_every_git_route() {
    use base64::Engine;
    let s = TestServer::start().await;
    s.user("admin@example.com").await;
    s.user("owner@example.com").await;
    s.user("other@example.com").await;
    // Emails work as Basic logins too (the admin's login name is "admin-1").
    let logins = [
        ("other", "other@example.com"),
        ("owner", "owner@example.com"),
        ("admin", "admin@example.com"),
    ];
    let owner = s.with_token(
        &signed_in(&s, "owner@example.com")
            .await
            .new_token("fixtures")
            .await,
    );
    let basic = |login: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{login}:{PASSWORD}"))
        )
    };
    let mut failures = Vec::new();
    let mut fresh = 0;
    for route in matrix().gitea {
        for role in ROLES {
            fresh += 1;
            let repo = format!("fixture-{fresh}");
            let created = owner
                .post(
                    "/git/api/v1/user/repos",
                    serde_json::json!({"name": repo, "auto_init": true}),
                )
                .await;
            assert_eq!(created.status.as_u16(), 201, "{}", created.text);
            let base = format!("/git/api/v1/repos/owner/{repo}");
            owner
                .post(
                    &format!("{base}/branches"),
                    serde_json::json!({"new_branch_name": "feature"}),
                )
                .await;
            let head = owner.get(&format!("{base}/commits?limit=1")).await.body[0]["sha"]
                .as_str()
                .unwrap()
                .to_string();
            let blob = owner.get(&format!("{base}/contents/README.md")).await.body["sha"]
                .as_str()
                .unwrap()
                .to_string();
            let token = owner
                .post(
                    "/api/v1/me/tokens",
                    serde_json::json!({"name": format!("t{fresh}")}),
                )
                .await
                .body["id"]
                .to_string();
            let path = route
                .path
                .replace("{owner}", "owner")
                .replace("{repo}", &repo)
                .replace("{branch}", "feature")
                .replace("{sha}", &head)
                .replace("{token}", &token);
            let body = route.body.as_ref().map(|b| {
                b.replace("$FRESH", &format!("fresh-{fresh}"))
                    .replace("$BLOB_SHA", &blob)
            });
            let client = reqwest::Client::new();
            let mut rb = client.request(route.method.parse().unwrap(), format!("{}{path}", s.url));
            if let Some((_, login)) = logins.iter().find(|(r, _)| *r == role) {
                rb = rb.header("authorization", basic(login));
            }
            if let Some(b) = body {
                rb = rb.header("content-type", "application/json").body(b);
            }
            let r = rb.send().await.unwrap();
            let (status, want) = (r.status().as_u16(), route.expect[role]);
            if status != want {
                failures.push(format!(
                    "{} {path} as {role}: got {status} want {want}: {}",
                    route.method,
                    r.text().await.unwrap_or_default()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "git route authorization violations:\n{}",
        failures.join("\n")
    );
    s.stop().await;
}

/// The package folder of this checkout, read when the test runs: the build
/// cache is shared between checkouts, so a path baked in at compile time may
/// name another one.
fn manifest_dir() -> String {
    std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")
}
