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
    let id = c.new_project("Editor").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let tree = c.get(&format!("/api/v1/projects/{id}/files")).await;
    assert_eq!(tree.status, StatusCode::OK, "{}", tree.text);
    let paths: Vec<&str> = tree.body["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"index.html") && paths.contains(&"style.css"),
        "{paths:?}"
    );

    let f = c
        .get(&format!("/api/v1/projects/{id}/file?path=index.html"))
        .await;
    assert_eq!(f.status, StatusCode::OK);
    assert!(f.body["content"]
        .as_str()
        .unwrap()
        .contains("Hello from AUTOCREA"));
    let sha = f.body["sha"].as_str().unwrap().to_string();
    let put = |path: &str, body: serde_json::Value| {
        c.request(
            Method::PUT,
            &format!("/api/v1/projects/{id}/file?path={path}"),
        )
        .json(&body)
    };

    // Save: a new version by the person, the working tree follows.
    let r = c
        .send(put(
            "index.html",
            json!({"content": "<h1>Edited</h1>\n", "sha": sha}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let new_sha = r.body["sha"].as_str().unwrap().to_string();
    let versions = c.get(&format!("/api/v1/projects/{id}/versions")).await.body;
    assert_eq!(
        (
            versions["total"].as_i64(),
            versions["versions"][0]["message"].as_str()
        ),
        (Some(2), Some("Update index.html"))
    );
    assert_eq!(versions["versions"][0]["author"]["name"], "Test User");
    assert_eq!(
        std::fs::read_to_string(s.state().git.worktree_path(&id).join("index.html")).unwrap(),
        "<h1>Edited</h1>\n"
    );

    // The old sha is stale now: a conflict, nothing lost.
    let r = c
        .send(put(
            "index.html",
            json!({"content": "<h1>Other</h1>\n", "sha": sha}),
        ))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "conflict"),
        "{}",
        r.text
    );
    // Creating over an existing file needs its sha; a new file needs none.
    let r = c.send(put("index.html", json!({"content": "x"}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = c
        .send(put(
            "pages/about.html",
            json!({"content": "<h1>About</h1>\n"}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let about = r.body["sha"].as_str().unwrap().to_string();
    let r = c.send(put("../escape.html", json!({"content": "x"}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);

    // Rename: one version; delete: one version.
    let r = c
        .post(
            &format!("/api/v1/projects/{id}/file/rename"),
            json!({"from": "pages/about.html", "to": "about.html", "sha": about}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = c
        .send(c.request(
            Method::DELETE,
            &format!("/api/v1/projects/{id}/file?path=index.html&sha={new_sha}"),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let versions = c.get(&format!("/api/v1/projects/{id}/versions")).await.body;
    let messages: Vec<&str> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["message"].as_str().unwrap().lines().next().unwrap())
        .collect();
    assert_eq!(
        &messages[..3],
        [
            "Delete index.html",
            "Rename pages/about.html to about.html",
            "Add pages/about.html"
        ]
    );
    let paths: Vec<String> = c.get(&format!("/api/v1/projects/{id}/files")).await.body["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert!(
        paths.contains(&"about.html".to_string())
            && !paths
                .iter()
                .any(|p| p == "index.html" || p.starts_with("pages/")),
        "{paths:?}"
    );

    // While the agent (or anything else) holds the project, saves wait for it with a clear 409.
    let lock = s.state().git.lock(&id).await;
    let r = c.send(put("new.html", json!({"content": "x"}))).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "agent_running"),
        "{}",
        r.text
    );
    drop(lock);
    let r = c
        .get(&format!("/api/v1/projects/{id}/file?path=missing.html"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// Search across files (literal, case, regex), then replace in the files a
/// search found as one commit; a file changed since the search is a
/// conflict and nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_and_replace_across_files() {
    let s = TestServer::start().await;
    let c = s.user("ada@example.com").await;
    let id = c.new_project("Search").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let base = format!("/api/v1/projects/{id}");
    let put = |path: &str, body: serde_json::Value| {
        c.request(Method::PUT, &format!("{base}/file?path={path}"))
            .json(&body)
    };
    let r = c
        .send(put(
            "about.html",
            json!({"content": "<h1>hello again</h1>\n<p>Say Hello, then hello.</p>\n"}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = c
        .send(put("logo.bin", json!({"content": "hello\u{0}binary"})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // Case-insensitive by default; binary files are skipped.
    let r = c.get(&format!("{base}/search?q=hello")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let files: Vec<&str> = r.body["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        files.contains(&"about.html") && files.contains(&"index.html"),
        "{files:?}"
    );
    assert!(!files.contains(&"logo.bin"));
    assert_eq!(r.body["skipped"], 1);
    let about = &r.body["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "about.html")
        .unwrap()["matches"];
    assert_eq!(about.as_array().unwrap().len(), 3);
    assert_eq!(
        (
            about[1]["line"].as_u64(),
            about[1]["column"].as_u64(),
            about[1]["length"].as_u64()
        ),
        (Some(2), Some(8), Some(5))
    );
    assert_eq!(about[1]["text"], "<p>Say Hello, then hello.</p>");

    // Match case, regex, limits, bad input.
    let exact = c
        .get(&format!("{base}/search?q=Hello&case=true"))
        .await
        .body;
    assert_eq!(
        exact["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == "about.html")
            .unwrap()["matches"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = c
        .get(&format!("{base}/search?q=h(el)%2Blo%5Cs&regex=true"))
        .await;
    assert!(r.body["total"].as_u64().unwrap() >= 1, "{}", r.text);
    let r = c.get(&format!("{base}/search?q=hello&limit=2")).await;
    assert_eq!(
        (r.body["total"].as_u64(), r.body["truncated"].as_bool()),
        (Some(2), Some(true))
    );
    let r = c.get(&format!("{base}/search?q=(&regex=true")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("regular expression"), "{}", r.text);
    assert_eq!(
        c.get(&format!("{base}/search?q=")).await.status,
        StatusCode::BAD_REQUEST
    );

    // Replace in what the search found: one commit, only those files.
    let found = c.get(&format!("{base}/search?q=hello")).await.body;
    let files: Vec<serde_json::Value> = found["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| json!({"path": f["path"], "sha": f["sha"]}))
        .collect();
    let r = c
        .post(
            &format!("{base}/replace"),
            json!({"q": "hello", "replacement": "Hi $1", "files": files}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["files"].as_array().unwrap().len(), files.len());
    let about = c.get(&format!("{base}/file?path=about.html")).await.body;
    assert_eq!(
        about["content"], "<h1>Hi $1 again</h1>\n<p>Say Hi $1, then Hi $1.</p>\n",
        "a literal replacement inserts no groups"
    );
    let versions = c.get(&format!("{base}/versions")).await.body;
    assert!(
        versions["versions"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Replace \"hello\" with \"Hi $1\" in"),
        "{}",
        versions["versions"][0]["message"]
    );
    let wt = std::fs::read_to_string(s.state().git.worktree_path(&id).join("about.html")).unwrap();
    assert!(wt.contains("Say Hi $1"), "the working tree follows");

    // Regex groups; a stale blob is a conflict and nothing changes.
    let found = c
        .get(&format!(
            "{base}/search?q=Hi%20%5C%241%20(%5Cw%2B)&regex=true&case=true"
        ))
        .await
        .body;
    let about_file = found["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "about.html")
        .unwrap()
        .clone();
    let total_before = versions["total"].clone();
    let stale = json!({"path": "index.html", "sha": "0000000000000000000000000000000000000000"});
    let r = c.post(&format!("{base}/replace"), json!({"q": r"Hi \$1 (\w+)", "regex": true, "case": true, "replacement": "Hello ${1}!", "files": [{"path": "about.html", "sha": about_file["sha"]}, stale]})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "conflict"),
        "{}",
        r.text
    );
    assert_eq!(
        c.get(&format!("{base}/versions")).await.body["total"],
        total_before
    );
    let r = c.post(&format!("{base}/replace"), json!({"q": r"Hi \$1 (\w+)", "regex": true, "case": true, "replacement": "Hello ${1}!", "files": [{"path": "about.html", "sha": about_file["sha"]}]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["replacements"], 1);
    assert_eq!(
        c.get(&format!("{base}/file?path=about.html")).await.body["content"],
        "<h1>Hello again!</h1>\n<p>Say Hi $1, then Hi $1.</p>\n"
    );
}
