//! Publishing the templates with a build step in the real engine: vite-react
//! (static output served by the appliance) and nextjs (a server app in its
//! own container), a broken version that leaves the live one serving, a
//! crash the engine restarts, and an appliance restart that brings both back.

use super::helpers::*;
use autocrea_e2e::apps::{publish, site_name, AppVisitor};
use autocrea_e2e::{Client, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

const BUILD: Duration = Duration::from_secs(300);

async fn make_public(c: &Client, id: &str) {
    let r = c
        .send(
            c.request(Method::PUT, &format!("/api/v1/projects/{id}/site"))
                .json(&json!({"access": "public"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vite_and_next_apps_are_built_served_restarted_and_brought_back() {
    let s = TestServer::start().await;
    let c = s.user("ada@example.com").await;

    // vite-react: `vite build` in a container, the output served here.
    let vite = project(&c, "vite-react").await;
    let d = publish(&c, &vite, None, BUILD).await;
    assert_eq!(d["status"], "ready", "{d}");
    make_public(&c, &vite).await;
    let vite_name = site_name(&c, &vite).await;
    let v = AppVisitor::anonymous(&s, &vite_name);
    let page = v.get("/").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains(r#"<div id="root">"#), "{}", page.text);
    assert!(
        !page.text.contains("/@vite/client"),
        "a production build, not the dev server"
    );
    let script = page
        .text
        .split("src=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a script in the page")
        .to_string();
    let js = v.request(&script, &[("accept-encoding", "br")]).await;
    assert_eq!(js.status, StatusCode::OK);
    assert_eq!(js.headers["content-encoding"], "br");
    // Client-side routes get the page; missing assets stay missing.
    assert_eq!(v.get("/todos/3").await.status, StatusCode::OK);
    assert_eq!(
        v.request("/assets/missing.js", &[]).await.status,
        StatusCode::NOT_FOUND
    );

    // A broken version fails its build and the live one keeps serving.
    write_file(
        &s,
        &vite,
        "src/App.tsx",
        "export default function App() {\n  return <main><h1>Broken</main>;\n}\n",
    );
    let broken = publish(&c, &vite, None, BUILD).await;
    assert_eq!(broken["status"], "failed", "{broken}");
    assert!(
        broken["error"]
            .as_str()
            .unwrap()
            .contains("exited with status"),
        "{broken}"
    );
    let log = c
        .get(&format!(
            "/api/v1/projects/{vite}/deployments/{}/logs?follow=false",
            broken["id"].as_str().unwrap()
        ))
        .await;
    assert!(
        log.text.contains("App.tsx"),
        "the log names the file: {}",
        log.text
    );
    assert_eq!(v.get("/").await.text, page.text);

    // nextjs: `next build`, then `next start` in a hardened container.
    let next = project(&c, "nextjs").await;
    let d = publish(&c, &next, None, BUILD).await;
    assert_eq!(d["status"], "ready", "{d}");
    assert_eq!(d["runtime"], "running", "{d}");
    make_public(&c, &next).await;
    let next_name = site_name(&c, &next).await;
    let n = AppVisitor::anonymous(&s, &next_name);
    let home = n.get("/").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.text);
    assert!(home.text.contains("Hello from AUTOCREA"), "{}", home.text);
    let container = format!(
        "autocrea-{}-app-{}",
        s.sandbox_instance,
        d["id"].as_str().unwrap()
    );
    let info = inspect(&container);
    let host = &info["HostConfig"];
    assert_eq!(host["ReadonlyRootfs"], true);
    assert_eq!(host["CapDrop"], json!(["ALL"]));
    assert_eq!(host["RestartPolicy"]["Name"], "unless-stopped");
    assert_eq!(info["Config"]["User"], "10001:10001");
    let bind = host["Binds"][0].as_str().unwrap();
    assert!(bind.ends_with(":/workspace:ro"), "{bind}");

    // A crash: the engine starts it again and it answers again.
    let out = docker_exec(&container, &["sh", "-c", "kill -TERM 1"]);
    assert!(out.status.success(), "{out:?}");
    wait_for(
        "the app to come back after a crash",
        Duration::from_secs(60),
        async || {
            inspect(&container)["RestartCount"].as_i64().unwrap_or(0) >= 1
                && n.get("/").await.status == StatusCode::OK
        },
    )
    .await;

    // A restart of the appliance: the container is adopted, the static app
    // is served at once.
    let before = inspect(&container)["Id"].clone();
    let s = s.restart().await;
    let v = AppVisitor::anonymous(&s, &vite_name);
    assert_eq!(v.get("/").await.status, StatusCode::OK);
    let n = AppVisitor::anonymous(&s, &next_name);
    let home = n.get("/").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.text);
    assert_eq!(
        inspect(&container)["Id"],
        before,
        "adopted, not started again"
    );
    s.stop().await;
}
