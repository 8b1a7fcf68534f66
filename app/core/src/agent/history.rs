//! A thread's earlier messages for a new turn: within a quarter of the
//! prompt's room, older ones summarised by the model once (the caller keeps
//! the summary on the thread and hands it back while it still covers them).

use super::budget::Budget;
use super::context;
use super::runner::{ChatMsg, Model};

/// A summary kept on the thread: its text and the id of the last message it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub text: String,
    pub upto: String,
}

/// The history as the model gets it, and a new summary to keep (when one was made).
#[derive(Debug, Default)]
pub struct Fitted {
    pub messages: Vec<ChatMsg>,
    pub new_summary: Option<Summary>,
}

const SUMMARY_PROMPT: &str = "Summarise this conversation between a user and an app-building agent in at most 200 words: what \
     the user asked for, what was built, and what is still open. Write plain text.";

/// `history` (message id, message) cut to a quarter of the prompt's room;
/// what is older than fits is summarised with `model`. Without a summary
/// (the model failed or wrote nothing) the recent part alone is used.
pub async fn fit<M: Model>(
    model: &mut M,
    history: Vec<(String, ChatMsg)>,
    kept: Option<Summary>,
    budget: Budget,
) -> Fitted {
    let room = budget.prompt_limit() / 4;
    // A kept summary stands for the messages up to its mark.
    let (mut summary, mut rest) = (None, history.clone());
    if let Some(s) = kept {
        if let Some(i) = history.iter().position(|(id, _)| *id == s.upto) {
            rest = history[i + 1..].to_vec();
            summary = Some(s.text);
        }
    }
    let msgs: Vec<ChatMsg> = rest.iter().map(|(_, m)| m.clone()).collect();
    let summary_size = summary.as_deref().map(context::estimate).unwrap_or(0);
    if context::total(&msgs) + summary_size <= room {
        return Fitted {
            messages: with_summary(summary, msgs),
            new_summary: None,
        };
    }
    let (old, recent) = context::split_history(&msgs, room / 2);
    if old.is_empty() {
        return Fitted {
            messages: with_summary(summary, recent),
            new_summary: None,
        };
    }
    let upto = rest[old.len() - 1].0.clone();
    let mut prompt = vec![ChatMsg::new("system", SUMMARY_PROMPT)];
    if let Some(s) = &summary {
        prompt.push(ChatMsg::new(
            "user",
            format!("Summary of what came before:\n{s}"),
        ));
    }
    let transcript = old
        .iter()
        .map(|m| format!("{}: {}", m.role, m.content))
        .collect::<Vec<_>>()
        .join("\n\n");
    prompt.push(ChatMsg::new("user", transcript));
    let last = prompt.len() - 1;
    let prompt = context::fit(&prompt, budget.prompt_limit(), last);
    let max_tokens = budget.answer(context::total(&prompt)).min(600);
    match model.reply(&prompt, &[], max_tokens).await {
        Ok(reply) if !reply.text.trim().is_empty() => {
            let text = reply.text.trim().to_string();
            Fitted {
                messages: with_summary(Some(text.clone()), recent),
                new_summary: Some(Summary { text, upto }),
            }
        }
        _ => Fitted {
            messages: with_summary(summary, recent),
            new_summary: None,
        },
    }
}

fn with_summary(summary: Option<String>, msgs: Vec<ChatMsg>) -> Vec<ChatMsg> {
    let mut out = Vec::with_capacity(msgs.len() + 1);
    if let Some(s) = summary {
        out.push(ChatMsg::new(
            "user",
            format!("(A summary of the earlier conversation: {s})"),
        ));
    }
    out.extend(msgs);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::runner::{ModelError, Reply};

    struct Summariser {
        asked: usize,
        max_tokens: Vec<usize>,
    }

    impl Model for Summariser {
        async fn reply(
            &mut self,
            _m: &[ChatMsg],
            _t: &[serde_json::Value],
            max_tokens: usize,
        ) -> Result<Reply, ModelError> {
            self.asked += 1;
            self.max_tokens.push(max_tokens);
            Ok(Reply {
                text: "They built a todo list.".into(),
                ..Default::default()
            })
        }
    }

    fn history(n: usize, size: usize) -> Vec<(String, ChatMsg)> {
        (0..n)
            .map(|i| {
                (
                    format!("m{i}"),
                    ChatMsg::new(
                        if i % 2 == 0 { "user" } else { "assistant" },
                        "x".repeat(size),
                    ),
                )
            })
            .collect()
    }

    #[tokio::test]
    async fn short_history_stays_and_long_history_is_summarised_once() {
        let mut model = Summariser {
            asked: 0,
            max_tokens: Vec::new(),
        };
        let budget = Budget::new(8192, 4096);
        let short = fit(&mut model, history(4, 100), None, budget).await;
        assert_eq!((short.messages.len(), model.asked), (4, 0));

        let long = fit(&mut model, history(40, 600), None, budget).await;
        assert_eq!(model.asked, 1);
        let kept = long.new_summary.expect("a summary to keep");
        assert!(long.messages[0].content.contains("They built a todo list."));
        assert!(
            context::total(&long.messages) <= budget.prompt_limit() / 4,
            "{}",
            context::total(&long.messages)
        );
        assert!(model.max_tokens[0] <= 600);

        // The kept summary covers the old part: no second summary while the rest fits.
        let upto = history(40, 600)
            .iter()
            .position(|(id, _)| *id == kept.upto)
            .unwrap();
        let again = fit(&mut model, history(upto + 3, 600), Some(kept), budget).await;
        assert_eq!(model.asked, 1);
        assert!(again.messages[0].content.starts_with("(A summary"));
        assert_eq!(again.messages.len(), 3);
    }
}
