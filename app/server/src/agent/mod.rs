//! Agent turns in the server: the model behind `runner::Model` (any
//! provider, the local worker included), the sandbox behind
//! `runner::SandboxTools`, one running turn per thread, and a per-thread
//! event log that SSE clients read and resume from.

mod bridge;
mod hooks;
pub mod turn;

use autocrea_core::agent::pipeline::Approval;
use autocrea_core::replay::Replay;
use autocrea_core::sync::lock;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// Events kept per thread for clients that reconnect.
const KEPT_EVENTS: usize = 5000;

#[derive(Default)]
pub struct Agents {
    /// Thread id -> its running turn and that turn's stop flag.
    running: Mutex<HashMap<String, (String, Arc<AtomicBool>)>>,
    logs: Mutex<HashMap<String, Arc<EventLog>>>,
    /// Turn id -> where the answer to its waiting plan goes.
    approvals: Mutex<HashMap<String, tokio::sync::oneshot::Sender<Approval>>>,
}

impl Agents {
    pub fn log(&self, thread_id: &str) -> Arc<EventLog> {
        lock(&self.logs)
            .entry(thread_id.to_string())
            .or_default()
            .clone()
    }

    /// Asks the thread's running turn to stop (a plan waiting for approval
    /// too); false when none runs.
    pub fn stop(&self, thread_id: &str) -> bool {
        let flag = lock(&self.running).get(thread_id).cloned();
        match flag {
            Some((turn_id, flag)) => {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                self.answer_plan(&turn_id, Approval::Stopped);
                true
            }
            None => false,
        }
    }

    /// Hands the user's answer to a plan that waits; false when none waits.
    pub fn answer_plan(&self, turn_id: &str, answer: Approval) -> bool {
        match lock(&self.approvals).remove(turn_id) {
            Some(tx) => tx.send(answer).is_ok(),
            None => false,
        }
    }

    pub fn plan_waits(&self, turn_id: &str) -> bool {
        lock(&self.approvals).contains_key(turn_id)
    }

    fn wait_for_answer(&self, turn_id: &str) -> tokio::sync::oneshot::Receiver<Approval> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        lock(&self.approvals).insert(turn_id.to_string(), tx);
        rx
    }

    pub fn is_running(&self, thread_id: &str) -> bool {
        lock(&self.running).contains_key(thread_id)
    }
}

/// One event as sent to clients: `id` for Last-Event-ID, `kind` as the SSE event name.
#[derive(Debug, Clone)]
pub struct Sent {
    pub id: u64,
    pub kind: &'static str,
    pub data: Value,
}

pub struct EventLog(Replay<Sent>);

impl Default for EventLog {
    fn default() -> Self {
        Self(Replay::new(KEPT_EVENTS))
    }
}

impl EventLog {
    pub fn push(&self, kind: &'static str, data: Value) {
        self.0.push(|id| Sent { id, kind, data });
    }

    /// Kept events after `after`, and a receiver for the ones to come.
    pub fn since(&self, after: u64) -> autocrea_core::replay::Backlog<Sent> {
        self.0.since(after)
    }
}
