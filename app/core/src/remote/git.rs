//! The git CLI against a remote. git2 is built without HTTPS, and the real
//! git is what every server speaks with anyway. Each process gets:
//! - the store's defensive environment (`gitstore::GIT_ENV`: no system or
//!   user config, hooks and fsmonitor off) and none of the variables that
//!   would redirect or trace it (a curl trace would print the token);
//! - only the https (and, when allowed, http) transport, no redirects
//!   (a redirect to another host would take the token along), the address
//!   the URL was checked against pinned (`http.curloptResolve`), a
//!   low-speed limit and an overall timeout;
//! - received objects checked (`fetch.fsckObjects`), no automatic gc or
//!   maintenance in the project's repository;
//! - the token as an `Authorization` header in `GIT_CONFIG_VALUE_<n>`
//!   (the environment, readable only by our own user), never on the
//!   command line (`/proc/<pid>/cmdline` is world-readable), and scrubbed
//!   from anything git prints before it is stored or shown.

use super::RemoteError;
use crate::gitstore::{GIT_ENV, GIT_ENV_REMOVED};
use base64::Engine as _;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// Where and how to reach a remote.
pub struct Endpoint {
    pub url: String,
    /// `host:port:addr,...` for `http.curloptResolve`.
    pub pin: String,
    pub allow_http: bool,
    pub username: Option<String>,
    pub token: Option<String>,
    pub timeout: Duration,
}

impl Endpoint {
    /// `Authorization: Basic base64(user:token)`. Basic is what GitHub,
    /// GitLab, Gitea and plain `git http-backend` servers accept for a
    /// token over git's smart HTTP.
    fn auth_header(&self) -> Option<String> {
        let token = self.token.as_deref()?;
        let user = self.username.as_deref().unwrap_or("x-access-token");
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}"));
        Some(format!("Authorization: Basic {basic}"))
    }

    /// Removes the token (and its encoded forms) from text git printed.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        if let Some(token) = self.token.as_deref().filter(|t| !t.is_empty()) {
            out = out.replace(token, "[token]");
            if let Some(header) = self.auth_header() {
                if let Some(basic) = header.strip_prefix("Authorization: Basic ") {
                    out = out.replace(basic, "[token]");
                }
            }
        }
        out
    }

    /// Config entries for this remote, after the store's own.
    fn config(&self) -> Vec<(String, String)> {
        let mut c: Vec<(String, String)> = [
            ("protocol.allow", "never"),
            ("protocol.https.allow", "always"),
            ("http.followRedirects", "false"),
            ("http.lowSpeedLimit", "1000"),
            ("http.lowSpeedTime", "30"),
            // No stored credentials and no prompt: the token or nothing.
            ("credential.helper", ""),
            ("core.askPass", ""),
            ("fetch.fsckObjects", "true"),
            ("transfer.fsckObjects", "true"),
            ("gc.auto", "0"),
            ("maintenance.auto", "false"),
            ("core.sshCommand", "false"),
            ("http.curloptResolve", self.pin.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        if self.allow_http {
            c.push(("protocol.http.allow".into(), "always".into()));
        }
        if let Some(h) = self.auth_header() {
            c.push(("http.extraHeader".into(), h));
        }
        c
    }
}

/// What a git run printed.
pub struct Output {
    pub ok: bool,
    pub stdout: String,
    /// Redacted.
    pub stderr: String,
}

/// Variables that make git print what it sends (headers included).
const TRACE_VARS: &[&str] = &[
    "GIT_TRACE",
    "GIT_TRACE_CURL",
    "GIT_TRACE_CURL_NO_DATA",
    "GIT_TRACE_PACKET",
    "GIT_TRACE_PACK_ACCESS",
    "GIT_TRACE_PERFORMANCE",
    "GIT_TRACE2",
    "GIT_TRACE2_EVENT",
    "GIT_TRACE2_PERF",
    "GIT_CURL_VERBOSE",
    "GIT_SSL_NO_VERIFY",
    "GIT_PROXY_COMMAND",
    "SSH_ASKPASS",
    "GIT_TEMPLATE_DIR",
];

/// Runs `git --git-dir <repo> <args>` against the endpoint.
pub async fn run(repo: &Path, endpoint: &Endpoint, args: &[&str]) -> Result<Output, RemoteError> {
    let mut cmd = tokio::process::Command::new("git");
    cmd.arg("--git-dir").arg(repo).args(args);
    // The store's environment, with its GIT_CONFIG_COUNT entries renumbered
    // to make room for ours.
    let mut entries: Vec<(String, String)> = Vec::new();
    for (k, v) in GIT_ENV {
        if let Some(n) = k.strip_prefix("GIT_CONFIG_KEY_") {
            let value = GIT_ENV
                .iter()
                .find(|(vk, _)| vk.strip_prefix("GIT_CONFIG_VALUE_") == Some(n))
                .map(|(_, vv)| vv.to_string())
                .unwrap_or_default();
            entries.push((v.to_string(), value));
        } else if !k.starts_with("GIT_CONFIG_VALUE_") && *k != "GIT_CONFIG_COUNT" {
            cmd.env(k, v);
        }
    }
    entries.extend(endpoint.config());
    for var in GIT_ENV_REMOVED.iter().chain(TRACE_VARS) {
        cmd.env_remove(var);
    }
    // A proxy would bypass the resolved-address pin, and git's curl reads
    // ~/.netrc: neither may send this request, or the appliance's own
    // credentials, somewhere else.
    for var in PROXY_VARS {
        cmd.env_remove(var);
    }
    cmd.env("GIT_COMMON_DIR", repo)
        .env("HOME", "/nonexistent")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_COUNT", entries.len().to_string());
    for (i, (k, v)) in entries.iter().enumerate() {
        cmd.env(format!("GIT_CONFIG_KEY_{i}"), k)
            .env(format!("GIT_CONFIG_VALUE_{i}"), v);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .map_err(|e| RemoteError::Failed(format!("cannot start git: {e}")))?;
    let out = tokio::time::timeout(endpoint.timeout, child.wait_with_output())
        .await
        .map_err(|_| {
            RemoteError::Failed(format!(
                "the remote did not answer within {} s",
                endpoint.timeout.as_secs()
            ))
        })?
        .map_err(|e| RemoteError::Failed(format!("git failed: {e}")))?;
    Ok(Output {
        ok: out.status.success(),
        stdout: endpoint.redact(&String::from_utf8_lossy(&out.stdout)),
        // Masked before the cut: a cut could leave part of the token unmatched.
        stderr: short(&endpoint.redact(&String::from_utf8_lossy(&out.stderr))),
    })
}

const PROXY_VARS: &[&str] = &[
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
];

/// git's message for a person: its last lines, cut.
fn short(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("hint:"))
        .collect();
    let tail = lines[lines.len().saturating_sub(4)..].join("\n");
    crate::text::prefix(&tail, 800).to_string()
}

/// How a push ended.
pub enum Pushed {
    Done,
    /// The remote has commits we lack (non-fast-forward).
    Rejected,
}

/// Pushes `sha` to the remote's `branch` (never forced).
pub async fn push(
    repo: &Path,
    endpoint: &Endpoint,
    sha: &str,
    branch: &str,
) -> Result<Pushed, RemoteError> {
    let refspec = format!("{sha}:refs/heads/{branch}");
    let out = run(
        repo,
        endpoint,
        &[
            "push",
            "--porcelain",
            "--no-verify",
            "--quiet",
            "--end-of-options",
            &endpoint.url,
            &refspec,
        ],
    )
    .await?;
    if out.ok {
        return Ok(Pushed::Done);
    }
    // `--porcelain`: `!<tab>from:to<tab>[rejected] (fetch first)` or
    // `(non-fast-forward)` when the remote branch is not an ancestor.
    let rejected = out.stdout.lines().any(|l| {
        l.starts_with('!')
            && l.contains("[rejected]")
            && (l.contains("fetch first") || l.contains("non-fast-forward"))
    });
    if rejected {
        return Ok(Pushed::Rejected);
    }
    Err(RemoteError::Failed(format!(
        "the push failed: {}",
        first_nonempty(&out.stderr, &out.stdout)
    )))
}

/// Fetches the remote's `branch` into `into` (a private ref). `Ok(false)`
/// when the remote has no such branch (an empty repository).
pub async fn fetch(
    repo: &Path,
    endpoint: &Endpoint,
    branch: &str,
    into: &str,
) -> Result<bool, RemoteError> {
    let refspec = format!("+refs/heads/{branch}:{into}");
    let out = run(
        repo,
        endpoint,
        &[
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--no-recurse-submodules",
            "--no-auto-gc",
            "--end-of-options",
            &endpoint.url,
            &refspec,
        ],
    )
    .await?;
    if out.ok {
        return Ok(true);
    }
    if out.stderr.contains("couldn't find remote ref") {
        return Ok(false);
    }
    Err(RemoteError::Failed(format!(
        "the fetch failed: {}",
        first_nonempty(&out.stderr, &out.stdout)
    )))
}

fn first_nonempty(a: &str, b: &str) -> String {
    let text = if a.trim().is_empty() { b } else { a };
    match text.trim() {
        "" => "git gave no reason".into(),
        t => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_scrubbed_in_every_form() {
        let e = Endpoint {
            url: "https://example.com/a.git".into(),
            pin: "example.com:443:10.0.0.1".into(),
            allow_http: false,
            username: Some("me".into()),
            token: Some("tok_abcdef123456".into()),
            timeout: Duration::from_secs(1),
        };
        let basic = base64::engine::general_purpose::STANDARD.encode("me:tok_abcdef123456");
        let text = format!("fatal: tok_abcdef123456 and Basic {basic} refused");
        let clean = e.redact(&text);
        assert!(!clean.contains("tok_abcdef123456"), "{clean}");
        assert!(!clean.contains(&basic), "{clean}");
        // The header is in the environment's config, never the arguments.
        assert!(e
            .config()
            .iter()
            .any(|(k, v)| k == "http.extraHeader" && v.contains(&basic)));
    }
}
