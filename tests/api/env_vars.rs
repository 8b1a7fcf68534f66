//! A project's environment variables against the real server: values go
//! in sealed and never come back (API, repository, audit log), names are
//! checked, scopes are apart, a production change offers a redeploy, and
//! auto-deploy publishes after a save and after a push with the real git.
//! (Values reaching a real build and container, and masked in its log:
//! tests/sandbox/publish.rs.)

use autocrea_e2e::apps::{publish, save, wait_for};
use autocrea_e2e::{Client, Git, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const SECRET: &str = "sk-live-4c0ffee5ecret9a7b";

async fn put_var(
    c: &Client,
    project: &str,
    scope: &str,
    name: &str,
    value: &str,
) -> (StatusCode, Value, String) {
    let r = c
        .send(
            c.request(
                Method::PUT,
                &format!("/api/v1/projects/{project}/env/{scope}/{name}"),
            )
            .json(&json!({ "value": value })),
        )
        .await;
    (r.status, r.body, r.text)
}

#[tokio::test]
async fn values_are_sealed_hinted_and_never_sent_back() {
    let s = TestServer::start().await;
    let owner = s.user("owner@example.com").await;
    let other = s.user("other@example.com").await;
    let project = owner.new_project("Env App").await["id"]
        .as_str()
        .unwrap()
        .to_string();

    let (status, body, text) = put_var(&owner, &project, "production", "API_SECRET", SECRET).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(body["var"]["name"], "API_SECRET");
    assert_eq!(body["var"]["hint"], "9a7b");
    assert_eq!(body["var"]["build_time"], false);
    // Nothing is live yet: no redeploy to offer.
    assert_eq!(body["redeploy_suggested"], false);
    assert!(!text.contains(SECRET) && !text.contains("4c0ffee"));
    let (status, body, _) = put_var(&owner, &project, "production", "VITE_TITLE", "Hello").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["var"]["build_time"], true);
    // Too short to show any of it.
    assert_eq!(body["var"]["hint"], Value::Null);
    let (status, body, _) = put_var(
        &owner,
        &project,
        "preview",
        "API_SECRET",
        "preview-value-123456",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["preview_restarted"], false);

    let list = owner.get(&format!("/api/v1/projects/{project}/env")).await;
    assert_eq!(list.status, StatusCode::OK);
    let vars: Vec<(String, String)> = list.body["vars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["scope"].as_str().unwrap().into(),
                v["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        vars,
        [
            ("preview".into(), "API_SECRET".into()),
            ("production".into(), "API_SECRET".into()),
            ("production".into(), "VITE_TITLE".into())
        ]
    );
    assert!(!list.text.contains(SECRET) && !list.text.contains("preview-value"));

    // Replacing keeps one variable; the hint follows the new value.
    let (_, body, _) = put_var(
        &owner,
        &project,
        "production",
        "API_SECRET",
        "another-secret-value-zz99",
    )
    .await;
    assert_eq!(body["var"]["hint"], "zz99");
    let (_, body, _) = put_var(&owner, &project, "production", "API_SECRET", SECRET).await;
    assert_eq!(body["var"]["hint"], "9a7b");

    // Bad input.
    for (scope, name, value, code) in [
        ("production", "1BAD", "x", StatusCode::BAD_REQUEST),
        ("production", "PATH", "x", StatusCode::BAD_REQUEST),
        ("production", "AUTOCREA_TOKEN", "x", StatusCode::BAD_REQUEST),
        ("staging", "OK_NAME", "x", StatusCode::BAD_REQUEST),
        ("production", "NUL", "a\u{0}b", StatusCode::BAD_REQUEST),
    ] {
        let (status, _, text) = put_var(&owner, &project, scope, name, value).await;
        assert_eq!(status, code, "{scope} {name}: {text}");
    }
    let huge = "x".repeat(32 * 1024 + 1);
    assert_eq!(
        put_var(&owner, &project, "production", "BIG", &huge)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let r = owner
        .send(
            owner
                .request(
                    Method::PUT,
                    &format!("/api/v1/projects/{project}/env/production/X"),
                )
                .json(&json!({ "value": "v", "extra": 1 })),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Another person's project does not exist for them.
    assert_eq!(
        put_var(&other, &project, "production", "X", "v").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other
            .get(&format!("/api/v1/projects/{project}/env"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        owner
            .delete(&format!("/api/v1/projects/{project}/env/production/NOPE"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Once something is live, a production change offers a redeploy of it.
    let d = publish(&owner, &project, None, WAIT).await;
    assert_eq!(d["status"], "ready", "{d}");
    let (_, body, _) = put_var(
        &owner,
        &project,
        "production",
        "FEATURE_FLAG",
        "on-for-everyone",
    )
    .await;
    assert_eq!(body["redeploy_suggested"], true);
    assert_eq!(body["live_version"], d["version"]);
    let r = owner
        .delete(&format!(
            "/api/v1/projects/{project}/env/production/FEATURE_FLAG"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["var"], Value::Null);
    assert_eq!(r.body["redeploy_suggested"], true);

    // The value is nowhere a person or the agent could read it: not in the
    // repository, not in the audit log, not in the deployment's log, and
    // not in plain text in the database.
    let search = owner
        .get(&format!("/api/v1/projects/{project}/search?q=4c0ffee"))
        .await;
    assert_eq!(search.status, StatusCode::OK, "{}", search.text);
    assert!(!search.text.contains("4c0ffee5ecret"), "{}", search.text);
    let audit: Vec<String> = sqlx::query_scalar("SELECT COALESCE(detail, '') FROM audit_log")
        .fetch_all(s.pool())
        .await
        .unwrap();
    assert!(audit.iter().any(|d| d.contains("API_SECRET")));
    assert!(audit.iter().all(|d| !d.contains(SECRET)));
    let raw: Vec<Vec<u8>> = sqlx::query_scalar("SELECT ciphertext FROM project_env")
        .fetch_all(s.pool())
        .await
        .unwrap();
    assert!(raw
        .iter()
        .all(|c| !String::from_utf8_lossy(c).contains("4c0ffee")));
    let log = owner
        .get(&format!(
            "/api/v1/projects/{project}/deployments/{}/logs?follow=false",
            d["id"].as_str().unwrap()
        ))
        .await;
    assert!(!log.text.contains(SECRET));
}

/// Auto-deploy: a save and a push each publish the new version; the
/// setting is off by default and a change while it is off publishes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_deploy_publishes_after_a_save_and_a_push() {
    let s = TestServer::start().await;
    let owner = s.user("ada@example.com").await;
    let project = owner.new_project("Auto App").await;
    let (id, slug) = (
        project["id"].as_str().unwrap().to_string(),
        project["slug"].as_str().unwrap().to_string(),
    );
    let site = owner.get(&format!("/api/v1/projects/{id}/site")).await;
    assert_eq!(site.body["auto_deploy"], false);

    // Off: a save publishes nothing.
    save(&owner, &id, "index.html", "<h1>Manual</h1>\n").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(deployments(&owner, &id).await.is_empty());

    let r = owner
        .send(
            owner
                .request(Method::PUT, &format!("/api/v1/projects/{id}/site"))
                .json(&json!({ "auto_deploy": true })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["auto_deploy"], true);

    let saved = save(&owner, &id, "index.html", "<h1>Saved</h1>\n").await;
    let d = deployment_of(&owner, &id, &saved).await;
    assert_eq!(d["status"], "ready", "{d}");
    assert_eq!(d["live"], true);

    // A push with the real git client publishes what was pushed.
    let token = owner.new_token("git").await;
    let url = s.git_url("ada", &token, "ada", &slug);
    let git = Git::new();
    let work = tempfile::tempdir().unwrap();
    assert!(git.run(work.path(), &["clone", &url, "w"]).await.ok);
    let w = work.path().join("w");
    std::fs::write(w.join("index.html"), "<h1>Pushed</h1>\n").unwrap();
    assert!(git.run(&w, &["commit", "-qam", "From outside"]).await.ok);
    let out = git.run(&w, &["push", "-q", "origin", "HEAD"]).await;
    assert!(out.ok, "{}", out.stderr);
    let pushed = git
        .run(&w, &["rev-parse", "HEAD"])
        .await
        .stdout
        .trim()
        .to_string();
    let d = deployment_of(&owner, &id, &pushed).await;
    assert_eq!(d["status"], "ready", "{d}");
    assert_eq!(d["live"], true);
    // One deployment per version: the saves' and the push's, nothing twice.
    let all = deployments(&owner, &id).await;
    assert_eq!(all.len(), 2, "{all:?}");

    // A rollback stays live: a change that does not move the default
    // branch (a push of another branch) publishes nothing.
    let saved_deployment = all[1]["id"].as_str().unwrap().to_string();
    let r = owner
        .post_empty(&format!(
            "/api/v1/projects/{id}/deployments/{saved_deployment}/promote"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let out = git
        .run(&w, &["push", "-q", "origin", "HEAD:refs/heads/side"])
        .await;
    assert!(out.ok, "{}", out.stderr);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let all = deployments(&owner, &id).await;
    assert_eq!(all.len(), 2, "{all:?}");
    let live: Vec<&str> = all
        .iter()
        .filter(|d| d["live"] == true)
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(live, [saved_deployment.as_str()]);
}

async fn deployments(c: &Client, project: &str) -> Vec<Value> {
    c.get(&format!("/api/v1/projects/{project}/deployments"))
        .await
        .body["deployments"]
        .as_array()
        .unwrap()
        .clone()
}

/// Waits for the deployment of `version` to appear and finish.
async fn deployment_of(c: &Client, project: &str, version: &str) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some(d) = deployments(c, project)
            .await
            .into_iter()
            .find(|d| d["version"] == version)
        {
            return wait_for(c, project, d["id"].as_str().unwrap(), WAIT).await;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no deployment of {version} after {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
