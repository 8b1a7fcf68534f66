//! How a model's context is shared between the prompt and the answer. One
//! place decides it for every model call of a turn: the answer gets what the
//! context leaves after the prompt (at most `[agent] max_tokens`), never a
//! fixed amount on top, and a turn whose smallest prompt cannot fit is
//! refused before it starts, with what to do about it.

use super::context;

/// The smallest answer worth asking for: one small file or a few calls.
pub const MIN_ANSWER: usize = 512;

/// Contexts below this get the compact prompt: a shorter brief, fewer
/// tools, a cut file tree (see `pipeline::system_prompt`).
pub const COMPACT_BELOW: usize = 12_288;

/// What the request itself may take in the smallest prompt, in tokens.
pub const REQUEST_ALLOWANCE: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The model's context per request, in tokens.
    pub context: usize,
    /// The longest answer asked for (`[agent] max_tokens`).
    pub max_answer: usize,
}

/// The model's context cannot hold the agent's smallest prompt and answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "this model's context is {context} tokens; the agent needs at least {needed}: pick a larger model in \
     Admin → Models (or set a larger context for it) or add a provider"
)]
pub struct TooSmall {
    pub context: usize,
    pub needed: usize,
}

impl Budget {
    pub fn new(context: usize, max_answer: usize) -> Self {
        Self {
            context,
            max_answer: max_answer.max(MIN_ANSWER),
        }
    }

    /// Small contexts get the compact prompt.
    pub fn compact(&self) -> bool {
        self.context < COMPACT_BELOW
    }

    /// Tokens kept free for the answer while the prompt is fitted: a
    /// quarter of the context, at least `MIN_ANSWER`, at most `max_answer`.
    pub fn reserve(&self) -> usize {
        (self.context / 4).clamp(MIN_ANSWER, self.max_answer)
    }

    /// Tokens the messages and tool definitions together may take.
    pub fn prompt_limit(&self) -> usize {
        self.context.saturating_sub(self.reserve())
    }

    /// `max_tokens` for a prompt of `prompt` (estimated) tokens: what the
    /// context leaves after it, at most `max_answer`; at least one token, so
    /// an estimate that ran over still asks (the worker then answers with
    /// what fits, or says the prompt does not).
    pub fn answer(&self, prompt: usize) -> usize {
        self.context
            .saturating_sub(prompt)
            .clamp(1, self.max_answer)
    }

    /// Whether a turn whose smallest prompt is `minimum_prompt` tokens can run.
    pub fn check(&self, minimum_prompt: usize) -> Result<(), TooSmall> {
        let needed = minimum_prompt + REQUEST_ALLOWANCE + MIN_ANSWER;
        if self.context < needed {
            return Err(TooSmall {
                context: self.context,
                needed,
            });
        }
        Ok(())
    }
}

/// What tool definitions cost in the prompt (as JSON text; a worker that
/// lists them in the prompt writes about the same).
pub fn tools_tokens(tools: &[serde_json::Value]) -> usize {
    tools
        .iter()
        .map(|t| context::estimate(&t.to_string()))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// For every model size, a prompt fitted to `prompt_limit` leaves an
    /// answer of at least the reserve, and prompt + answer never exceeds
    /// the context.
    #[test]
    fn prompt_and_answer_fit_every_context() {
        for context in [2048, 4096, 8192, 12_288, 16_384, 32_768, 131_072] {
            for max_answer in [256, 512, 4096, 16_384] {
                let b = Budget::new(context, max_answer);
                let limit = b.prompt_limit();
                assert!(limit + b.reserve() <= context, "{context}/{max_answer}");
                for prompt in [0, 100, limit / 2, limit] {
                    let answer = b.answer(prompt);
                    assert!(
                        prompt + answer <= context,
                        "{context}/{max_answer}: {prompt} + {answer}"
                    );
                    assert!(answer <= b.max_answer);
                    assert!(
                        answer >= b.reserve().min(b.max_answer),
                        "{context}/{max_answer}: {prompt} leaves {answer}"
                    );
                }
                // An estimate past the context still asks for one token.
                assert_eq!(b.answer(context + 10), 1);
            }
        }
    }

    #[test]
    fn the_answer_is_what_the_context_leaves() {
        // The first run's failure: 1918 prompt tokens plus a fixed 4096 on top of a 4096 context.
        let b = Budget::new(4096, 4096);
        assert_eq!(b.answer(1918), 2178);
        assert_eq!(Budget::new(32_768, 4096).answer(1918), 4096);
        assert!(Budget::new(8192, 4096).compact() && !Budget::new(16_384, 4096).compact());
    }

    #[test]
    fn a_context_too_small_is_refused_with_what_to_do() {
        let e = Budget::new(2048, 4096).check(1800).unwrap_err();
        assert_eq!(
            e,
            TooSmall {
                context: 2048,
                needed: 1800 + REQUEST_ALLOWANCE + MIN_ANSWER
            }
        );
        let text = e.to_string();
        assert!(
            text.starts_with("this model's context is 2048 tokens; the agent needs at least 2568"),
            "{text}"
        );
        assert!(
            text.contains("Admin → Models") && text.contains("add a provider"),
            "{text}"
        );
        assert!(Budget::new(8192, 4096).check(1800).is_ok());
    }
}
