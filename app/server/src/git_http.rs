//! Git over smart HTTP at `/git/<owner>/<project>.git`: `info/refs`,
//! `git-upload-pack` and `git-receive-pack`, served by the real git
//! (`git upload-pack|receive-pack --stateless-rpc`) with bodies streamed both
//! ways, so a pack is never held whole in memory.

use crate::error::ApiError;
use crate::extract::client_ip;
use crate::git_auth::CredentialError;
use crate::state::AppState;
use autocrea_core::accounts::User;
use autocrea_core::audit::{self, Actor};
use autocrea_core::projects::{self, Project};
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use futures_util::StreamExt;
use serde::Deserialize;
use std::process::Stdio;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::mpsc;

/// Routes under `/git` (nested there by the route table).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/{owner}/{repo}/info/refs", get(info_refs))
        .route(
            "/{owner}/{repo}/git-upload-pack",
            post(|s, p, r| rpc(s, p, r, Service::UploadPack)),
        )
        .route(
            "/{owner}/{repo}/git-receive-pack",
            post(|s, p, r| rpc(s, p, r, Service::ReceivePack)),
        )
        // Clients may send gzip-compressed request bodies.
        .layer(tower_http::decompression::RequestDecompressionLayer::new())
        .nest("/api/v1", crate::gitea::router())
        .fallback(|| async { not_found() })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Service {
    UploadPack,
    ReceivePack,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::UploadPack => "upload-pack",
            Service::ReceivePack => "receive-pack",
        }
    }
}

/// What git clients are told when they must authenticate.
fn challenge(message: &str) -> Response {
    let mut r = (StatusCode::UNAUTHORIZED, format!("{message}\n")).into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"AUTOCREA\", charset=\"UTF-8\""),
    );
    r
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "repository not found\n").into_response()
}

/// Owner and repository names as they appear in URLs: the login name and the
/// project slug (lower-case letters, digits, dashes). Anything else (dots,
/// slashes, `%2e%2e`, NUL, very long) is no repository of ours.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
}

/// The caller, with credential failures as git clients expect them.
async fn caller(
    parts: &Parts,
    state: &AppState,
) -> Result<Option<(User, crate::git_auth::Method)>, Response> {
    crate::git_auth::caller(parts, state)
        .await
        .map_err(|e| match e {
            CredentialError::Invalid(message) => challenge(message),
            CredentialError::Failed(error) => error.into_response(),
        })
}

/// Authenticates and finds the repository; another user's repository is 404.
async fn resolve(
    state: &AppState,
    parts: &Parts,
    owner: &str,
    repo: &str,
    service: Service,
) -> Result<(User, Project), Response> {
    let slug = repo.strip_suffix(".git").unwrap_or(repo);
    if !valid_name(owner) || !valid_name(slug) {
        return Err(not_found());
    }
    let Some((user, method)) = caller(parts, state).await? else {
        return Err(challenge("authentication required"));
    };
    if user.username != owner {
        return Err(not_found());
    }
    if service == Service::ReceivePack && !method.can_write() {
        return Err((
            StatusCode::FORBIDDEN,
            "this token is read-only: its scopes grant no write access\n",
        )
            .into_response());
    }
    match projects::find_by_slug(&state.pool, user.id, slug).await {
        Ok(p) => Ok((user, p)),
        Err(projects::ProjectError::NotFound) => Err(not_found()),
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

/// The `Git-Protocol` header, passed to git only when it is well-formed.
fn git_protocol(headers: &HeaderMap, service: Service) -> Option<String> {
    let value = headers.get("git-protocol")?.to_str().ok()?;
    let ok = value.len() <= 256
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "=:._-".contains(c));
    // receive-pack has no protocol v2.
    (ok && service == Service::UploadPack).then(|| value.to_string())
}

#[derive(Deserialize)]
struct RefsQuery {
    service: Option<String>,
}

async fn info_refs(
    State(state): State<AppState>,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<RefsQuery>,
    req: Request,
) -> Response {
    let service = match q.service.as_deref() {
        Some("git-upload-pack") => Service::UploadPack,
        Some("git-receive-pack") => Service::ReceivePack,
        _ => {
            return (
                StatusCode::FORBIDDEN,
                "only the smart HTTP protocol is served; upgrade git\n",
            )
                .into_response()
        }
    };
    let (parts, _) = req.into_parts();
    let (_user, project) = match resolve(&state, &parts, &owner, &repo, service).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let protocol = git_protocol(&parts.headers, service);
    let mut prefix = Vec::new();
    if !protocol.as_deref().is_some_and(|p| p.contains("version=2")) {
        let line = format!("# service=git-{}\n", service.name());
        prefix.extend_from_slice(format!("{:04x}{line}0000", line.len() + 4).as_bytes());
    }
    let path = state.git.repo_path(&project.id);
    let args = vec![
        service.name().to_string(),
        "--stateless-rpc".into(),
        "--advertise-refs".into(),
        path.to_string_lossy().into(),
    ];
    run_git(
        &path,
        args,
        protocol,
        Body::empty(),
        Bytes::from(prefix),
        format!("application/x-git-{}-advertisement", service.name()),
        None,
    )
}

async fn rpc(
    State(state): State<AppState>,
    Path((owner, repo)): Path<(String, String)>,
    req: Request,
    service: Service,
) -> Response {
    let (parts, body) = req.into_parts();
    let (user, project) = match resolve(&state, &parts, &owner, &repo, service).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let expected = format!("application/x-git-{}-request", service.name());
    if parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        != Some(expected.as_str())
    {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("expected Content-Type: {expected}\n"),
        )
            .into_response();
    }
    let path = state.git.repo_path(&project.id);
    let args = vec![
        service.name().to_string(),
        "--stateless-rpc".into(),
        path.to_string_lossy().into(),
    ];
    let after = if service == Service::ReceivePack {
        // One writer at a time per repository: pushes queue behind each other
        // (and behind reverts, branch switches, the agent); git's own ref
        // checks then refuse the one built on a stale head.
        let lock = state.git.lock(&project.id).await;
        let actor = Actor {
            user_id: Some(user.id),
            label: Some(user.email.clone()),
            ip: client_ip(&parts),
        };
        Some(AfterPush {
            state: state.clone(),
            project_id: project.id.clone(),
            actor,
            _lock: lock,
        })
    } else {
        None
    };
    run_git(
        &path,
        args,
        git_protocol(&parts.headers, service),
        body,
        Bytes::new(),
        format!("application/x-git-{}-result", service.name()),
        after,
    )
}

/// Work done once a push has been received: the working tree follows the
/// branch head, the project shows as changed. Holds the writer lock until done.
struct AfterPush {
    state: AppState,
    project_id: String,
    actor: Actor,
    _lock: autocrea_core::gitstore::WriterLock,
}

impl AfterPush {
    async fn run(self) {
        let id = self.project_id.clone();
        match self.state.git.run(move |g| g.settle_head(&id)).await {
            Ok(Some(branch)) => {
                tracing::info!(project = %self.project_id, branch, "the first pushed branch is the default branch")
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(project = %self.project_id, error = %e, "HEAD not checked after push")
            }
        }
        if let Err(e) = self.state.git.sync_worktree(&self.project_id).await {
            tracing::error!(project = %self.project_id, error = %e, "working tree not updated after push")
        }
        if let Err(e) = projects::touch(&self.state.pool, &self.project_id).await {
            tracing::warn!(error = %e, "could not mark the project as changed");
        }
        audit::record(
            &self.state.pool,
            &self.actor,
            "git.push",
            Some(&format!("project:{}", self.project_id)),
            None,
        )
        .await;
    }
}

/// The longest one clone, fetch or push may take.
const GIT_EXCHANGE_LIMIT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// Runs git with the request body on stdin and streams `prefix` + stdout back.
fn run_git(
    repo: &std::path::Path,
    args: Vec<String>,
    protocol: Option<String>,
    body: Body,
    prefix: Bytes,
    content_type: String,
    after: Option<AfterPush>,
) -> Response {
    let mut cmd = Command::new("git");
    // No system or user config, no hooks, no fsmonitor (see `GIT_ENV`).
    cmd.args(&args)
        .envs(autocrea_core::gitstore::GIT_ENV.iter().copied());
    for var in autocrea_core::gitstore::GIT_ENV_REMOVED {
        cmd.env_remove(var);
    }
    // The repository is its own common dir: a `commondir` file cannot send
    // git to config or refs elsewhere.
    cmd.env("GIT_COMMON_DIR", repo);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(p) = protocol {
        cmd.env("GIT_PROTOCOL", p);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot start git; is it installed?");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "git is not available on the server\n",
            )
                .into_response();
        }
    };
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    // Read at the same time as stdout: git blocks once the stderr pipe is
    // full (a push of many refused refs fills it), and with it stdout and
    // the project's lock. The first 16 KiB are kept for the log.
    let stderr_task = tokio::spawn(async move {
        let mut kept = Vec::new();
        let mut buf = vec![0u8; 8 * 1024];
        while let Ok(n) = stderr.read(&mut buf).await {
            if n == 0 {
                break;
            }
            let room = (16 * 1024usize).saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
        }
        String::from_utf8_lossy(&kept).into_owned()
    });

    tokio::spawn(async move {
        let mut chunks = body.into_data_stream();
        while let Some(chunk) = chunks.next().await {
            match chunk {
                Ok(bytes) => {
                    if stdin.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "git request body ended early");
                    break;
                }
            }
        }
        // Dropping stdin tells git the request is complete.
    });

    // A small bounded queue between git and the client: memory stays flat
    // however large the pack.
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    tokio::spawn(async move {
        let mut client_gone = false;
        if !prefix.is_empty() {
            client_gone = tx.send(Ok(prefix)).await.is_err();
        }
        let mut buf = vec![0u8; 64 * 1024];
        let copy = async {
            while !client_gone {
                match stdout.read(&mut buf).await {
                    Ok(0) => break,
                    Ok(n) => {
                        client_gone = tx
                            .send(Ok(Bytes::copy_from_slice(&buf[..n])))
                            .await
                            .is_err()
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        break;
                    }
                }
            }
        };
        // However slow the client, one exchange cannot hold a project's
        // lock (or a git process) for ever.
        let timed_out = tokio::time::timeout(GIT_EXCHANGE_LIMIT, copy)
            .await
            .is_err();
        if timed_out {
            tracing::warn!(limit = ?GIT_EXCHANGE_LIMIT, "a git exchange ran past its time limit; stopped");
        }
        if client_gone || timed_out {
            let _ = child.start_kill();
        }
        let err = stderr_task.await.unwrap_or_default();
        match child.wait().await {
            Ok(status) if !status.success() && !client_gone => {
                tracing::warn!(?status, stderr = %err.trim(), "git exited with an error")
            }
            Err(e) => tracing::error!(error = %e, "waiting for git failed"),
            _ => {}
        }
        // The response ends only after the push is fully applied.
        if let Some(after) = after {
            after.run().await;
        }
        drop(tx);
    });

    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut response = Response::new(Body::from_stream(stream));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, max-age=0, must-revalidate"),
    );
    response
}
