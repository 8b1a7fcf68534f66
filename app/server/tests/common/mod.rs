//! The served binary as a process, for tests that kill it: start on a data
//! folder and port, and an account with an API token made by the CLI.

#![allow(dead_code)] // each test crate uses a part

pub mod appliance;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_autocrea");
pub const PASSWORD: &str = "correct horse battery staple";

pub struct Server {
    pub child: Child,
    pub url: String,
}

/// `autocrea serve` on `port` with `data`, once it accepts connections.
pub fn start(data: &Path, port: u16) -> Server {
    let child = Command::new(BIN)
        .arg("serve")
        .env("AUTOCREA_DATA_DIR", data)
        .env("AUTOCREA_LISTEN", format!("127.0.0.1:{port}"))
        .env("AUTOCREA_LOG", "warn")
        .env("AUTOCREA_LLM_WORKER", "off")
        .env("AUTOCREA_SANDBOX", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    // The port is bound before start-up work (repository checks, recovery of
    // interrupted turns) is done, so a TCP connect proves nothing; the
    // server answers HTTP only after that work, and /readyz also checks
    // the database.
    while !ready(port) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Server { child, url }
}

/// Whether `GET /readyz` on the port gets an HTTP 200.
fn ready(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut tcp) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(2)));
    if tcp
        .write_all(b"GET /readyz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    tcp.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Creates an account with the CLI (`--admin` when asked) and returns a new API token of it.
pub fn user_token(data: &Path, email: &str, admin: bool) -> String {
    use std::io::Write;
    let mut create = Command::new(BIN);
    create
        .args(["user", "create", "--email", email, "--name", "Test"])
        .env("AUTOCREA_DATA_DIR", data)
        .stdin(Stdio::piped());
    if admin {
        create.arg("--admin");
    }
    let mut child = create.arg("--password-stdin").spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(PASSWORD.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let out = Command::new(BIN)
        .args(["token", "create", "--email", email, "--name", "t"])
        .env("AUTOCREA_DATA_DIR", data)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The package folder of this checkout, read when the test runs: the build
/// cache is shared between checkouts, so a path baked in at compile time may
/// name another one.
pub fn manifest_dir() -> String {
    std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")
}
