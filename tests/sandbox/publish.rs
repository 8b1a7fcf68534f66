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
const BUILD_SECRET: &str = "build-secret-value-7777";
const RUNTIME_SECRET: &str = "runtime-secret-value-8888";

async fn set_var(c: &Client, id: &str, scope: &str, name: &str, value: &str) {
    let r = c
        .send(
            c.request(
                Method::PUT,
                &format!("/api/v1/projects/{id}/env/{scope}/{name}"),
            )
            .json(&json!({ "value": value })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

/// The preview scope: in the sandbox's environment, masked in what the
/// exec API (the agent's terminal tool) sends back, and a change restarts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_variables_reach_the_sandbox_and_stay_masked() {
    let s = TestServer::start().await;
    let c = s.user("ada@example.com").await;
    let id = project(&c, "static").await;
    set_var(
        &c,
        &id,
        "preview",
        "PREVIEW_TOKEN",
        "preview-token-value-5555",
    )
    .await;
    start_ready(&c, &id, 60).await;
    let container = format!("autocrea-{}-{id}", s.sandbox_instance);
    let env = docker_exec(&container, &["printenv", "PREVIEW_TOKEN"]);
    assert_eq!(
        String::from_utf8_lossy(&env.stdout).trim(),
        "preview-token-value-5555"
    );
    // Commands (the agent's terminal tool) run without the variable...
    let r = c
        .post(
            &format!("/api/v1/projects/{id}/sandbox/exec"),
            json!({ "command": "env" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let out = r.body["output"].as_str().unwrap();
    assert!(out.contains("PATH="), "{out}");
    assert!(!out.contains("PREVIEW_TOKEN"), "{out}");
    // ...and what they print of it anyway is masked.
    let r = c
        .post(
            &format!("/api/v1/projects/{id}/sandbox/exec"),
            json!({ "command": "grep -a -o 'PREVIEW_TOKEN=[^[:cntrl:]]*' /proc/1/environ" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let out = r.body["output"].as_str().unwrap();
    assert!(out.contains("PREVIEW_TOKEN=••••••"), "{out}");
    assert!(!r.text.contains("preview-token-value"), "{out}");
    // A change restarts the running sandbox; its next start has the new value.
    let r = c
        .send(
            c.request(
                Method::PUT,
                &format!("/api/v1/projects/{id}/env/preview/PREVIEW_TOKEN"),
            )
            .json(&json!({ "value": "changed-token-value-6666" })),
        )
        .await;
    assert_eq!(r.body["preview_restarted"], true, "{}", r.text);
    start_ready(&c, &id, 60).await;
    let env = docker_exec(&container, &["printenv", "PREVIEW_TOKEN"]);
    assert_eq!(
        String::from_utf8_lossy(&env.stdout).trim(),
        "changed-token-value-6666"
    );
    s.stop().await;
}

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

    // vite-react: `vite build` in a container, the output served here,
    // with the project's production variables: a build-time one written
    // into the app, a secret the build prints and the log masks.
    let vite = project(&c, "vite-react").await;
    set_var(
        &c,
        &vite,
        "production",
        "VITE_GREETING",
        "Greetings from the env 42",
    )
    .await;
    set_var(&c, &vite, "production", "BUILD_SECRET", BUILD_SECRET).await;
    write_file(
        &s,
        &vite,
        "vite.config.ts",
        "import { defineConfig } from \"vite\";\nconsole.log(\"the secret is\", process.env.BUILD_SECRET);\nexport default defineConfig({ esbuild: { jsx: \"automatic\" } });\n",
    );
    write_file(
        &s,
        &vite,
        "src/App.tsx",
        "export default function App() {\n  return <main><h1>{import.meta.env.VITE_GREETING}</h1></main>;\n}\n",
    );
    let d = publish(&c, &vite, None, BUILD).await;
    assert_eq!(d["status"], "ready", "{d}");
    let log = c
        .get(&format!(
            "/api/v1/projects/{vite}/deployments/{}/logs?follow=false",
            d["id"].as_str().unwrap()
        ))
        .await;
    assert!(log.text.contains("the secret is ••••••"), "{}", log.text);
    assert!(!log.text.contains(BUILD_SECRET), "{}", log.text);
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
    let plain = v.request(&script, &[]).await;
    assert!(
        plain.text.contains("Greetings from the env 42"),
        "the build-time variable is in the app"
    );
    assert!(!plain.text.contains(BUILD_SECRET));
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
    // The error says where: the file and line the build's output named.
    let error = broken["error"].as_str().unwrap();
    assert!(error.contains("exited with status"), "{broken}");
    assert!(error.contains("src/App.tsx:2"), "{broken}");
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

    // nextjs: `next build`, then `next start` in a hardened container,
    // which gets the production variables at run time.
    let next = project(&c, "nextjs").await;
    set_var(&c, &next, "production", "RUNTIME_SECRET", RUNTIME_SECRET).await;
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
    let env = docker_exec(&container, &["printenv", "RUNTIME_SECRET"]);
    assert_eq!(String::from_utf8_lossy(&env.stdout).trim(), RUNTIME_SECRET);

    // A crash: the engine starts it again and it answers again.
    let out = docker_exec(&container, &["sh", "-c", "kill -TERM 1"]);
    assert!(out.status.success(), "{out:?}");
    wait_for(
        "the app to come back after a crash",
        // The engine's backoff, then `next start` again: slow on 2 busy cores.
        Duration::from_secs(150),
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
