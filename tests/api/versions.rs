//! The version timeline through the API: history, diff, revert, branches.

use autocrea_e2e::{Git, TestServer, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_diff_revert_and_branches() {
    let s = TestServer::start().await;
    let c = s.user("ada@example.com").await;
    let id = c.new_project("Timeline").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let base = format!("/api/v1/projects/{id}");

    // A second version, pushed with git.
    let git = Git::new();
    let work = tempfile::tempdir().unwrap();
    let url = s.git_url("ada", &PASSWORD.replace(' ', "%20"), "ada", "timeline");
    assert!(git.run(work.path(), &["clone", &url, "w"]).await.ok);
    let w = work.path().join("w");
    std::fs::write(w.join("index.html"), "<h1>Version two</h1>\n").unwrap();
    std::fs::remove_file(w.join("app.js")).unwrap();
    assert!(git.run(&w, &["commit", "-qam", "Second version"]).await.ok);
    assert!(git.run(&w, &["push"]).await.ok);

    let h = c.get(&format!("{base}/versions")).await;
    assert_eq!(
        (h.body["total"].as_u64(), h.body["branch"].as_str()),
        (Some(2), Some("main"))
    );
    let versions = h.body["versions"].as_array().unwrap();
    let (second, first) = (
        versions[0]["sha"].as_str().unwrap().to_string(),
        versions[1]["sha"].as_str().unwrap().to_string(),
    );
    assert_eq!(versions[0]["author"]["name"], "Ada Tester");
    assert_eq!(
        versions[1]["author"]["name"], "Test User",
        "the first commit is by the project's creator"
    );
    let statuses: Vec<(String, String)> = versions[0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().into(),
                f["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        statuses.contains(&("app.js".into(), "deleted".into()))
            && statuses.contains(&("index.html".into(), "modified".into()))
    );
    assert_eq!(
        c.get(&format!("{base}/versions?limit=1&page=2")).await.body["versions"][0]["sha"],
        first.as_str()
    );
    assert!(
        c.get(&format!("{base}/versions?page=9")).await.body["versions"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let v = c.get(&format!("{base}/versions/{first}")).await;
    assert_eq!(v.body["summary"], "Start from the template");
    assert_eq!(
        c.get(&format!("{base}/versions/{}", "0".repeat(40)))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = c.get(&format!("{base}/versions/..%2F..%2Fetc")).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );

    let d = c
        .get(&format!("{base}/diff?from={first}&to={second}"))
        .await;
    let files = d.body["files"].as_array().unwrap();
    let page = files.iter().find(|f| f["path"] == "index.html").unwrap();
    assert!(
        page["patch"]
            .as_str()
            .unwrap()
            .contains("+<h1>Version two</h1>"),
        "{}",
        page["patch"]
    );
    assert_eq!(page["status"], "modified");
    assert!(files
        .iter()
        .any(|f| f["path"] == "app.js" && f["status"] == "deleted"));

    // Revert to the first version: a new commit, nothing rewritten.
    let r = c
        .post_empty(&format!("{base}/versions/{first}/revert"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["parents"][0], second.as_str());
    assert!(r.body["summary"].as_str().unwrap().starts_with("Revert to"));
    assert_eq!(c.get(&format!("{base}/versions")).await.body["total"], 3);
    let tree = s.data_dir().join("worktrees").join(&id);
    assert!(
        tree.join("app.js").exists(),
        "the working tree has the restored files"
    );
    let r = c
        .post_empty(&format!("{base}/versions/{first}/revert"))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"));
    assert!(
        git.run(&w, &["pull", "--ff-only"]).await.ok,
        "clones fast-forward onto a revert"
    );

    // Branches: create from a version, switch (the working tree follows), delete.
    let r = c
        .post(
            &format!("{base}/branches"),
            json!({"name": "redesign", "from": second}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        c.post(&format!("{base}/branches"), json!({"name": "redesign"}))
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        c.post(&format!("{base}/branches"), json!({"name": "../evil"}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let r = c
        .post(
            &format!("{base}/branches/switch"),
            json!({"name": "redesign"}),
        )
        .await;
    assert_eq!(r.body["branches"][0]["name"], "redesign");
    assert_eq!(r.body["branches"][0]["current"], true);
    assert!(!tree.join("app.js").exists());
    assert_eq!(
        c.get(&format!("{base}/versions")).await.body["branch"],
        "redesign"
    );
    assert_eq!(
        c.delete(&format!("{base}/branches/redesign")).await.status,
        StatusCode::CONFLICT,
        "not the current branch"
    );
    c.post(&format!("{base}/branches/switch"), json!({"name": "main"}))
        .await;
    assert_eq!(
        c.delete(&format!("{base}/branches/redesign")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        c.get(&format!("{base}/branches")).await.body["branches"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        c.post(&format!("{base}/branches/switch"), json!({"name": "gone"}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    git.assert_fsck(&s.data_dir().join("repos").join(format!("{id}.git")))
        .await;
    s.stop().await;
}

/// Previewing an earlier version: the working tree (what the sandbox
/// serves) shows its files, the history stays, and the next change, a
/// DELETE or a restart brings the latest back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_an_earlier_version() {
    let s = TestServer::start().await;
    let c = s.user("ada@example.com").await;
    let id = c.new_project("Versions").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let base = format!("/api/v1/projects/{id}");
    let save = |content: &str, sha: &str| {
        c.request(
            reqwest::Method::PUT,
            &format!("{base}/file?path=index.html"),
        )
        .json(&json!({"content": content, "sha": sha}))
    };
    let sha_of = |r: &autocrea_e2e::Reply| r.body["sha"].as_str().unwrap().to_string();
    let first = c.get(&format!("{base}/versions")).await.body["versions"][0]["sha"]
        .as_str()
        .unwrap()
        .to_string();
    let blob = sha_of(&c.get(&format!("{base}/file?path=index.html")).await);
    let r = c.send(save("<h1>Two</h1>\n", &blob)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let index = s.data_dir().join("worktrees").join(&id).join("index.html");
    let shown = || std::fs::read_to_string(&index).unwrap();
    assert_eq!(shown(), "<h1>Two</h1>\n");
    assert!(c.get(&format!("{base}/preview-version")).await.body["version"].is_null());

    let pin = |sha: &str| {
        c.request(reqwest::Method::PUT, &format!("{base}/preview-version"))
            .json(&json!({"sha": sha}))
    };
    let r = c.send(pin(&first)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["version"]["sha"], first.as_str());
    assert_ne!(
        shown(),
        "<h1>Two</h1>\n",
        "the working tree shows the first version"
    );
    assert_eq!(
        c.get(&format!("{base}/preview-version")).await.body["version"]["sha"],
        first.as_str()
    );
    assert_eq!(
        c.get(&format!("{base}/versions")).await.body["total"],
        2,
        "the history is unchanged"
    );
    // The files API still reads the latest version.
    assert_eq!(
        c.get(&format!("{base}/file?path=index.html")).await.body["content"],
        "<h1>Two</h1>\n"
    );

    // Bad input.
    let r = c.send(pin("abc")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = c.send(pin(&"0".repeat(40))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // Back to the latest.
    assert_eq!(c.send(pin(&first)).await.status, StatusCode::OK);
    let r = c.delete(&format!("{base}/preview-version")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(shown(), "<h1>Two</h1>\n");
    assert!(c.get(&format!("{base}/preview-version")).await.body["version"].is_null());

    // A save while previewing: the latest comes back first, then the save lands on it.
    assert_eq!(c.send(pin(&first)).await.status, StatusCode::OK);
    let blob = sha_of(&c.get(&format!("{base}/file?path=index.html")).await);
    let r = c.send(save("<h1>Three</h1>\n", &blob)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(shown(), "<h1>Three</h1>\n");
    assert!(c.get(&format!("{base}/preview-version")).await.body["version"].is_null());
    let status = std::process::Command::new("git")
        .args([
            "--git-dir",
            s.data_dir()
                .join("repos")
                .join(format!("{id}.git"))
                .to_str()
                .unwrap(),
        ])
        .args([
            "--work-tree",
            s.data_dir().join("worktrees").join(&id).to_str().unwrap(),
            "status",
            "--porcelain",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&status.stdout),
        "",
        "the working tree matches the branch head"
    );

    // A restart while previewing puts the latest back.
    assert_eq!(c.send(pin(&first)).await.status, StatusCode::OK);
    assert_ne!(shown(), "<h1>Three</h1>\n");
    let s = s.restart().await;
    assert_eq!(
        std::fs::read_to_string(s.data_dir().join("worktrees").join(&id).join("index.html"))
            .unwrap(),
        "<h1>Three</h1>\n"
    );
}
