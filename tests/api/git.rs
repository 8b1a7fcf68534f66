//! Git over smart HTTP with the real `git` client.

use autocrea_e2e::{Git, TestServer, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;
use std::path::Path;

struct Fixture {
    s: TestServer,
    git: Git,
    work: tempfile::TempDir,
    project: String,
    url: String,
}

impl Fixture {
    async fn new() -> Self {
        let s = TestServer::start().await;
        let c = s.user("ada@example.com").await;
        let project = c.new_project("Demo App").await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let url = s.git_url("ada", &PASSWORD.replace(' ', "%20"), "ada", "demo-app");
        Self {
            s,
            git: Git::new(),
            work: tempfile::tempdir().unwrap(),
            project,
            url,
        }
    }

    fn bare(&self) -> std::path::PathBuf {
        self.s
            .data_dir()
            .join("repos")
            .join(format!("{}.git", self.project))
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.work.path().join(name)
    }

    async fn clone(&self, name: &str, extra: &[&str]) -> autocrea_e2e::GitOutput {
        let mut args = vec!["clone"];
        args.extend_from_slice(extra);
        args.push(&self.url);
        args.push(name);
        self.git.run(self.work.path(), &args).await
    }

    async fn commit_file(&self, repo: &str, file: &str, content: &str) {
        std::fs::write(self.path(repo).join(file), content).unwrap();
        assert!(self.git.run(&self.path(repo), &["add", "-A"]).await.ok);
        let out = self
            .git
            .run(
                &self.path(repo),
                &["commit", "-qm", &format!("Change {file}")],
            )
            .await;
        assert!(out.ok, "{}", out.stderr);
    }

    async fn versions(&self) -> Vec<serde_json::Value> {
        let c = self.s.browser();
        c.login("ada@example.com", PASSWORD).await;
        c.get(&format!("/api/v1/projects/{}/versions", self.project))
            .await
            .body["versions"]
            .as_array()
            .unwrap()
            .clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clone_push_pull_and_the_working_tree_follows() {
    let f = Fixture::new().await;
    let out = f.clone("one", &[]).await;
    assert!(out.ok, "clone: {}", out.stderr);
    assert!(
        f.path("one/index.html").exists(),
        "the template is the first commit"
    );

    f.commit_file("one", "notes.txt", "hello\n").await;
    let out = f.git.run(&f.path("one"), &["push", "origin", "main"]).await;
    assert!(out.ok, "push: {}", out.stderr);

    let versions = f.versions().await;
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["summary"], "Change notes.txt");
    assert_eq!(versions[0]["author"]["name"], "Ada Tester");
    assert_eq!(versions[0]["author"]["kind"], "person");
    assert_eq!(versions[0]["files"][0]["path"], "notes.txt");
    let tree = f.s.data_dir().join("worktrees").join(&f.project);
    assert_eq!(
        std::fs::read_to_string(tree.join("notes.txt")).unwrap(),
        "hello\n",
        "working tree follows the push"
    );

    assert!(f.clone("two", &[]).await.ok);
    f.commit_file("two", "more.txt", "more\n").await;
    assert!(f.git.run(&f.path("two"), &["push"]).await.ok);
    let out = f.git.run(&f.path("one"), &["pull", "--ff-only"]).await;
    assert!(out.ok, "pull: {}", out.stderr);
    assert!(f.path("one/more.txt").exists());
    f.git.assert_fsck(&f.bare()).await;
    f.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_v2_and_shallow_clone() {
    let f = Fixture::new().await;
    assert!(f.clone("full", &[]).await.ok);
    for i in 0..3 {
        f.commit_file("full", &format!("f{i}.txt"), "x\n").await;
    }
    assert!(f.git.run(&f.path("full"), &["push"]).await.ok);

    let out = f
        .git
        .run_env(
            f.work.path(),
            &["-c", "protocol.version=2", "ls-remote", &f.url],
            &[("GIT_TRACE_PACKET", "1")],
        )
        .await;
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stderr.contains("git< version 2"),
        "the server spoke protocol v2:\n{}",
        &out.stderr[..out.stderr.len().min(2000)]
    );
    assert!(out.stdout.contains("refs/heads/main"));

    let out = f
        .clone("shallow", &["--depth", "1", "-c", "protocol.version=2"])
        .await;
    assert!(out.ok, "{}", out.stderr);
    let count = f
        .git
        .run(&f.path("shallow"), &["rev-list", "--count", "HEAD"])
        .await;
    assert_eq!(count.stdout.trim(), "1");
    assert!(f.path("shallow/f2.txt").exists());
    let out = f.clone("v0", &["-c", "protocol.version=0"]).await;
    assert!(out.ok, "protocol v0 still works: {}", out.stderr);
    f.git.assert_fsck(&f.bare()).await;
    f.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_or_missing_credentials_and_other_users() {
    let f = Fixture::new().await;
    let host = f.s.url.trim_start_matches("http://").to_string();
    let wrong = format!("http://ada:not-the-password@{host}/git/ada/demo-app.git");
    let out = f.git.run(f.work.path(), &["clone", &wrong, "nope"]).await;
    assert!(
        !out.ok && out.stderr.contains("Authentication failed"),
        "{}",
        out.stderr
    );

    assert!(f.clone("ok", &[]).await.ok);
    f.commit_file("ok", "x.txt", "x\n").await;
    let out = f.git.run(&f.path("ok"), &["push", &wrong, "main"]).await;
    assert!(!out.ok, "a push with a wrong password is refused");
    assert_eq!(f.versions().await.len(), 1, "nothing changed");

    // No credentials: 401 with a Basic challenge, for existing and missing repositories alike.
    for path in [
        "/git/ada/demo-app.git/info/refs?service=git-upload-pack",
        "/git/ada/missing.git/info/refs?service=git-upload-pack",
    ] {
        let r = reqwest::get(format!("{}{path}", f.s.url)).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic"));
    }

    // Another user's repository does not exist for them; a token works for its owner.
    let bob = f.s.user("bob@example.com").await;
    let bob_token = bob.new_token("git").await;
    let as_bob = format!("http://bob:{bob_token}@{host}/git/ada/demo-app.git");
    let out = f.git.run(f.work.path(), &["clone", &as_bob, "bob"]).await;
    assert!(
        !out.ok && out.stderr.contains("not found"),
        "{}",
        out.stderr
    );
    let ada = f.s.browser();
    ada.login("ada@example.com", PASSWORD).await;
    let token = ada.new_token("git").await;
    let out = f
        .git
        .run(
            f.work.path(),
            &[
                "clone",
                &format!("http://x-token:{token}@{host}/git/ada/demo-app.git"),
                "tok",
            ],
        )
        .await;
    assert!(out.ok, "token as password: {}", out.stderr);
    let header = format!("http.extraHeader=Authorization: Bearer {token}");
    let out = f
        .git
        .run(
            f.work.path(),
            &[
                "-c",
                &header,
                "clone",
                &format!("http://{host}/git/ada/demo-app.git"),
                "bearer",
            ],
        )
        .await;
    assert!(out.ok, "bearer header: {}", out.stderr);
    f.git.assert_fsck(&f.bare()).await;
    f.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_are_refused() {
    let f = Fixture::new().await;
    let token = {
        let c = f.s.browser();
        c.login("ada@example.com", PASSWORD).await;
        c.new_token("t").await
    };
    let long = "a".repeat(300);
    let paths = [
        "/git/ada/..%2F..%2Fetc/info/refs?service=git-upload-pack".to_string(),
        "/git/%2e%2e/demo-app.git/info/refs?service=git-upload-pack".to_string(),
        "/git/ada/%2e%2e/info/refs?service=git-upload-pack".to_string(),
        "/git/ada/%2Fetc%2Fpasswd/info/refs?service=git-upload-pack".to_string(),
        "/git/ada/demo%00app.git/info/refs?service=git-upload-pack".to_string(),
        "/git/ada/Demo-App.git/info/refs?service=git-upload-pack".to_string(),
        format!("/git/ada/{long}.git/info/refs?service=git-upload-pack"),
        format!("/git/{long}/demo-app.git/info/refs?service=git-upload-pack"),
    ];
    let http = reqwest::Client::new();
    for path in &paths {
        let r = http
            .get(format!("{}{path}", f.s.url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(
            r.status() == StatusCode::NOT_FOUND || r.status() == StatusCode::BAD_REQUEST,
            "{path}: {}",
            r.status()
        );
    }
    let r = http
        .get(format!(
            "{}/git/ada/demo-app.git/info/refs?service=git-upload-pack",
            f.s.url
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the real name works");
    assert_eq!(
        r.headers()["content-type"],
        "application/x-git-upload-pack-advertisement"
    );
    let host = f.s.url.trim_start_matches("http://");
    let out = f
        .git
        .run(
            f.work.path(),
            &[
                "clone",
                &format!("http://ada:{token}@{host}/git/ada/..%2Fdemo-app.git"),
                "x",
            ],
        )
        .await;
    assert!(!out.ok);
    f.git.assert_fsck(&f.bare()).await;
    f.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_fast_forward_needs_force_and_concurrent_pushes_leave_one_winner() {
    let f = Fixture::new().await;
    assert!(f.clone("a", &[]).await.ok);
    assert!(f.clone("b", &[]).await.ok);
    f.commit_file("a", "a.txt", "a\n").await;
    assert!(f.git.run(&f.path("a"), &["push"]).await.ok);
    f.commit_file("b", "b.txt", "b\n").await;
    let out = f.git.run(&f.path("b"), &["push"]).await;
    assert!(
        !out.ok && (out.stderr.contains("rejected") || out.stderr.contains("non-fast-forward")),
        "{}",
        out.stderr
    );
    let out = f.git.run(&f.path("b"), &["push", "--force"]).await;
    assert!(out.ok, "the owner may force: {}", out.stderr);
    assert_eq!(f.versions().await[0]["summary"], "Change b.txt");

    // Two pushes at once from the same base: one lands, one is refused.
    for (name, file) in [("c", "c.txt"), ("d", "d.txt")] {
        assert!(f.clone(name, &[]).await.ok);
        f.commit_file(name, file, "x\n").await;
    }
    let (pc, pd) = (f.path("c"), f.path("d"));
    let (c, d) = tokio::join!(f.git.run(&pc, &["push"]), f.git.run(&pd, &["push"]));
    assert!(
        c.ok != d.ok,
        "exactly one push wins: c={} d={}\n{}\n{}",
        c.ok,
        d.ok,
        c.stderr,
        d.stderr
    );
    let head = f.versions().await[0]["summary"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(head == "Change c.txt" || head == "Change d.txt");
    f.git.assert_fsck(&f.bare()).await;
    f.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_of_a_100_mb_file() {
    let f = Fixture::new().await;
    assert!(f.clone("big", &[]).await.ok);
    write_random(&f.path("big/blob.bin"), 100 * 1024 * 1024);
    assert!(f.git.run(&f.path("big"), &["add", "blob.bin"]).await.ok);
    assert!(
        f.git
            .run(&f.path("big"), &["commit", "-qm", "Add a large file"])
            .await
            .ok
    );
    let out = f.git.run(&f.path("big"), &["push"]).await;
    assert!(out.ok, "{}", out.stderr);
    let size = f
        .git
        .run(&f.bare(), &["cat-file", "-s", "main:blob.bin"])
        .await;
    assert_eq!(size.stdout.trim(), (100 * 1024 * 1024).to_string());
    let wt =
        f.s.data_dir()
            .join("worktrees")
            .join(&f.project)
            .join("blob.bin");
    assert_eq!(std::fs::metadata(wt).unwrap().len(), 100 * 1024 * 1024);
    f.git.assert_fsck(&f.bare()).await;
    f.s.stop().await;
}

fn write_random(path: &Path, len: usize) {
    // xorshift: incompressible enough that git cannot shrink the pack.
    let mut state = 0x9E3779B97F4A7C15u64;
    let mut data = vec![0u8; len];
    for chunk in data.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
    std::fs::write(path, data).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_lifecycle_reaches_the_repository() {
    let f = Fixture::new().await;
    let c = f.s.browser();
    c.login("ada@example.com", PASSWORD).await;
    let copy = c
        .post_empty(&format!("/api/v1/projects/{}/duplicate", f.project))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let copy_repo = f.s.data_dir().join("repos").join(format!("{copy}.git"));
    f.git.assert_fsck(&copy_repo).await;
    let out = f
        .git
        .run(
            f.work.path(),
            &[
                "clone",
                &f.s.git_url("ada", &PASSWORD.replace(' ', "%20"), "ada", "demo-app-copy"),
                "copy",
            ],
        )
        .await;
    assert!(
        out.ok,
        "the copy is clonable under its own slug: {}",
        out.stderr
    );
    assert_eq!(
        c.delete(&format!("/api/v1/projects/{copy}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert!(
        !copy_repo.exists(),
        "deleting a project removes its repository"
    );
    let r = c
        .patch(
            &format!("/api/v1/projects/{}", f.project),
            json!({"name": "Renamed"}),
        )
        .await;
    assert_eq!(r.body["slug"], "renamed");
    assert!(
        f.git
            .run(
                f.work.path(),
                &[
                    "clone",
                    &f.s.git_url("ada", &PASSWORD.replace(' ', "%20"), "ada", "renamed"),
                    "renamed"
                ]
            )
            .await
            .ok
    );
    f.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_request_bodies_are_accepted() {
    use std::io::Write;
    let f = Fixture::new().await;
    let c = f.s.browser();
    c.login("ada@example.com", PASSWORD).await;
    let head = f.versions().await[0]["sha"].as_str().unwrap().to_string();
    let request = format!("0032want {head}\n00000009done\n");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(request.as_bytes()).unwrap();
    let body = gz.finish().unwrap();
    let url = format!("{}/git/ada/demo-app.git/git-upload-pack", f.s.url);
    let http = reqwest::Client::new();
    for (encoding, bytes) in [(Some("gzip"), body), (None, request.into_bytes())] {
        let mut rb = http
            .post(&url)
            .basic_auth("ada", Some(PASSWORD))
            .header("content-type", "application/x-git-upload-pack-request")
            .body(bytes);
        if let Some(e) = encoding {
            rb = rb.header("content-encoding", e);
        }
        let r = rb.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()["content-type"],
            "application/x-git-upload-pack-result"
        );
        let pack = r.bytes().await.unwrap();
        assert!(
            pack.starts_with(b"0008NAK\n"),
            "{encoding:?}: {:?}",
            String::from_utf8_lossy(&pack[..pack.len().min(40)])
        );
        assert!(
            pack.windows(4).any(|w| w == b"PACK"),
            "{encoding:?}: a pack comes back"
        );
    }
    let r = http
        .post(&url)
        .basic_auth("ada", Some(PASSWORD))
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    f.s.stop().await;
}

/// A push whose refusals fill git's stderr pipe (many long, badly named
/// refs) is answered, and the project's lock is free again afterwards: git
/// blocked on a full stderr used to hold the lock for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_that_floods_stderr_does_not_hang_the_project() {
    let f = Fixture::new().await;
    let pkt = |line: &str| format!("{:04x}{line}", line.len() + 4);
    let zero = "0".repeat(40);
    let mut body = String::new();
    for i in 0..60 {
        let name = format!("refs/heads/bad..{i}{}", "x".repeat(3000));
        let caps = if i == 0 { "\0report-status" } else { "" };
        body.push_str(&pkt(&format!("{} {zero} {name}{caps}\n", "a".repeat(40))));
    }
    body.push_str("0000");
    let url = format!("{}/git/ada/demo-app.git/git-receive-pack", f.s.url);
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap();
    let r = http
        .post(&url)
        .basic_auth("ada", Some(PASSWORD))
        .header("content-type", "application/x-git-receive-pack-request")
        .body(body)
        .send()
        .await
        .expect("the push is answered");
    let _ = tokio::time::timeout(std::time::Duration::from_secs(60), r.bytes())
        .await
        .expect("the answer ends");
    // The lock is free: a normal push goes through at once.
    assert!(f.clone("after", &[]).await.ok);
    f.commit_file("after", "ok.txt", "ok\n").await;
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        f.git.run(&f.path("after"), &["push"]),
    )
    .await
    .expect("the next push is not stuck behind the lock");
    assert!(out.ok, "{}", out.stderr);
}
