//! Whether the local model can serve an agent turn, in words a person can
//! act on. The admin page, the model pickers and the first-run banner all
//! show this one verdict, so "ready" means the same everywhere: the worker
//! answers, the model is not a test model, and its context holds the
//! agent's smallest prompt and answer.

use crate::agent::budget::Budget;
pub use autocrea_wire::llm::{LocalState, LocalStatus};

/// The ways forward when the local model cannot build apps.
const WAYS_FORWARD: &str = "To build apps, point the `joxcoder` entry in models/models.toml at your company's GGUF model \
     (make it the default and restart the appliance), or add an OpenAI-compatible, Anthropic or Gemini provider in Admin → Models.";

pub struct Facts<'a> {
    pub model: Option<&'a str>,
    pub context: Option<u32>,
    pub test_model: bool,
    /// The admin's provider policy lets people use the local model.
    pub allowed: bool,
    /// The worker answers requests; otherwise why not.
    pub worker: Result<(), String>,
    /// The agent's smallest prompt on an empty project (`pipeline::smallest_prompt`).
    pub smallest_prompt: usize,
    pub max_answer: usize,
}

pub fn status(f: Facts) -> LocalStatus {
    let name = f.model.unwrap_or("the local model");
    let (state, message) = if !f.allowed {
        (
            LocalState::Unavailable,
            format!("{name} is turned off in the provider policy (Admin → Models)."),
        )
    } else if let Err(why) = &f.worker {
        (
            LocalState::Unavailable,
            format!("{name} cannot answer now: {why}."),
        )
    } else if f.test_model {
        (
            LocalState::TestModel,
            format!("{name} is a small development model for testing the appliance: it cannot build apps. {WAYS_FORWARD}"),
        )
    } else if let Err(e) =
        Budget::new(f.context.unwrap_or(0) as usize, f.max_answer).check(f.smallest_prompt)
    {
        (LocalState::ContextTooSmall, format!("{name}: {e}."))
    } else {
        (
            LocalState::Ready,
            format!(
                "{name} is ready for agent turns ({} tokens of context per request).",
                f.context.unwrap_or(0)
            ),
        )
    };
    LocalStatus {
        model: f.model.map(str::to_string),
        context: f.context,
        test_model: f.test_model,
        agent_ready: state == LocalState::Ready,
        state,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::budget::{MIN_ANSWER, REQUEST_ALLOWANCE};

    fn facts(test_model: bool, context: u32, worker: Result<(), String>) -> Facts<'static> {
        Facts {
            model: Some("m"),
            context: Some(context),
            test_model,
            allowed: true,
            worker,
            smallest_prompt: 3000 - REQUEST_ALLOWANCE - MIN_ANSWER,
            max_answer: 4096,
        }
    }

    #[test]
    fn ready_only_when_it_can_serve_a_turn() {
        assert_eq!(status(facts(false, 8192, Ok(()))).state, LocalState::Ready);
        assert!(status(facts(false, 8192, Ok(()))).agent_ready);
        let test = status(facts(true, 8192, Ok(())));
        assert_eq!(
            (test.state, test.agent_ready),
            (LocalState::TestModel, false)
        );
        assert!(
            test.message.contains("cannot build apps")
                && test.message.contains("joxcoder")
                && test.message.contains("provider"),
            "{}",
            test.message
        );
        let small = status(facts(false, 2048, Ok(())));
        assert_eq!(small.state, LocalState::ContextTooSmall);
        assert!(
            small
                .message
                .contains("context is 2048 tokens; the agent needs at least 3000"),
            "{}",
            small.message
        );
        let down = status(facts(false, 8192, Err("the local model is loading".into())));
        assert_eq!(
            (down.state, down.agent_ready),
            (LocalState::Unavailable, false)
        );
        let off = status(Facts {
            allowed: false,
            ..facts(false, 8192, Ok(()))
        });
        assert_eq!(
            (off.state, off.agent_ready),
            (LocalState::Unavailable, false)
        );
        assert!(
            off.message.contains("turned off in the provider policy"),
            "{}",
            off.message
        );
    }
}
