//! One project's running sandbox: its container, the dev server's state as
//! read from the container's output and a probe of its port, its last use,
//! and what the browser reported.

use super::clock::Clock;
use super::devserver::{self, DevState, LogBuffer, Marker};
use super::diagnostics::Diagnostic;
use super::engine::{ContainerEngine, OutputStream};
use super::errors::BrowserErrors;
use crate::env_vars::Redactor;
use crate::sync::lock;
use bollard::container::LogOutput;
use futures_util::StreamExt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::AbortHandle;

/// A project's running sandbox.
pub struct Running {
    pub project_id: String,
    pub template: String,
    pub container: String,
    /// The dev server, on the sandbox network.
    pub addr: SocketAddr,
    pub logs: LogBuffer,
    /// The project's preview secrets, masked in its logs and command output.
    pub redactor: Redactor,
    /// The names of those variables, left out of commands' environment.
    pub hidden_env: Vec<String>,
    pub from_warm_pool: bool,
    started: Instant,
    pub(super) started_at: i64,
    status: watch::Sender<Status>,
    clock: Clock,
    last_activity: Mutex<Instant>,
    browser_errors: Mutex<BrowserErrors>,
    tasks: Mutex<Vec<AbortHandle>>,
}

#[derive(Debug, Clone)]
pub(super) struct Status {
    pub state: DevState,
    pub restarts: u32,
    pub last_exit: Option<String>,
    pub retry_in_secs: Option<u64>,
    pub ready_after_ms: Option<u64>,
    /// Set when the container itself is gone.
    pub gone: Option<String>,
}

/// Where a tracked container came from.
pub(super) struct Started<'a> {
    pub project_id: &'a str,
    pub template: &'a str,
    pub name: &'a str,
    pub container_id: &'a str,
    pub addr: SocketAddr,
    pub from_warm_pool: bool,
    /// When the start was asked for (for `ready_after_ms`).
    pub requested: Instant,
    pub redactor: Redactor,
    pub hidden_env: Vec<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        for t in lock(&self.tasks).drain(..) {
            t.abort();
        }
    }
}

impl Running {
    /// Starts following the container's output and probing its port; both
    /// end when the last `Arc` goes.
    pub(super) fn spawn(engine: &dyn ContainerEngine, s: Started<'_>, clock: Clock) -> Arc<Self> {
        let running = Arc::new(Running {
            project_id: s.project_id.to_string(),
            template: s.template.to_string(),
            container: s.name.to_string(),
            addr: s.addr,
            logs: LogBuffer::redacting(s.redactor.clone()),
            redactor: s.redactor,
            hidden_env: s.hidden_env,
            from_warm_pool: s.from_warm_pool,
            started: s.requested,
            started_at: crate::clock::now(),
            status: watch::channel(Status {
                state: DevState::Starting,
                restarts: 0,
                last_exit: None,
                retry_in_secs: None,
                ready_after_ms: None,
                gone: None,
            })
            .0,
            last_activity: Mutex::new(clock.now()),
            clock,
            browser_errors: Mutex::default(),
            tasks: Mutex::default(),
        });
        let follower = tokio::spawn(follow(
            engine.follow_logs(s.container_id, "all"),
            Arc::downgrade(&running),
        ));
        let prober = tokio::spawn(probe(Arc::downgrade(&running)));
        lock(&running.tasks).extend([follower.abort_handle(), prober.abort_handle()]);
        running
    }

    pub fn touch(&self) {
        *lock(&self.last_activity) = self.clock.now();
    }

    pub(super) fn idle_for(&self) -> Duration {
        self.clock
            .now()
            .saturating_duration_since(*lock(&self.last_activity))
    }

    pub fn state(&self) -> DevState {
        self.status.borrow().state
    }

    pub(super) fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    pub(super) fn is_gone(&self) -> bool {
        self.status.borrow().gone.is_some()
    }

    /// Waits up to `limit` for the dev server to answer; true when it does.
    pub async fn wait_ready(&self, limit: Duration) -> bool {
        let mut rx = self.status.subscribe();
        tokio::time::timeout(
            limit,
            rx.wait_for(|s| s.state == DevState::Ready || s.gone.is_some()),
        )
        .await
        .map(|r| r.map(|s| s.state == DevState::Ready).unwrap_or(false))
        .unwrap_or(false)
    }

    /// An error the injected preview script saw in the browser, on the
    /// page with id `page` (what its script made up at load; may be empty).
    pub fn report_browser_error(&self, page: &str, d: Diagnostic) {
        let seq = self.log_seq();
        lock(&self.browser_errors).report(page, seq, d);
    }

    /// Page `page` (re)loaded: what the browser reported before is history.
    pub fn page_loaded(&self, page: &str) {
        lock(&self.browser_errors).page_loaded(page);
    }

    /// What the browser reported since the code last changed.
    pub(super) fn browser_errors(&self, fresh: u64) -> Vec<Diagnostic> {
        lock(&self.browser_errors).since(fresh)
    }

    /// The `seq` of the dev server's last output line (0: none yet).
    pub(super) fn log_seq(&self) -> u64 {
        self.logs.tail(1).first().map_or(0, |l| l.seq)
    }

    /// The `seq` of the last line that says the dev server (re)started or
    /// rebuilt, that is, the code changed (0: none kept).
    pub(super) fn fresh_start_seq(&self) -> u64 {
        self.logs
            .tail(devserver::LOG_LINES)
            .iter()
            .rev()
            .find(|l| is_fresh_start(&l.text))
            .map_or(0, |l| l.seq)
    }

    fn set(&self, f: impl FnOnce(&mut Status)) {
        self.status.send_modify(f);
    }
}

pub(super) fn is_fresh_start(line: &str) -> bool {
    matches!(devserver::marker(line), Some(Marker::Starting))
        || line.contains("hmr update")
        || line.contains("page reload")
        || line.contains("Compiled")
        || line.starts_with("[static] changed")
}

/// Follows a container's output; markers move the dev server's state.
async fn follow(mut stream: OutputStream, running: Weak<Running>) {
    while let Some(item) = stream.next().await {
        let Some(r) = running.upgrade() else { return };
        let lines = match item {
            Ok(LogOutput::StdOut { message }) | Ok(LogOutput::Console { message }) => {
                r.logs.push(false, &message)
            }
            Ok(LogOutput::StdErr { message }) => r.logs.push(true, &message),
            Ok(LogOutput::StdIn { .. }) => continue,
            Err(_) => break,
        };
        for line in lines {
            match devserver::marker(&line.text) {
                Some(Marker::Starting) => r.set(|s| {
                    s.state = DevState::Starting;
                    s.retry_in_secs = None;
                }),
                Some(Marker::Exited {
                    code,
                    retry_in_secs,
                }) => r.set(|s| {
                    s.state = DevState::Crashed;
                    s.restarts += 1;
                    s.retry_in_secs = Some(retry_in_secs);
                    s.last_exit = Some(exit_text(code));
                }),
                None => {}
            }
        }
    }
    if let Some(r) = running.upgrade() {
        r.set(|s| {
            s.state = DevState::Stopped;
            s.gone = Some("the sandbox container stopped".into());
        });
    }
}

fn exit_text(code: i32) -> String {
    match code {
        137 => "killed (status 137: out of memory or SIGKILL)".into(),
        c if c > 128 => format!("killed by signal {}", c - 128),
        c => format!("exited with status {c}"),
    }
}

/// Probes the dev server's port: often while it starts, then once a second.
async fn probe(running: Weak<Running>) {
    loop {
        let Some(r) = running.upgrade() else { return };
        let addr = r.addr;
        let state = r.state();
        drop(r);
        let answers = matches!(
            tokio::time::timeout(
                Duration::from_millis(500),
                tokio::net::TcpStream::connect(addr)
            )
            .await,
            Ok(Ok(_))
        );
        let Some(r) = running.upgrade() else { return };
        if answers && state != DevState::Ready && state != DevState::Crashed {
            let after = r.started.elapsed().as_millis() as u64;
            r.set(|s| {
                s.state = DevState::Ready;
                s.ready_after_ms.get_or_insert(after);
            });
        } else if !answers && state == DevState::Ready {
            r.set(|s| s.state = DevState::Starting);
        }
        drop(r);
        let pause = if state == DevState::Ready { 1000 } else { 25 };
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
}
