//! `autocrea serve` as a process with its supervised llm-worker and the
//! real small model (models/fetch.sh), configured through autocrea.toml.

use super::{manifest_dir, BIN};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(dir: &Path, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(BIN)
        .args(args)
        .env("AUTOCREA_CONFIG", dir.join("autocrea.toml"))
        .env("AUTOCREA_SANDBOX", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{args:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// `autocrea serve` with its supervised worker and the real small model (2
/// threads), in a fresh data folder, with one admin and their API token.
/// `llm` is more of the `[llm]` section, `rest` more sections of autocrea.toml.
pub fn start(llm: &str, rest: &str) -> (Server, String) {
    let dir = tempfile::tempdir().unwrap();
    let models = Path::new(&manifest_dir()).join("../../models/models.toml");
    std::fs::write(
        dir.path().join("autocrea.toml"),
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n[llm]\nmodels = \"{}\"\nthreads = 2\n{llm}\n{rest}\n",
            dir.path().join("data").display(),
            models.display()
        ),
    )
    .unwrap();
    run(
        dir.path(),
        &[
            "user",
            "create",
            "--email",
            "ada@example.com",
            "--name",
            "Ada",
            "--admin",
            "--password-stdin",
        ],
        "a long enough passphrase 42\n",
    );
    let token = run(
        dir.path(),
        &[
            "token",
            "create",
            "--email",
            "ada@example.com",
            "--name",
            "t",
        ],
        "",
    )
    .trim()
    .to_string();
    let mut child = Command::new(BIN)
        .arg("serve")
        .env("AUTOCREA_CONFIG", dir.path().join("autocrea.toml"))
        .env("AUTOCREA_SANDBOX", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split("listening on ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("serve prints its address")
        .to_string();
    (
        Server {
            child,
            url,
            _dir: dir,
        },
        token,
    )
}

pub async fn worker_status(http: &reqwest::Client, s: &Server, token: &str) -> Value {
    http.get(format!("{}/api/v1/admin/llm", s.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["worker"]
        .clone()
}

pub async fn wait_ready(http: &reqwest::Client, s: &Server, token: &str) -> Value {
    let started = Instant::now();
    loop {
        let w = worker_status(http, s, token).await;
        if w["state"] == "ready" {
            return w;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the worker never became ready: {w}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
