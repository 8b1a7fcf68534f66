//! What fits in a model's context window. Sizes are estimated without a
//! tokenizer per provider: a token is about four bytes of English but
//! nearer three of code and JSON, so three bytes a token errs on the safe
//! side (how much the answer gets is `budget`'s part).

use super::message::ChatMsg;

pub fn estimate(text: &str) -> usize {
    text.len().div_ceil(3)
}

/// What an image costs, about: vendors count 85 to 1600 tokens by size.
pub const IMAGE_TOKENS: usize = 1000;

pub fn message_tokens(m: &ChatMsg) -> usize {
    // A few tokens of framing per message, as chat templates add.
    4 + estimate(&m.content)
        + m.tool_calls
            .iter()
            .map(|c| estimate(&c.name) + estimate(&c.arguments))
            .sum::<usize>()
        + m.images.len() * IMAGE_TOKENS
}

pub fn total(msgs: &[ChatMsg]) -> usize {
    msgs.iter().map(message_tokens).sum()
}

const ELIDED: &str = "[output left out to fit the context; call the tool again if you need it]";
const DROPPED: &str = "[earlier messages of this turn were left out to fit the context]";

/// The conversation cut to `budget` tokens. The system prompt (first), the
/// request (at `request`) and the newest exchange stay; first old tool
/// outputs shrink to their first line, then the oldest exchanges go (earlier
/// history before the turn's own work; an assistant's tool calls always with
/// their results, as chat APIs require), and as a last resort the largest
/// messages are cut.
pub fn fit(msgs: &[ChatMsg], budget: usize, request: usize) -> Vec<ChatMsg> {
    let mut out = msgs.to_vec();
    if total(&out) <= budget {
        return out;
    }
    // The two newest tool results are what the model is working on.
    let tool_positions: Vec<usize> = out
        .iter()
        .enumerate()
        .filter(|(_, m)| m.role == "tool")
        .map(|(i, _)| i)
        .collect();
    let keep_from = tool_positions.len().saturating_sub(2);
    for &i in &tool_positions[..keep_from] {
        let first = out[i]
            .content
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect::<String>();
        out[i].content = format!("{first}\n{ELIDED}");
        if total(&out) <= budget {
            return out;
        }
    }
    // Groups after the system prompt: a message with the tool results that follow it.
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for (i, m) in out.iter().enumerate().skip(1) {
        match groups.last_mut() {
            Some((_, end)) if m.role == "tool" => *end = i + 1,
            _ => groups.push((i, i + 1)),
        }
    }
    let holds_request = |&(start, end): &(usize, usize)| start <= request && request < end;
    let mut dropped = vec![false; groups.len()];
    let mut size = total(&out) + message_tokens(&ChatMsg::new("user", DROPPED));
    // Oldest first; never the request's group or the newest.
    for g in 0..groups.len().saturating_sub(1) {
        if size <= budget {
            break;
        }
        if holds_request(&groups[g]) {
            continue;
        }
        size -= out[groups[g].0..groups[g].1]
            .iter()
            .map(message_tokens)
            .sum::<usize>();
        dropped[g] = true;
    }
    let mut request_at = request.min(out.len().saturating_sub(1));
    if dropped.iter().any(|d| *d) {
        let mut cut = out[..1.min(out.len())].to_vec();
        let mut marked = false;
        for (g, &(start, end)) in groups.iter().enumerate() {
            if dropped[g] {
                if !marked {
                    cut.push(ChatMsg::new("user", DROPPED));
                    marked = true;
                }
                continue;
            }
            if holds_request(&(start, end)) {
                request_at = cut.len() + (request - start);
            }
            cut.extend_from_slice(&out[start..end]);
        }
        out = cut;
    }
    shorten_largest(&mut out, budget, request_at);
    out
}

const SHORTENED: &str =
    "[cut here to fit the model's context; ask for a smaller part if you need the rest]";
const ARGUMENTS_LEFT_OUT: &str =
    r#"{"left_out": "[these arguments were left out to fit the model's context]"}"#;

/// Last resort when what must stay (the prompts, the newest exchange) is
/// still too big, as one large file read into a small context or written in
/// one call: the largest messages after the system prompt are cut, largest
/// first, the request only when nothing else is left to cut. A message that
/// is big by its calls' arguments (already run: their results follow) gets
/// a note in their place, so what is sent stays valid JSON.
fn shorten_largest(msgs: &mut [ChatMsg], budget: usize, request: usize) {
    for _ in 0..msgs.len() * 2 {
        let size = total(msgs);
        if size <= budget {
            return;
        }
        let largest = |skip_request: bool| {
            (1..msgs.len())
                .filter(|&i| !(skip_request && i == request))
                .max_by_key(|&i| message_tokens(&msgs[i]))
        };
        // Anything but the request first, while it is worth cutting.
        let Some(i) = largest(true)
            .filter(|&i| message_tokens(&msgs[i]) > 64)
            .or_else(|| largest(false))
        else {
            return;
        };
        let in_calls: usize = msgs[i]
            .tool_calls
            .iter()
            .map(|c| estimate(&c.arguments))
            .sum();
        if in_calls > estimate(&msgs[i].content) {
            for c in &mut msgs[i].tool_calls {
                c.arguments = ARGUMENTS_LEFT_OUT.to_string();
            }
            continue;
        }
        // About three bytes a token, plus room for the note.
        let excess_bytes = (size - budget) * 3 + SHORTENED.len() + 8;
        if msgs[i].content.len() <= SHORTENED.len() + 8 {
            return;
        }
        let keep = msgs[i].content.len().saturating_sub(excess_bytes);
        let end = crate::text::prefix(&msgs[i].content, keep).len();
        msgs[i].content.truncate(end);
        msgs[i].content.push('\n');
        msgs[i].content.push_str(SHORTENED);
    }
}

/// Splits a thread's history so the recent part takes at most `budget`
/// tokens; the older part is what gets summarised. Splits only before a
/// user message, so a question and its answer stay together.
pub fn split_history(history: &[ChatMsg], budget: usize) -> (Vec<ChatMsg>, Vec<ChatMsg>) {
    let mut size = 0;
    let mut split = history.len();
    for i in (0..history.len()).rev() {
        size += message_tokens(&history[i]);
        if size > budget {
            break;
        }
        if history[i].role == "user" {
            split = i;
        }
    }
    (history[..split].to_vec(), history[split..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::message::Call;

    fn assistant_calls(id: &str) -> ChatMsg {
        ChatMsg {
            role: "assistant",
            tool_calls: vec![Call {
                id: id.into(),
                name: "read_file".into(),
                arguments: "{}".into(),
            }],
            ..Default::default()
        }
    }

    fn tool(id: &str, size: usize) -> ChatMsg {
        ChatMsg {
            role: "tool",
            content: format!("first line\n{}", "x".repeat(size)),
            tool_call_id: Some(id.into()),
            ..Default::default()
        }
    }

    #[test]
    fn small_conversations_stay_whole() {
        let msgs = vec![
            ChatMsg::new("system", "s"),
            ChatMsg::new("user", "build it"),
        ];
        assert_eq!(fit(&msgs, 1000, 1), msgs);
    }

    #[test]
    fn old_tool_output_shrinks_first_then_old_exchanges_go() {
        let mut msgs = vec![
            ChatMsg::new("system", "You are the Developer."),
            ChatMsg::new("user", "build it"),
        ];
        for i in 0..6 {
            msgs.push(assistant_calls(&i.to_string()));
            msgs.push(tool(&i.to_string(), 4000));
        }
        // Six outputs of ~1330 tokens: eliding four of them is enough for 3,300.
        let fitted = fit(&msgs, 3300, 1);
        assert_eq!(fitted.len(), msgs.len());
        assert!(fitted[3]
            .content
            .starts_with("first line\n[output left out"));
        assert_eq!(
            fitted[13].content, msgs[13].content,
            "the newest output stays"
        );
        assert!(total(&fitted) <= 3300);

        // Too small even then: the oldest exchanges go, the request and the newest stay, calls with their results.
        let fitted = fit(&msgs, 1600, 1);
        assert!(total(&fitted) <= 1600, "{}", total(&fitted));
        assert_eq!(
            (fitted[0].role, fitted[1].content.as_str()),
            ("system", "build it")
        );
        assert!(fitted[2].content.contains("left out to fit"));
        assert_eq!(fitted.last().unwrap().content, msgs.last().unwrap().content);
        for (i, m) in fitted.iter().enumerate() {
            if m.role == "tool" {
                assert!(
                    !fitted[i - 1].tool_calls.is_empty() || fitted[i - 1].role == "tool",
                    "a result follows its call"
                );
            }
        }
    }

    #[test]
    fn a_newest_output_bigger_than_the_budget_is_cut() {
        let msgs = vec![
            ChatMsg::new("system", "s"),
            ChatMsg::new("user", "read it"),
            assistant_calls("1"),
            tool("1", 30_000),
        ];
        let fitted = fit(&msgs, 2000, 1);
        assert!(total(&fitted) <= 2000, "{}", total(&fitted));
        assert!(
            fitted[3].content.starts_with("first line\nxxx")
                && fitted[3]
                    .content
                    .ends_with("ask for a smaller part if you need the rest]")
        );
    }

    #[test]
    fn with_history_the_request_stays_and_old_history_goes_first() {
        let mut msgs = vec![ChatMsg::new("system", "s")];
        for i in 0..6 {
            msgs.push(ChatMsg::new(
                if i % 2 == 0 { "user" } else { "assistant" },
                format!("history {i} {}", "h".repeat(1500)),
            ));
        }
        msgs.push(ChatMsg::new("user", "The request: build it"));
        let request = msgs.len() - 1;
        msgs.push(assistant_calls("1"));
        msgs.push(tool("1", 300));
        let fitted = fit(&msgs, 900, request);
        assert!(total(&fitted) <= 900, "{}", total(&fitted));
        assert!(
            fitted.iter().any(|m| m.content == "The request: build it"),
            "the request stays"
        );
        assert!(
            fitted[1].content.contains("left out to fit"),
            "old history went: {:?}",
            fitted[1].content
        );
        assert_eq!(fitted.last().unwrap().content, msgs.last().unwrap().content);
    }

    #[test]
    fn two_messages_and_big_call_arguments_are_cut_too() {
        // A summary prompt: the system prompt and one long transcript.
        let msgs = vec![
            ChatMsg::new("system", "Summarise"),
            ChatMsg::new("user", "t".repeat(30_000)),
        ];
        let fitted = fit(&msgs, 2000, 1);
        assert!(total(&fitted) <= 2000, "{}", total(&fitted));
        // A big file written in one call: its arguments give way, not the request.
        let big = ChatMsg {
            role: "assistant",
            tool_calls: vec![Call {
                id: "1".into(),
                name: "create_file".into(),
                arguments: format!(
                    "{{\"path\": \"a\", \"content\": \"{}\"}}",
                    "x".repeat(30_000)
                ),
            }],
            ..Default::default()
        };
        let msgs = vec![
            ChatMsg::new("system", "s"),
            ChatMsg::new("user", "The request"),
            big,
            tool("1", 10),
        ];
        let fitted = fit(&msgs, 2000, 1);
        assert!(total(&fitted) <= 2000, "{}", total(&fitted));
        assert_eq!(fitted[1].content, "The request");
        assert!(
            serde_json::from_str::<serde_json::Value>(&fitted[2].tool_calls[0].arguments).is_ok()
        );
    }

    #[test]
    fn history_splits_before_a_question() {
        let h = vec![
            ChatMsg::new("user", "a".repeat(400)),
            ChatMsg::new("assistant", "b".repeat(400)),
            ChatMsg::new("user", "c".repeat(40)),
            ChatMsg::new("assistant", "d".repeat(40)),
        ];
        let (old, recent) = split_history(&h, 60);
        assert_eq!((old.len(), recent.len()), (2, 2));
        let (old, recent) = split_history(&h, 10_000);
        assert_eq!((old.len(), recent.len()), (0, 4));
    }
}
