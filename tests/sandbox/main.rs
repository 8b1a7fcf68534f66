//! Sandboxes and previews against the real Docker engine and the images
//! built by installer/images.sh (tests/run.sh starts the engine and builds
//! them when missing).

mod helpers;
mod publish;

use autocrea_e2e::TestServer;
use helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

const READY: u64 = 60;

/// The static template end to end: preview under its own Host with the
/// error script injected, live reload through the proxy, browser and build
/// errors in check_for_errors, logs, and the project JSON's preview URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_preview_reload_and_errors() {
    let s = TestServer::start().await;
    let c = s.user("ada@example.com").await;
    let id = project(&c, "static").await;
    let p = c.get(&format!("/api/v1/projects/{id}")).await;
    assert_eq!(
        p.body["preview_url"],
        format!("http://p-{id}.localhost:{}/", s.addr().port())
    );
    assert_eq!(
        c.get(&format!("/api/v1/projects/{id}/sandbox")).await.body["state"],
        "stopped"
    );
    let status = start_ready(&c, &id, READY).await;
    assert_eq!(status["template"], "static");
    assert!(status["ready_after_ms"].as_u64().is_some());

    let preview = Preview::enter(&s, &c, &id).await;
    let (code, page) = preview.get("/").await;
    assert_eq!(code, StatusCode::OK);
    assert!(page.contains("Hello from AUTOCREA"), "{page}");
    assert!(
        page.contains(r#"<script src="/__autocrea/console.js"></script>"#),
        "error script injected"
    );
    assert!(page.contains("/__livereload"), "live reload client present");
    let (code, css) = preview.fetch("/style.css").await;
    assert_eq!(
        (code, css.contains("<script")),
        (StatusCode::OK, false),
        "only HTML is changed"
    );

    // Live reload: a file change reaches the page's WebSocket through the proxy.
    let mut ws = preview.websocket("/__livereload", None).await;
    write_file(&s, &id, "index.html", "<!doctype html><html><head><title>v2</title></head><body><h1>Second version</h1></body></html>\n");
    ws_until(&mut ws, "reload", Duration::from_secs(10)).await;
    assert!(preview.get("/").await.1.contains("Second version"));

    // A broken script: check_for_errors names file and line.
    write_file(&s, &id, "app.js", "const greet = document.querySelector('#greet');\nconst total = ;\nconsole.log(greet, total);\n");
    let r = c
        .post_empty(&format!("/api/v1/projects/{id}/sandbox/errors"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let errors = r.body["errors"].as_array().unwrap();
    let e = errors
        .iter()
        .find(|e| e["file"] == "app.js")
        .unwrap_or_else(|| panic!("app.js in {errors:?}"));
    assert_eq!(
        (
            e["line"].as_u64(),
            e["severity"].as_str(),
            e["source"].as_str()
        ),
        (Some(2), Some("error"), Some("javascript"))
    );
    assert!(
        e["message"].as_str().unwrap().contains("SyntaxError"),
        "{e}"
    );

    // What the injected script reports from the browser joins them.
    let report = json!({"kind": "error", "message": "Uncaught TypeError: x is undefined", "source": format!("{}/app.js?v=1", preview.origin), "line": 7, "column": 3});
    let r = preview
        .http
        .post(format!("{}/__autocrea/report", preview.origin))
        .header("cookie", &preview.cookie)
        .header("origin", &preview.origin)
        .json(&report)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let known = c
        .get(&format!("/api/v1/projects/{id}/sandbox/errors"))
        .await;
    let browser: Vec<&Value> = known.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "browser")
        .collect();
    assert_eq!(browser.len(), 1, "{}", known.body);
    assert_eq!(
        (browser[0]["file"].as_str(), browser[0]["line"].as_u64()),
        (Some("app.js"), Some(7))
    );
    assert!(
        known.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["file"] == "app.js" && e["source"] == "javascript"),
        "last check kept"
    );

    // The dev server's output, kept and resumable.
    let logs = c
        .get(&format!("/api/v1/projects/{id}/sandbox/logs?follow=false"))
        .await;
    let lines = logs.body["lines"].as_array().unwrap();
    assert!(
        lines.iter().any(|l| l["text"]
            .as_str()
            .unwrap()
            .starts_with("[autocrea] starting")),
        "{}",
        logs.body
    );
    let last = lines.last().unwrap()["seq"].as_u64().unwrap();
    let after = c
        .get(&format!(
            "/api/v1/projects/{id}/sandbox/logs?follow=false&after={last}"
        ))
        .await;
    assert_eq!(after.body["lines"].as_array().unwrap().len(), 0);

    let stopped = c
        .post_empty(&format!("/api/v1/projects/{id}/sandbox/stop"))
        .await;
    assert_eq!(stopped.body["state"], "stopped");
    let none = c
        .get(&format!("/api/v1/projects/{id}/sandbox/logs?follow=false"))
        .await;
    assert_eq!(
        (none.status, none.body["lines"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(0))
    );
    let stream = c.get(&format!("/api/v1/projects/{id}/sandbox/logs")).await;
    assert_eq!(
        (stream.status, stream.code()),
        (StatusCode::CONFLICT, "sandbox_not_running")
    );
}

/// Vite + React: the page and modules through the proxy, Vite's HMR
/// WebSocket after a change, a type error with file and line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vite_react_preview_hmr_and_type_errors() {
    let s = TestServer::start().await;
    let c = s.user("ada@example.com").await;
    let id = project(&c, "vite-react").await;
    start_ready(&c, &id, READY).await;
    let preview = Preview::enter(&s, &c, &id).await;
    let (code, page) = preview.get("/").await;
    assert_eq!(code, StatusCode::OK, "{page}");
    assert!(
        page.contains(r#"<div id="root">"#) && page.contains("/@vite/client"),
        "{page}"
    );
    let (code, module) = preview.fetch("/src/App.tsx").await;
    assert_eq!(code, StatusCode::OK, "{module}");

    // Vite's client connects with a token it is served with.
    let (_, client) = preview.fetch("/@vite/client").await;
    let token = client
        .split("const wsToken = \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("Vite client carries its WebSocket token")
        .to_string();
    let mut ws = preview
        .websocket(&format!("/?token={token}"), Some("vite-hmr"))
        .await;
    ws_until(&mut ws, "connected", Duration::from_secs(10)).await;
    let app = "export default function App() {\n  return <h1>Changed by a test</h1>;\n}\n";
    write_file(&s, &id, "src/App.tsx", app);
    ws_until(&mut ws, "App.tsx", Duration::from_secs(15)).await;

    write_file(&s, &id, "src/App.tsx", "export default function App() {\n  const n: number = \"text\";\n  return <h1>{n}</h1>;\n}\n");
    let r = c
        .post_empty(&format!("/api/v1/projects/{id}/sandbox/errors"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let errors = r.body["errors"].as_array().unwrap();
    let e = errors
        .iter()
        .find(|e| e["file"] == "src/App.tsx" && e["source"] == "tsc")
        .unwrap_or_else(|| panic!("a tsc error in src/App.tsx: {errors:?}"));
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(2), Some(9)),
        "{e}"
    );
}

/// Next.js: the first page compiles and answers through the proxy; its
/// hot-reload socket passes through too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nextjs_preview() {
    let s = TestServer::start().await;
    let c = s.user("ada@example.com").await;
    let id = project(&c, "nextjs").await;
    start_ready(&c, &id, 120).await;
    let preview = Preview::enter(&s, &c, &id).await;
    let (code, page) = preview.get("/").await;
    let logs = || async {
        c.get(&format!("/api/v1/projects/{id}/sandbox/logs?follow=false"))
            .await
            .text
    };
    assert_eq!(
        code,
        StatusCode::OK,
        "{page}\ndev server output: {}",
        logs().await
    );
    assert!(
        page.contains("__autocrea/console.js") && page.contains("_next/static"),
        "{page}"
    );

    // Next's HMR socket (Next 16: /_next/hmr) through the proxy: a change to the page is announced.
    let mut ws = preview.websocket("/_next/hmr", None).await;
    write_file(
        &s,
        &id,
        "app/page.tsx",
        "export default function Home() {\n  return <h1>Changed by a test</h1>;\n}\n",
    );
    ws_until(&mut ws, "serverComponentChanges", Duration::from_secs(60)).await;
    wait_for("the change served", Duration::from_secs(30), async || {
        preview.get("/").await.1.contains("Changed by a test")
    })
    .await;
}

/// `docker inspect` shows the hardening; the container reaches neither the
/// Docker socket nor the host's services; a fork bomb, a memory hog and a
/// disk filler stay inside while the appliance keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hardening_and_containment() {
    let s = TestServer::start_with(|c| {
        c.sandbox.memory_mb = 256;
        c.sandbox.tmpfs_mb = 64;
        c.sandbox.pids = 64;
    })
    .await;
    let c = s.user("ada@example.com").await;
    let id = project(&c, "static").await;
    let status = start_ready(&c, &id, READY).await;
    let container = status["container"].as_str().unwrap().to_string();

    let info = inspect(&container);
    let host = &info["HostConfig"];
    assert_eq!(info["Config"]["User"], "10001:10001");
    assert_eq!(host["CapDrop"], json!(["ALL"]));
    assert_eq!(host["SecurityOpt"], json!(["no-new-privileges:true"]));
    assert_eq!(host["ReadonlyRootfs"], true);
    assert_eq!(host["Privileged"], false);
    assert_eq!(host["Memory"].as_i64(), Some(256 * 1024 * 1024));
    assert_eq!(
        host["MemorySwap"], host["Memory"],
        "no swap beyond the limit"
    );
    assert_eq!(host["PidsLimit"].as_i64(), Some(64));
    assert_eq!(host["NanoCpus"].as_i64(), Some(1_000_000_000));
    let binds: Vec<&str> = host["Binds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    assert_eq!(binds.len(), 1, "{binds:?}");
    assert!(binds[0].ends_with(":/workspace:ro"), "{binds:?}");
    assert!(!binds[0].contains("docker.sock"));
    let network = host["NetworkMode"].as_str().unwrap();
    let net = std::process::Command::new("docker")
        .args(["network", "inspect", network])
        .output()
        .unwrap();
    let net: Value = serde_json::from_slice(&net.stdout).unwrap();
    assert_eq!(net[0]["Internal"], true, "sandbox network has no route out");

    let exec = |command: &str, timeout: u64| {
        let c = c.clone();
        let id = id.clone();
        let command = command.to_string();
        async move {
            let r = c
                .post(
                    &format!("/api/v1/projects/{id}/sandbox/exec"),
                    json!({"command": command, "timeout_secs": timeout}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            r.body
        }
    };
    let healthy = || async {
        reqwest::get(format!("{}/healthz", s.url))
            .await
            .map(|r| r.status() == 200)
            .unwrap_or(false)
    };

    // No Docker socket, no way to the host: not its loopback (a listener on
    // 127.0.0.1), not the appliance on the bridge's gateway address.
    let r = exec("ls -l /var/run/docker.sock /run/docker.sock", 10).await;
    assert_ne!(r["exit_code"], 0, "{r}");
    let loopback = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let everywhere = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let gateway = net[0]["IPAM"]["Config"][0]["Gateway"]
        .as_str()
        .unwrap()
        .to_string();
    let probe = format!(
        "node -e \"const net=require('net');let left=3;for(const [h,p] of [['127.0.0.1',{lp}],['{gw}',{lp}],['{gw}',{sp}]]){{const s=net.connect({{host:h,port:p,timeout:2000}});s.on('connect',()=>{{console.log('REACHED',h,p);process.exit(3)}});const done=()=>{{s.destroy();if(--left===0)console.log('all refused')}};s.on('error',done);s.on('timeout',done)}}\"",
        lp = loopback.local_addr().unwrap().port(),
        sp = everywhere.local_addr().unwrap().port(),
        gw = gateway
    );
    let r = exec(&probe, 20).await;
    assert!(r["output"].as_str().unwrap().contains("all refused"), "{r}");
    let guard = s.state().sandboxes.host_guard();
    assert_eq!(
        guard,
        Some(Ok(())),
        "host firewall rules in place (tests run as root)"
    );

    // Fork bomb: the pids limit stops it.
    let bomb = exec("node -e \"const {spawn}=require('child_process');let n=0,f=0;for(let i=0;i<5000;i++){try{spawn('sleep',['3']).on('error',()=>{});n++}catch(e){f++}}console.log('spawned',n,'failed',f)\"", 30).await;
    assert!(
        healthy().await,
        "appliance serves during and after the fork bomb: {bomb}"
    );
    tokio::time::sleep(Duration::from_secs(4)).await; // the bomb's sleepers end
                                                      // Memory hog: killed at the memory limit.
    let hog = exec(
        "node -e \"const a=[];for(;;)a.push(Buffer.alloc(16<<20,1))\"",
        60,
    )
    .await;
    let hog_code = hog["exit_code"].as_i64();
    assert!(
        hog_code == Some(137) || hog["output"].as_str().unwrap().contains("memory"),
        "memory hog stopped: {hog}"
    );
    assert!(healthy().await);
    // Disk filler: the project is read-only, /tmp is a small tmpfs.
    let ro = exec(
        "node -e \"require('fs').writeFileSync('/workspace/x','x')\"",
        10,
    )
    .await;
    assert!(ro["output"].as_str().unwrap().contains("EROFS"), "{ro}");
    let fill = exec(
        "head -c 1000000000 /dev/zero > /tmp/fill; echo status:$?; wc -c < /tmp/fill",
        60,
    )
    .await;
    let out = fill["output"].as_str().unwrap();
    assert!(
        out.contains("No space left") && out.contains("status:1"),
        "{fill}"
    );
    let size: u64 = out.lines().last().unwrap().trim().parse().unwrap();
    assert!(size <= 64 * 1024 * 1024, "at most the tmpfs size: {out}");
    assert!(healthy().await);

    // The dev server still serves after all that (restarted if it was the OOM victim).
    wait_for(
        "dev server ready again",
        Duration::from_secs(60),
        async || c.get(&format!("/api/v1/projects/{id}/sandbox")).await.body["state"] == "ready",
    )
    .await;
    let preview = Preview::enter(&s, &c, &id).await;
    assert_eq!(preview.get("/").await.0, StatusCode::OK);
}

/// A dev-server crash is restarted; another user gets 404 on the preview
/// origin; a server restart adopts the running container.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_restart_access_and_adoption() {
    let s = TestServer::start().await;
    let c = s.user("ada@example.com").await;
    let id = project(&c, "static").await;
    let status = start_ready(&c, &id, READY).await;
    let container = status["container"].as_str().unwrap().to_string();

    // Kill the dev server inside the container: the supervisor brings it back.
    let out = docker_exec(&container, &["pkill", "-KILL", "-f", "static-server.mjs"]);
    assert!(out.status.success(), "{out:?}");
    wait_for(
        "a restart after the crash",
        Duration::from_secs(20),
        async || {
            let v = c.get(&format!("/api/v1/projects/{id}/sandbox")).await.body;
            v["restarts"].as_u64() >= Some(1) && v["state"] == "ready"
        },
    )
    .await;
    let v = c.get(&format!("/api/v1/projects/{id}/sandbox")).await.body;
    assert!(
        v["last_exit"].as_str().unwrap().contains("137"),
        "SIGKILL is status 137: {v}"
    );
    let preview = Preview::enter(&s, &c, &id).await;
    assert_eq!(preview.get("/").await.0, StatusCode::OK);

    // Someone else: no ticket, no way in with their own preview cookie.
    let other = s.user("bob@example.com").await;
    let theirs = project(&other, "static").await;
    assert_eq!(
        other
            .post_empty(&format!("/api/v1/projects/{id}/preview/ticket"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other
            .get(&format!("/api/v1/projects/{id}/preview/open"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let anon = Preview::anonymous(&s, &id);
    let (code, _) = anon.get("/").await;
    assert_eq!(
        code,
        StatusCode::SEE_OTHER,
        "a page load is sent to the console for a ticket"
    );
    let r = anon
        .http
        .get(format!("{}/style.css", anon.origin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let bobs = Preview::enter(&s, &other, &theirs).await;
    let r = anon
        .http
        .get(format!("{}/", anon.origin))
        .header("cookie", &bobs.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "a cookie of another preview does not open this one"
    );
    let ticket = other
        .post_empty(&format!("/api/v1/projects/{theirs}/preview/ticket"))
        .await
        .body["url"]
        .as_str()
        .unwrap()
        .to_string();
    let stolen = ticket.replace(&format!("p-{theirs}."), &format!("p-{id}."));
    assert_eq!(
        anon.http.get(&stolen).send().await.unwrap().status(),
        StatusCode::NOT_FOUND,
        "a ticket opens only its own project"
    );
    // The console's session cookie means nothing on a preview origin.
    let session = c.session_cookie().unwrap();
    let r = anon
        .http
        .get(format!("{}/style.css", anon.origin))
        .header("cookie", format!("autocrea_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Restart the appliance: the container is adopted, not replaced.
    let instance = s.sandbox_instance.clone();
    let s = s.restart().await;
    assert_eq!(s.state().sandboxes.instance(), instance);
    let v = c.get(&format!("/api/v1/projects/{id}/sandbox")).await.body;
    assert_eq!(v["container"].as_str(), Some(container.as_str()), "{v}");
    assert_eq!(inspect(&container)["State"]["Running"], true);
    wait_for(
        "adopted sandbox ready",
        Duration::from_secs(20),
        async || c.get(&format!("/api/v1/projects/{id}/sandbox")).await.body["state"] == "ready",
    )
    .await;
    let preview = Preview::enter(&s, &c, &id).await;
    assert_eq!(preview.get("/").await.0, StatusCode::OK);
    // Deleting the project removes its container.
    assert_eq!(
        c.delete(&format!("/api/v1/projects/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    let gone = std::process::Command::new("docker")
        .args(["inspect", &container])
        .output()
        .unwrap();
    assert!(!gone.status.success(), "container removed with its project");
}

/// The exec API's policy, timeout and cap; the interactive terminal; idle stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_terminal_and_idle_stop() {
    let s = TestServer::start_with(|c| {
        c.sandbox.idle_secs = 3;
        c.sandbox.exec_output_bytes = 1000;
    })
    .await;
    let c = s.user("ada@example.com").await;
    let id = project(&c, "static").await;
    let exec = format!("/api/v1/projects/{id}/sandbox/exec");
    let r = c.post(&exec, json!({"command": "echo hi && ls"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["exit_code"], 0);
    assert!(
        r.body["output"].as_str().unwrap().contains("index.html"),
        "{}",
        r.body
    );
    for refused in [
        "rm -rf /",
        "curl http://example.com",
        "echo $(id)",
        "ls | sh",
    ] {
        let r = c.post(&exec, json!({"command": refused})).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "command_refused"),
            "{refused}: {}",
            r.text
        );
    }
    let r = c
        .post(&exec, json!({"command": "sleep 30", "timeout_secs": 1}))
        .await;
    assert_eq!(
        (r.body["timed_out"].as_bool(), r.body["exit_code"].as_i64()),
        (Some(true), None),
        "{}",
        r.body
    );
    let r = c
        .post(&exec, json!({"command": "head -c 5000 /dev/zero"}))
        .await;
    assert_eq!(
        (
            r.body["truncated"].as_bool(),
            r.body["output"].as_str().unwrap().len()
        ),
        (Some(true), 1000)
    );
    assert_eq!(
        c.post(&exec, json!({"command": "ls", "timeout_secs": 0}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // The terminal: a shell with a TTY over a WebSocket, signed in by cookie.
    {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
        let mut req = format!(
            "{}/api/v1/projects/{id}/sandbox/terminal",
            s.url.replace("http://", "ws://")
        )
        .into_client_request()
        .unwrap();
        req.headers_mut().insert(
            "cookie",
            format!("autocrea_session={}", c.session_cookie().unwrap())
                .parse()
                .unwrap(),
        );
        // A browser sends the console's own Origin; others are refused (tests/api/attacks.rs).
        req.headers_mut().insert("origin", s.url.parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("terminal WebSocket");
        ws.send(Message::Text(r#"{"resize":[100,30]}"#.into()))
            .await
            .unwrap();
        ws.send(Message::Text("echo $((6*7)); whoami\n".into()))
            .await
            .unwrap();
        ws_until(&mut ws, "42", Duration::from_secs(10)).await;
        ws.send(Message::Text("stty size\n".into())).await.unwrap();
        ws_until(&mut ws, "30 100", Duration::from_secs(10)).await;
    }
    // Another user has no terminal here.
    let other = s.user("bob@example.com").await;
    assert_eq!(
        other.post(&exec, json!({"command": "ls"})).await.status,
        StatusCode::NOT_FOUND
    );

    // Idle: no traffic for idle_secs and the sandbox stops.
    wait_for("idle stop", Duration::from_secs(30), async || {
        s.state().sandboxes.running(&id).is_none()
    })
    .await;
    assert_eq!(
        c.get(&format!("/api/v1/projects/{id}/sandbox")).await.body["state"],
        "stopped"
    );
}

/// A warm container takes the new project: its preview serves the
/// project's files, and the pool refills.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_pool_serves_new_projects() {
    let s = TestServer::start_with(|c| c.sandbox.warm_pool = 1).await;
    let warm = |s: &TestServer| {
        s.state()
            .sandboxes
            .warm_counts()
            .get("static")
            .copied()
            .unwrap_or(0)
    };
    wait_for(
        "a warm static sandbox",
        Duration::from_secs(60),
        async || warm(&s) == 1,
    )
    .await;
    let c = s.user("ada@example.com").await;
    let id = project(&c, "static").await;
    let status = start_ready(&c, &id, 20).await;
    assert_eq!(status["from_warm_pool"], true, "{status}");
    let preview = Preview::enter(&s, &c, &id).await;
    let (code, page) = preview.get("/").await;
    assert_eq!(code, StatusCode::OK);
    assert!(
        page.contains("Hello from AUTOCREA"),
        "the project's files, not an empty pool folder: {page}"
    );
    write_file(&s, &id, "index.html", "<h1>Edited after the claim</h1>\n");
    wait_for("the edit served", Duration::from_secs(5), async || {
        preview.get("/").await.1.contains("Edited after the claim")
    })
    .await;
    wait_for("the pool refilled", Duration::from_secs(60), async || {
        warm(&s) == 1
    })
    .await;
}

/// A whole agent turn with a scripted model on the real sandbox: the
/// Developer writes a page and a broken script, the real check finds the
/// syntax error, the repair round fixes it, the turn is one commit and the
/// preview serves what the agent built.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_turn_builds_a_page_repairs_an_error_and_the_preview_shows_it() {
    use autocrea_e2e::scripted::{calls, say, scripted_model, Script};
    let script = Script::default();
    script.push(calls(&[
        ("c1", "full_file_rewrite", json!({"path": "index.html", "content": "<!doctype html><title>Shop</title><h1>Built by the agent</h1><script src=\"app.js\"></script>\n"})),
        ("c2", "full_file_rewrite", json!({"path": "app.js", "content": "const greeting = ;\n"})),
    ]));
    script.push(say("Built the page."));
    script.push(calls(&[(
        "c3",
        "full_file_rewrite",
        json!({"path": "app.js", "content": "const greeting = 'hi';\nconsole.log(greeting);\n"}),
    )]));
    script.push(say("Fixed the script."));
    let base = scripted_model(script.clone()).await;
    let s = TestServer::start().await;
    let c = s.user("ada@example.com").await;
    let r = c
        .send(c.request(reqwest::Method::PUT, "/api/v1/admin/llm/policy").json(&json!({"local": true, "providers": [
            {"id": "scripted", "kind": "openai", "base_url": base, "enabled": true, "models": ["coder"]}]})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = c
        .send(
            c.request(
                reqwest::Method::PUT,
                "/api/v1/admin/llm/providers/scripted/key",
            )
            .json(&json!({"key": "sk-scripted-1234"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let id = project(&c, "static").await;
    let thread = c
        .post(&format!("/api/v1/projects/{id}/threads"), json!({}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = c
        .post(
            &format!("/api/v1/projects/{id}/threads/{thread}/messages"),
            json!({"content": "A shop page", "model": "scripted/coder"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let mut end = Value::Null;
    wait_for("the turn's end", Duration::from_secs(120), async || {
        let ev = c
            .get(&format!(
                "/api/v1/projects/{id}/threads/{thread}/events?follow=false"
            ))
            .await
            .body;
        end = ev["events"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|e| e["type"] == "turn:end")
            .cloned()
            .unwrap_or(Value::Null);
        !end.is_null()
    })
    .await;
    assert_eq!(
        (
            end["data"]["status"].as_str(),
            end["data"]["repairs"].as_u64()
        ),
        (Some("done"), Some(1)),
        "{end}"
    );
    assert!(end["data"]["error"].is_null(), "no errors left: {end}");
    let repair = &script.requests()[2]["messages"];
    assert!(
        repair.to_string().contains("app.js:1"),
        "the real check's error went back to the model: {repair}"
    );
    assert_eq!(
        c.get(&format!("/api/v1/projects/{id}/versions")).await.body["total"],
        2
    );

    let preview = Preview::enter(&s, &c, &id).await;
    let mut page = String::new();
    wait_for(
        "the agent's page in the preview",
        Duration::from_secs(READY),
        async || {
            let (code, body) = preview.get("/").await;
            page = body;
            code == StatusCode::OK && page.contains("Built by the agent")
        },
    )
    .await;
    let (code, script_js) = preview.fetch("/app.js").await;
    assert_eq!((code, script_js.contains("'hi'")), (StatusCode::OK, true));
}

/// Issue 16, finding 2: one project's sandbox cannot reach another's dev
/// server (inter-container traffic is off), while the host (the preview
/// proxy) reaches both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandboxes_cannot_reach_each_other() {
    let s = TestServer::start().await;
    let ada = s.user("ada@example.com").await;
    let bob = s.user("bob@example.com").await;
    let mine = project(&ada, "static").await;
    let theirs = project(&bob, "static").await;
    start_ready(&ada, &mine, READY).await;
    let status = start_ready(&bob, &theirs, READY).await;
    let info = inspect(status["container"].as_str().unwrap());
    let network = info["HostConfig"]["NetworkMode"]
        .as_str()
        .unwrap()
        .to_string();
    let ip = info["NetworkSettings"]["Networks"][&network]["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();
    let net = inspect_network(&network);
    assert_eq!(
        net[0]["Options"]["com.docker.network.bridge.enable_icc"], "false",
        "{}",
        net[0]["Options"]
    );

    // The host reaches bob's dev server: the address is right.
    let direct = reqwest::get(format!("http://{ip}:8000/"))
        .await
        .expect("the host reaches the sandbox");
    assert_eq!(direct.status(), StatusCode::OK);
    // Ada's sandbox does not.
    let probe = format!(
        "node -e \"fetch('http://{ip}:8000/',{{signal:AbortSignal.timeout(4000)}}).then(r=>r.text()).then(t=>console.log('REACHED',t.slice(0,80)),e=>console.log('refused:',e.cause?e.cause.code||e.cause.name:e.name))\""
    );
    let out = exec_output(&ada, &mine, &probe, 15).await;
    assert!(
        out.contains("refused:") && !out.contains("REACHED"),
        "{out}"
    );
}

/// Issue 16, finding 3: a pushed `.next` link (the nextjs template's
/// build-output folder) never makes a cold start change a host folder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_build_folder_link_never_changes_the_host() {
    use std::os::unix::fs::PermissionsExt;
    let s = TestServer::start().await;
    let c = s.user("ada@example.com").await;
    let id = project(&c, "nextjs").await;
    let host_dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(host_dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();

    let git = autocrea_e2e::Git::new();
    let work = tempfile::tempdir().unwrap();
    let url = s.git_url(
        "ada",
        &autocrea_e2e::PASSWORD.replace(' ', "%20"),
        "ada",
        "app-nextjs",
    );
    let cloned = git.run(work.path(), &["clone", "-q", &url, "app"]).await;
    assert!(cloned.ok, "{}", cloned.stderr);
    let app = work.path().join("app");
    std::os::unix::fs::symlink(host_dir.path(), app.join(".next")).unwrap();
    assert!(git.run(&app, &["add", "-f", ".next"]).await.ok);
    assert!(
        git.run(&app, &["commit", "-qm", "Link the build folder"])
            .await
            .ok
    );
    let pushed = git.run(&app, &["push", "-q", "origin", "main"]).await;
    assert!(pushed.ok, "{}", pushed.stderr);

    let r = c
        .post_empty(&format!("/api/v1/projects/{id}/sandbox/start?wait_secs=30"))
        .await;
    let state = c.get(&format!("/api/v1/projects/{id}/sandbox")).await;
    let mode = std::fs::metadata(host_dir.path())
        .unwrap()
        .permissions()
        .mode()
        & 0o7777;
    assert_eq!(
        mode, 0o700,
        "the host folder's mode changed: {} / {}",
        r.text, state.text
    );
    assert!(
        format!("{}{}", r.text, state.text).contains("symbolic link"),
        "the reason is given: {} / {}",
        r.text,
        state.text
    );
    assert_eq!(
        std::fs::read_dir(host_dir.path()).unwrap().count(),
        0,
        "nothing written into the host folder"
    );
}

/// A template allowed out (`egress_templates`) still cannot reach this
/// host's services on its bridge's gateway address, nor other sandboxes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_egress_sandbox_reaches_neither_the_host_nor_other_sandboxes() {
    let s = TestServer::start_with(|c| c.sandbox.egress_templates = vec!["static".into()]).await;
    let c = s.user("ada@example.com").await;
    let id = project(&c, "static").await;
    let status = start_ready(&c, &id, READY).await;
    let info = inspect(status["container"].as_str().unwrap());
    let network = info["HostConfig"]["NetworkMode"]
        .as_str()
        .unwrap()
        .to_string();
    let net = inspect_network(&network);
    assert_eq!(net[0]["Internal"], false, "this is the egress network");
    assert_eq!(
        net[0]["Options"]["com.docker.network.bridge.name"],
        "autocrea-sb1"
    );
    assert_eq!(
        net[0]["Options"]["com.docker.network.bridge.enable_icc"],
        "false"
    );
    assert_eq!(
        s.state().sandboxes.host_guard(),
        Some(Ok(())),
        "host firewall rules in place (tests run as root)"
    );

    let everywhere = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let port = everywhere.local_addr().unwrap().port();
    let gateway = net[0]["IPAM"]["Config"][0]["Gateway"]
        .as_str()
        .unwrap()
        .to_string();
    // The listener answers on that address from the host: the probe can succeed.
    assert!(tokio::net::TcpStream::connect((gateway.as_str(), port))
        .await
        .is_ok());
    let probe = format!(
        "node -e \"const s=require('net').connect({{host:'{gateway}',port:{port},timeout:3000}});s.on('connect',()=>{{console.log('REACHED');process.exit(3)}});s.on('error',e=>console.log('refused:',e.code));s.on('timeout',()=>{{console.log('refused: timeout');s.destroy()}})\""
    );
    let out = exec_output(&c, &id, &probe, 15).await;
    assert!(
        out.contains("refused:") && !out.contains("REACHED"),
        "{out}"
    );
}
