//! The editor's files API: the tree of the current version, reading a file,
//! saving (a commit each, with the blob it started from), conflicts,
//! deleting and renaming, and no writes while the agent holds the project.

use autocrea_e2e::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_reads_saves_renames_and_deletes_files_as_versions() {
    let s = TestServer::start().await;
    let c = s.user("ada@example.com").await;
    let id = c.new_project("Editor").await["id"].as_str().unwrap().to_string();
    let tree = c.get(&format!("/api/v1/projects/{id}/files")).await;
    assert_eq!(tree.status, StatusCode::OK, "{}", tree.text);
    let paths: Vec<&str> = tree.body["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"index.html") && paths.contains(&"style.css"), "{paths:?}");

    let f = c.get(&format!("/api/v1/projects/{id}/file?path=index.html")).await;
    assert_eq!(f.status, StatusCode::OK);
    assert!(f.body["content"].as_str().unwrap().contains("Hello from AUTOCREA"));
    let sha = f.body["sha"].as_str().unwrap().to_string();
    let put = |path: &str, body: serde_json::Value| c.request(Method::PUT, &format!("/api/v1/projects/{id}/file?path={path}")).json(&body);

    // Save: a new version by the person, the working tree follows.
    let r = c.send(put("index.html", json!({"content": "<h1>Edited</h1>\n", "sha": sha}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let new_sha = r.body["sha"].as_str().unwrap().to_string();
    let versions = c.get(&format!("/api/v1/projects/{id}/versions")).await.body;
    assert_eq!((versions["total"].as_i64(), versions["versions"][0]["message"].as_str()), (Some(2), Some("Update index.html")));
    assert_eq!(versions["versions"][0]["author"]["name"], "Test User");
    assert_eq!(std::fs::read_to_string(s.state().git.worktree_path(&id).join("index.html")).unwrap(), "<h1>Edited</h1>\n");

    // The old sha is stale now: a conflict, nothing lost.
    let r = c.send(put("index.html", json!({"content": "<h1>Other</h1>\n", "sha": sha}))).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"), "{}", r.text);
    // Creating over an existing file needs its sha; a new file needs none.
    let r = c.send(put("index.html", json!({"content": "x"}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = c.send(put("pages/about.html", json!({"content": "<h1>About</h1>\n"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let about = r.body["sha"].as_str().unwrap().to_string();
    let r = c.send(put("../escape.html", json!({"content": "x"}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);

    // Rename: one version; delete: one version.
    let r = c.post(&format!("/api/v1/projects/{id}/file/rename"), json!({"from": "pages/about.html", "to": "about.html", "sha": about})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = c.send(c.request(Method::DELETE, &format!("/api/v1/projects/{id}/file?path=index.html&sha={new_sha}"))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let versions = c.get(&format!("/api/v1/projects/{id}/versions")).await.body;
    let messages: Vec<&str> = versions["versions"].as_array().unwrap().iter().map(|v| v["message"].as_str().unwrap().lines().next().unwrap()).collect();
    assert_eq!(&messages[..3], ["Delete index.html", "Rename pages/about.html to about.html", "Add pages/about.html"]);
    let paths: Vec<String> = c.get(&format!("/api/v1/projects/{id}/files")).await.body["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap().to_string()).collect();
    assert!(paths.contains(&"about.html".to_string()) && !paths.iter().any(|p| p == "index.html" || p.starts_with("pages/")), "{paths:?}");

    // While the agent (or anything else) holds the project, saves wait for it with a clear 409.
    let lock = s.state().git.lock(&id).await;
    let r = c.send(put("new.html", json!({"content": "x"}))).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "agent_running"), "{}", r.text);
    drop(lock);
    let r = c.get(&format!("/api/v1/projects/{id}/file?path=missing.html")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
