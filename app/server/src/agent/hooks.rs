//! The pipeline's hooks in the server: plans wait for the user's answer
//! (`POST .../turns/{turn}/plan`), steps are kept in SQLite and sent to the
//! thread's event stream, and the turn's diff comes from the git store.

use super::EventLog;
use crate::state::AppState;
use autocrea_core::agent::errors::DiffError;
use autocrea_core::agent::pipeline::{Approval, Hooks, StepReport};
use autocrea_core::agent::store;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub struct ServerHooks {
    pub state: AppState,
    pub log: Arc<EventLog>,
    pub turn_id: String,
    pub project_id: String,
    pub stop: Arc<AtomicBool>,
    /// Build the Architect's plan without asking.
    pub auto_approve: bool,
}

impl Hooks for ServerHooks {
    async fn approve_plan(&mut self, plan: &str) -> Approval {
        if self.auto_approve {
            return Approval::Approved(plan.to_string());
        }
        let rx = self.state.agents.wait_for_answer(&self.turn_id);
        // A stop that came just before the wait began.
        if self.stop.load(Ordering::SeqCst) {
            self.state
                .agents
                .answer_plan(&self.turn_id, Approval::Stopped);
        }
        self.log
            .push("plan", json!({"turn": self.turn_id, "plan": plan}));
        let limit = Duration::from_secs(self.state.config.agent.plan_timeout_secs);
        match tokio::time::timeout(limit, rx).await {
            // Approved without an edit: the plan as written.
            Ok(Ok(Approval::Approved(edit))) if edit.trim().is_empty() => {
                Approval::Approved(plan.to_string())
            }
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Approval::Stopped,
            Err(_) => {
                // Nobody answered: the waiting entry goes (nobody receives this answer).
                self.state
                    .agents
                    .answer_plan(&self.turn_id, Approval::Stopped);
                Approval::Rejected(format!("no answer within {} seconds", limit.as_secs()))
            }
        }
    }

    async fn step(&mut self, step: &StepReport) {
        if let Err(e) = store::save_step(&self.state.pool, &self.turn_id, step).await {
            tracing::error!(turn = %self.turn_id, error = %e, "could not keep a turn step");
        }
        let mut data = serde_json::to_value(step).unwrap_or_default();
        data["turn"] = json!(self.turn_id);
        self.log.push("step", data);
    }

    async fn turn_diff(&mut self) -> Result<String, DiffError> {
        self.state
            .git
            .worktree_diff(&self.project_id, 512 * 1024)
            .await
            .map_err(|e| DiffError(e.to_string()))
    }
}
