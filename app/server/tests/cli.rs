//! The `autocrea` command line, run as a real process.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_autocrea");
const PASSWORD: &str = "correct horse battery staple";

fn autocrea(data: &Path, listen: &str) -> Command {
    let mut c = Command::new(BIN);
    // Sandboxes (and their warm pool) are tested in tests/sandbox.
    c.env("AUTOCREA_SANDBOX", "off");
    c.env("AUTOCREA_DATA_DIR", data)
        .env("AUTOCREA_LISTEN", listen)
        .env_remove("AUTOCREA_CONFIG");
    c
}

fn run(cmd: &mut Command, stdin: Option<&str>) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Serving(Child);
impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_healthy(data: &Path, listen: &str) {
    let start = Instant::now();
    loop {
        let out = run(autocrea(data, listen).arg("healthcheck"), None);
        if out.status.success() {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "not healthy: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn http_get(listen: &str, path: &str, token: Option<&str>) -> (u16, String) {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(listen).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {listen}\r\n{auth}\r\n").unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).unwrap();
    let text = String::from_utf8_lossy(&reply).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .unwrap_or("0")
        .parse()
        .unwrap_or(0);
    (status, text)
}

#[test]
fn help_and_version() {
    let out = run(Command::new(BIN).arg("--help"), None);
    let help = String::from_utf8_lossy(&out.stdout);
    for word in ["serve", "migrate", "healthcheck", "user", "token"] {
        assert!(help.contains(word), "--help lists {word}:\n{help}");
    }
    let out = run(Command::new(BIN).arg("--version"), None);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("autocrea {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn migrate_user_token_serve_and_healthcheck() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let listen = format!("127.0.0.1:{}", free_port());

    let out = run(autocrea(&data, &listen).arg("migrate"), None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("applied migrations"));
    let out = run(autocrea(&data, &listen).arg("migrate"), None);
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));

    let out = run(
        autocrea(&data, &listen).args([
            "user",
            "create",
            "--email",
            "ops@example.com",
            "--name",
            "Ops",
            "--admin",
            "--password-stdin",
        ]),
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin ops@example.com"));
    let out = run(
        autocrea(&data, &listen).args([
            "user",
            "create",
            "--email",
            "weak@example.com",
            "--name",
            "W",
            "--password-stdin",
        ]),
        Some("short\n"),
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("at least 8 characters"),
        "clear error"
    );

    let out = run(
        autocrea(&data, &listen).args([
            "token",
            "create",
            "--email",
            "ops@example.com",
            "--name",
            "deploy",
        ]),
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        token.starts_with("acr_"),
        "only the token on stdout: {token}"
    );
    let out = run(
        autocrea(&data, &listen).args([
            "token",
            "create",
            "--email",
            "nobody@example.com",
            "--name",
            "x",
        ]),
        None,
    );
    assert!(
        !out.status.success()
            && String::from_utf8_lossy(&out.stderr).contains("no user with email")
    );

    let out = run(autocrea(&data, &listen).arg("healthcheck"), None);
    assert!(!out.status.success(), "nothing serves yet");

    let _server = Serving(
        autocrea(&data, &listen)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_healthy(&data, &listen);
    let (status, body) = http_get(&listen, "/api/v1/me", Some(&token));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"is_admin\":true"));
}

#[test]
fn config_file_and_bad_environment() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(
        dir.path().join("autocrea.toml"),
        format!("listen = \"127.0.0.1:{port}\"\ndata_dir = \"store\"\n"),
    )
    .unwrap();
    // No subcommand means serve; the file in the working directory is found.
    let _server = Serving(
        Command::new(BIN)
            .current_dir(dir.path())
            .env_remove("AUTOCREA_LISTEN")
            .env_remove("AUTOCREA_DATA_DIR")
            .env("AUTOCREA_SANDBOX", "off")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let listen = format!("127.0.0.1:{port}");
    let start = Instant::now();
    while http_get_safe(&listen).is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "server from autocrea.toml did not come up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        dir.path().join("store/autocrea.db").exists(),
        "data_dir from the file"
    );

    let out = run(
        Command::new(BIN)
            .arg("migrate")
            .env("AUTOCREA_LISTEN", "not-an-address"),
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AUTOCREA_LISTEN"));
}

fn http_get_safe(listen: &str) -> Option<u16> {
    std::net::TcpStream::connect(listen).ok()?;
    Some(http_get(listen, "/readyz", None).0).filter(|s| *s == 200)
}

#[test]
fn the_binary_alone_serves_the_whole_ui() {
    let dir = tempfile::tempdir().unwrap();
    let alone = dir.path().join("autocrea");
    std::fs::copy(BIN, &alone).unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let _server = Serving(
        Command::new(&alone)
            .current_dir(dir.path())
            .env("AUTOCREA_LISTEN", &listen)
            .env("AUTOCREA_SANDBOX", "off")
            .env_remove("AUTOCREA_DATA_DIR")
            .env_remove("AUTOCREA_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let start = Instant::now();
    while http_get_safe(&listen).is_none() {
        assert!(start.elapsed() < Duration::from_secs(20), "did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        dir.path().join("data/autocrea.db").exists(),
        "default data folder ./data"
    );
    // No account yet: the first page is sign-up (/login redirects there).
    let (status, _) = http_get(&listen, "/login", None);
    assert_eq!(status, 303);
    let (status, page) = http_get(&listen, "/signup", None);
    assert_eq!(status, 200);
    assert!(page.contains("/pkg/autocrea.js"));
    for path in [
        "/pkg/autocrea.js",
        "/pkg/autocrea_bg.wasm",
        "/assets/main.css",
        "/assets/favicon.svg",
    ] {
        let (status, _) = http_get(&listen, path, None);
        assert_eq!(status, 200, "{path} served from the binary alone");
    }
}
