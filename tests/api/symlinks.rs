//! Attacks on the file boundary through git (issue 16, findings 1 and 10):
//! a push plants symbolic links at the temporary name an agent write used
//! to take, at a parent folder and at a file, then the scripted model runs
//! a turn that writes through each. Nothing outside the project changes,
//! the repository's config stays as the appliance wrote it, no command in
//! it runs, and no host file reaches the model.

use super::agent::{setup, wait_idle};
use autocrea_e2e::scripted::{calls, say, Script};
use autocrea_e2e::{Git, PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_never_writes_or_reads_through_pushed_links() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("secret.txt"),
        "host data, not the project's",
    )
    .unwrap();
    let marker = outside.path().join("fsmonitor-ran");
    let poisoned_config = format!("[core]\n\tfsmonitor = \"touch {}\"\n", marker.display());

    let script = Script::default();
    let (s, c, project, thread) = setup(&script).await;
    let bare = s.data_dir().join("repos").join(format!("{project}.git"));
    let config_before = std::fs::read(bare.join("config")).unwrap();

    // The push: links at `.index.html.autocrea-tmp` (to the repository's
    // config), at a folder (`src`, to a host folder) and at a file.
    let git = Git::new();
    let work = tempfile::tempdir().unwrap();
    let url = s.git_url("ada", &PASSWORD.replace(' ', "%20"), "ada", "agent-app");
    assert!(git.run(work.path(), &["clone", "-q", &url, "app"]).await.ok);
    let app = work.path().join("app");
    let to_config = format!("../../repos/{project}.git/config");
    std::os::unix::fs::symlink(&to_config, app.join(".index.html.autocrea-tmp")).unwrap();
    std::os::unix::fs::symlink(outside.path(), app.join("src")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), app.join("notes.txt")).unwrap();
    assert!(git.run(&app, &["add", "-A"]).await.ok);
    assert!(git.run(&app, &["commit", "-qm", "Links"]).await.ok);
    let pushed = git.run(&app, &["push", "-q", "origin", "main"]).await;
    assert!(pushed.ok, "{}", pushed.stderr);
    let wt = s.state().git.worktree_path(&project);
    assert!(
        std::fs::symlink_metadata(wt.join("src"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the links are checked out as links"
    );

    script.push(calls(&[
        (
            "c1",
            "full_file_rewrite",
            json!({"path": "index.html", "content": poisoned_config}),
        ),
        (
            "c2",
            "create_file",
            json!({"path": "src/evil.js", "content": "owned"}),
        ),
        ("c3", "read_file", json!({"path": "notes.txt"})),
        (
            "c4",
            "update_file_sections",
            json!({"path": "notes.txt", "sections": [{"search": "host", "replace": "agent"}]}),
        ),
        (
            "c5",
            "full_file_rewrite",
            json!({"path": "notes.txt", "content": "agent text"}),
        ),
        ("c6", "read_file", json!({"path": "src/secret.txt"})),
        ("c7", "list_files", json!({"path": "src"})),
    ]));
    script.push(say("Done."));
    let r = c
        .post(
            &format!("/api/v1/projects/{project}/threads/{thread}/messages"),
            json!({"content": "Rewrite the page", "model": "scripted/coder"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    wait_idle(&c, &project, &thread).await;

    // Outside: unchanged. The config: byte for byte as written. No command ran.
    let names: Vec<_> = std::fs::read_dir(outside.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["secret.txt"], "nothing new outside the project");
    assert_eq!(
        std::fs::read_to_string(outside.path().join("secret.txt")).unwrap(),
        "host data, not the project's"
    );
    assert_eq!(
        std::fs::read(bare.join("config")).unwrap(),
        config_before,
        "the repository's config is the appliance's"
    );
    assert!(!marker.exists(), "no fsmonitor command ran");

    // The model saw refusals, never the host file.
    let requests = serde_json::to_string(&script.requests()).unwrap();
    assert!(
        !requests.contains("host data"),
        "a host file reached the model"
    );
    assert!(
        requests.contains("symbolic link"),
        "the refusals say why: {requests}"
    );
    // The legitimate write landed as a version; the links are still links.
    assert_eq!(
        std::fs::read_to_string(wt.join("index.html")).unwrap(),
        poisoned_config
    );
    assert!(
        std::fs::symlink_metadata(wt.join(".index.html.autocrea-tmp"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    git.assert_fsck(&bare).await;

    // Finding 10: the editor saving under the linked folder is a clear 409, not a 500.
    let r = c
        .send(
            c.request(
                Method::PUT,
                &format!("/api/v1/projects/{project}/file?path=src/evil.js"),
            )
            .json(&json!({"content": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(r.message().contains("src is a symbolic link"), "{}", r.text);
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1);
}

/// A config changed behind the appliance's back (here by hand; in the
/// attack, through a link) is cleaned at start. (That git never runs such a
/// config's fsmonitor even before: gitstore's unit tests.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_repository_config_is_removed_at_start() {
    let s = autocrea_e2e::TestServer::start().await;
    let c = s.user("ada@example.com").await;
    let project = c.new_project("Config").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let config = s
        .data_dir()
        .join("repos")
        .join(format!("{project}.git"))
        .join("config");
    let clean = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{clean}[core]\n\tfsmonitor = \"touch /tmp/x\"\n\thooksPath = /tmp\n[alias]\n\tx = !touch /tmp/x\n[receive]\n\tfsckObjects = false\n")).unwrap();
    let s = s.restart().await;
    let after = std::fs::read_to_string(&config).unwrap();
    assert!(
        !after.contains("fsmonitor") && !after.contains("hooksPath") && !after.contains("alias"),
        "{after}"
    );
    let lower = after.to_lowercase();
    assert!(
        lower.matches("fsckobjects = true").count() == 1 && !lower.contains("fsckobjects = false"),
        "{after}"
    );
    drop(s);
}
