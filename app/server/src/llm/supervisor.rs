//! Runs `autocrea llm-worker` as a child process and keeps it running: reads
//! its address from its first stdout line, probes `/health`, restarts it
//! with backoff when it exits or stops answering, and keeps its last stderr
//! lines for admins. The worker's stdin is a pipe it watches: when this
//! process dies, even by `kill -9`, the pipe closes and the worker exits.

use autocrea_core::config::LlmConfig;
pub use autocrea_wire::llm::{WorkerState, WorkerStatus};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const STDERR_LINES: usize = 200;
const PROBE_EVERY: Duration = Duration::from_secs(2);
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
const PROBE_FAILURES: u32 = 3;
const LOAD_TIMEOUT: Duration = Duration::from_secs(300);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A worker that ran this long counts as healthy: the backoff starts over.
const STABLE_AFTER: Duration = Duration::from_secs(60);

struct Inner {
    state: WorkerState,
    base_url: Option<String>,
    model: Option<String>,
    pid: Option<u32>,
    restarts: u32,
    last_exit: Option<String>,
    retry_at: Option<Instant>,
    stderr: VecDeque<String>,
}

pub struct Supervisor {
    inner: Arc<Mutex<Inner>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        // The child is killed on drop of its handle inside the task.
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

impl Supervisor {
    /// Starts supervising (or records that the worker is turned off).
    pub fn start(config: &LlmConfig) -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            state: if config.worker {
                WorkerState::Starting
            } else {
                WorkerState::Disabled
            },
            base_url: None,
            model: None,
            pid: None,
            restarts: 0,
            last_exit: None,
            retry_at: None,
            stderr: VecDeque::new(),
        }));
        let task = config
            .worker
            .then(|| tokio::spawn(supervise(config.clone(), inner.clone())));
        Self { inner, task }
    }

    /// The worker's OpenAI base URL (`http://127.0.0.1:PORT/v1`) while ready.
    pub fn base_url(&self) -> Option<String> {
        let inner = self.inner.lock().expect("supervisor lock");
        (inner.state == WorkerState::Ready)
            .then(|| inner.base_url.clone())
            .flatten()
    }

    pub fn status(&self) -> WorkerStatus {
        let inner = self.inner.lock().expect("supervisor lock");
        WorkerStatus {
            state: inner.state,
            model: inner.model.clone(),
            pid: inner.pid,
            restarts: inner.restarts,
            last_exit: inner.last_exit.clone(),
            retry_in_secs: inner
                .retry_at
                .map(|t| t.saturating_duration_since(Instant::now()).as_secs()),
            stderr_tail: inner.stderr.iter().cloned().collect(),
        }
    }

    /// Why the local model cannot answer now, in words for the caller.
    pub fn unavailable_reason(&self) -> String {
        let s = self.status();
        match s.state {
            WorkerState::Disabled => {
                "the local model worker is turned off ([llm] worker = false)".into()
            }
            WorkerState::Starting => "the local model is loading; retry in a few seconds".into(),
            WorkerState::Restarting => format!(
                "the local model worker stopped ({}); it restarts in {} s",
                s.last_exit.unwrap_or_else(|| "no reason recorded".into()),
                s.retry_in_secs.unwrap_or(0)
            ),
            WorkerState::Ready => "the local model worker is not answering".into(),
        }
    }
}

fn worker_command(config: &LlmConfig) -> std::io::Result<Command> {
    let binary: PathBuf = match &config.worker_binary {
        Some(b) => b.clone(),
        None => std::env::current_exe()?,
    };
    let mut cmd = Command::new(binary);
    cmd.arg("llm-worker")
        .args(["--listen", "127.0.0.1:0", "--exit-with-stdin"])
        .arg("--models")
        .arg(&config.models)
        .args(["--slots", &config.slots.to_string()])
        .args(["--queue", &config.queue.to_string()])
        .args(["--context", &config.context.to_string()]);
    if let Some(m) = &config.model {
        cmd.args(["--model", m]);
    }
    if let Some(t) = config.threads {
        cmd.args(["--threads", &t.to_string()]);
    }
    if !config.output_head {
        cmd.args(["--output-head", "off"]);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    Ok(cmd)
}

async fn supervise(config: LlmConfig, inner: Arc<Mutex<Inner>>) {
    let http = reqwest::Client::builder()
        .timeout(PROBE_TIMEOUT)
        .build()
        .expect("probe client");
    let mut backoff = Duration::from_secs(1);
    loop {
        let started = Instant::now();
        let outcome = run_once(&config, &inner, &http).await;
        {
            let mut i = inner.lock().expect("supervisor lock");
            tracing::warn!(reason = %outcome, "llm-worker stopped; restarting");
            i.last_exit = Some(outcome);
            i.state = WorkerState::Restarting;
            i.base_url = None;
            i.pid = None;
            i.restarts += 1;
            if started.elapsed() >= STABLE_AFTER {
                backoff = Duration::from_secs(1);
            }
            i.retry_at = Some(Instant::now() + backoff);
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
        let mut i = inner.lock().expect("supervisor lock");
        i.state = WorkerState::Starting;
        i.retry_at = None;
    }
}

/// One life of the worker; returns why it ended.
async fn run_once(config: &LlmConfig, inner: &Arc<Mutex<Inner>>, http: &reqwest::Client) -> String {
    let mut child: Child = match worker_command(config).and_then(|mut c| c.spawn()) {
        Ok(c) => c,
        Err(e) => return format!("cannot start the worker: {e}"),
    };
    inner.lock().expect("supervisor lock").pid = child.id();
    // Keep stdin open for the child's lifetime: its end tells the worker we died.
    let _stdin = child.stdin.take();
    if let Some(stderr) = child.stderr.take() {
        let inner = inner.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut i = inner.lock().expect("supervisor lock");
                if i.stderr.len() == STDERR_LINES {
                    i.stderr.pop_front();
                }
                i.stderr.push_back(line);
            }
        });
    }
    let Some(stdout) = child.stdout.take() else {
        return "the worker has no stdout".into();
    };
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::select! {
        line = tokio::time::timeout(LOAD_TIMEOUT, lines.next_line()) => line,
        status = child.wait() => return exit_reason(status, "while loading the model"),
    };
    let line = match first {
        Ok(Ok(Some(line))) => line,
        Ok(_) => return exit_reason(child.wait().await, "while loading the model"),
        Err(_) => return format!("the model did not load within {} s", LOAD_TIMEOUT.as_secs()),
    };
    // "llm-worker MODEL listening on http://ADDR (...)"
    let model = line
        .strip_prefix("llm-worker ")
        .and_then(|r| r.split_whitespace().next())
        .map(str::to_string);
    let Some(addr) = line
        .split("listening on ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
    else {
        return format!("the worker printed an unexpected first line: {line}");
    };
    let base = addr.trim_end_matches('/').to_string();
    {
        let mut i = inner.lock().expect("supervisor lock");
        i.state = WorkerState::Ready;
        i.base_url = Some(format!("{base}/v1"));
        i.model = model;
    }
    tracing::info!(%base, "llm-worker ready");
    // Later stdout lines are not expected; drain them so the pipe never fills.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let mut failures = 0;
    loop {
        tokio::select! {
            status = child.wait() => return exit_reason(status, "while serving"),
            _ = tokio::time::sleep(PROBE_EVERY) => {
                let ok = http.get(format!("{base}/health")).send().await
                    .map(|r| r.status().is_success()).unwrap_or(false);
                failures = if ok { 0 } else { failures + 1 };
                if failures >= PROBE_FAILURES {
                    let _ = child.kill().await;
                    return format!("the health probe failed {PROBE_FAILURES} times in a row");
                }
            }
        }
    }
}

fn exit_reason(status: std::io::Result<std::process::ExitStatus>, when: &str) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("exited with code {code} {when}"),
            (None, Some(sig)) => format!("killed by signal {sig} {when}"),
            _ => format!("ended {when}"),
        },
        Err(e) => format!("could not be waited for: {e}"),
    }
}
