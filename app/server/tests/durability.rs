//! kill -9 at random moments during API writes and git pushes: after each
//! restart the database passes `PRAGMA integrity_check`, every repository
//! passes `git fsck --full`, and every write acknowledged to a client is there.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::start;

fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "Kill Test")
        .env("GIT_AUTHOR_EMAIL", "kill@example.com")
        .env("GIT_COMMITTER_NAME", "Kill Test")
        .env("GIT_COMMITTER_EMAIL", "kill@example.com")
        .output()
        .unwrap()
}

/// A small xorshift so the kill moments vary from run to run but can be replayed.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_writes_and_pushes_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = common::free_port();
    let token = common::user_token(&data, "kill@example.com", false);
    let http = reqwest::Client::new();

    let mut server = start(&data, port);
    let r = http
        .post(format!("{}/api/v1/projects", server.url))
        .bearer_auth(&token)
        .json(&json!({"name": "pushed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let remote = format!("http://kill:{token}@127.0.0.1:{port}/git/kill/pushed.git");
    assert!(git(&work, &["clone", "-q", &remote, "clone"])
        .status
        .success());
    let clone = work.join("clone");

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("seed {seed}");
    let mut rng = Rng(seed);
    let mut acknowledged_projects: Vec<String> = Vec::new();
    let mut acknowledged_commits: Vec<String> = Vec::new();

    for round in 0..5 {
        let deadline = Instant::now() + Duration::from_millis(300 + rng.below(1200));
        // Writers: projects through the API, commits through git push.
        let api = {
            let (http, url, token) = (http.clone(), server.url.clone(), token.clone());
            tokio::spawn(async move {
                let mut ok = Vec::new();
                for i in 0.. {
                    let sent = http
                        .post(format!("{url}/api/v1/projects"))
                        .bearer_auth(&token)
                        .json(&json!({"name": format!("r{round} p{i}")}))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == 201 => ok.push(
                            r.json::<Value>()
                                .await
                                .map(|v| v["id"].as_str().unwrap_or("").to_string())
                                .unwrap_or_default(),
                        ),
                        _ => break, // the server died
                    }
                }
                ok.into_iter()
                    .filter(|id| !id.is_empty())
                    .collect::<Vec<_>>()
            })
        };
        let pusher = {
            let clone = clone.clone();
            tokio::task::spawn_blocking(move || {
                let mut ok = Vec::new();
                for i in 0.. {
                    std::fs::write(
                        clone.join(format!("r{round}-{i}.txt")),
                        format!("{round} {i}\n"),
                    )
                    .unwrap();
                    git(&clone, &["add", "-A"]);
                    git(
                        &clone,
                        &["commit", "-qm", &format!("round {round} commit {i}")],
                    );
                    let sha = String::from_utf8(git(&clone, &["rev-parse", "HEAD"]).stdout)
                        .unwrap()
                        .trim()
                        .to_string();
                    if git(&clone, &["push", "-q", "origin", "HEAD:main"])
                        .status
                        .success()
                    {
                        ok.push(sha);
                    } else {
                        break;
                    }
                }
                ok
            })
        };
        tokio::time::sleep_until(deadline.into()).await;
        server.child.kill().unwrap(); // SIGKILL
        server.child.wait().unwrap();
        acknowledged_projects.extend(api.await.unwrap());
        acknowledged_commits.extend(pusher.await.unwrap());

        server = start(&data, port);
        // Every acknowledged project is there.
        let listed: Value = http
            .get(format!("{}/api/v1/projects", server.url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<&str> = listed["projects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        for id in &acknowledged_projects {
            assert!(
                ids.contains(&id.as_str()),
                "round {round}: acknowledged project {id} lost (seed {seed})"
            );
        }
        // Every acknowledged push is in the history.
        let repos = data.join("repos");
        let pushed_id = listed["projects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["slug"] == "pushed")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let bare = repos.join(format!("{pushed_id}.git"));
        for sha in &acknowledged_commits {
            let out = git(&bare, &["merge-base", "--is-ancestor", sha, "main"]);
            assert!(
                out.status.success(),
                "round {round}: acknowledged commit {sha} lost (seed {seed})"
            );
        }
        // The clone catches up with whatever the server kept (an unacknowledged push may have landed).
        assert!(git(&clone, &["fetch", "-q", "origin"]).status.success());
        assert!(git(&clone, &["reset", "-q", "--hard", "origin/main"])
            .status
            .success());
        println!(
            "round {round}: {} projects, {} commits acknowledged so far",
            acknowledged_projects.len(),
            acknowledged_commits.len()
        );
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    // The database and every repository are intact.
    let integrity = integrity_check(&data.join("autocrea.db")).await;
    assert_eq!(integrity, "ok");
    for entry in std::fs::read_dir(data.join("repos")).unwrap() {
        let path: PathBuf = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "git") {
            let out = git(&path, &["fsck", "--full", "--strict"]);
            assert!(
                out.status.success(),
                "git fsck {}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    assert!(
        !acknowledged_projects.is_empty() && !acknowledged_commits.is_empty(),
        "the test wrote something before the kills"
    );
}

async fn integrity_check(db: &Path) -> String {
    let pool = autocrea_core::db::open(db).await.unwrap();
    let row: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    row
}
