//! Tool calls written as text, for models without native tool calls (and
//! for local models that ignore the grammar). The format asked for is
//! `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`; what is read
//! is looser: fenced blocks (```tool_call / ```json) holding such an object,
//! `tool`/`function` for `name`, `args`/`parameters`/`input` for
//! `arguments`, arguments as an object or as JSON text, trailing commas.
//! A block that looks like a call but cannot be read is reported, so the
//! model can be asked to write it again.

use super::message::Call;
use serde_json::Value;

/// What a reply's text held.
#[derive(Debug, Default, PartialEq)]
pub struct Parsed {
    /// The text with the call blocks taken out.
    pub text: String,
    pub calls: Vec<Call>,
    /// Why blocks that looked like calls could not be read.
    pub errors: Vec<String>,
}

/// Instructions for the system prompt: the format and the tools.
pub fn instructions(tools: &[Value]) -> String {
    let mut s = String::from(
        "To use a tool, write one block per call, exactly like this:\n\
         <tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"index.html\"}}\n</tool_call>\n\
         The arguments are one JSON object. You may write several blocks in one answer. \
         When your work is done, answer with a short summary and no block.\n\nThe tools:\n",
    );
    for t in tools {
        let f = &t["function"];
        s.push_str(&format!(
            "- {}: {} Arguments: {}\n",
            f["name"].as_str().unwrap_or(""),
            f["description"].as_str().unwrap_or(""),
            f["parameters"]["properties"]
        ));
    }
    s
}

/// The prompt that asks for a block to be written again.
pub fn repair_prompt(errors: &[String]) -> String {
    format!(
        "Your tool call could not be read: {}. Call the tool again with complete, valid JSON arguments \
         (written as <tool_call>{{\"name\": \"...\", \"arguments\": {{...}}}}</tool_call> if you write calls as text).",
        errors.join("; ")
    )
}

pub fn parse(reply: &str, id_prefix: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut rest = reply;
    let mut n = 0;
    while let Some((start, body, end, tagged)) = next_block(rest) {
        out.text.push_str(&rest[..start]);
        match read_call(body) {
            Ok(Some((name, arguments))) => {
                n += 1;
                out.calls.push(Call {
                    id: format!("{id_prefix}{n}"),
                    name,
                    arguments,
                });
            }
            Ok(None) => out.text.push_str(&rest[start..end]), // an ordinary code block
            Err(e) if tagged || looks_like_call(body) => out.errors.push(e),
            Err(_) => out.text.push_str(&rest[start..end]),
        }
        rest = &rest[end..];
    }
    out.text.push_str(rest);
    out.text = out.text.trim().to_string();
    out
}

const TAGS: &[(&str, &str)] = &[
    ("<tool_call>", "</tool_call>"),
    ("<function_call>", "</function_call>"),
    ("<tool>", "</tool>"),
];

/// The next block: (start, body, end, whether it was a tag).
fn next_block(s: &str) -> Option<(usize, &str, usize, bool)> {
    let tag = TAGS
        .iter()
        .filter_map(|(open, close)| s.find(open).map(|i| (i, *open, *close)))
        .min_by_key(|t| t.0);
    let fence = s.find("```");
    match (tag, fence) {
        (Some((i, open, close)), f) if f.is_none_or(|f| i < f) => {
            let body_start = i + open.len();
            // An unclosed tag runs to the end of the reply (models stop early).
            let (body_end, end) = match s[body_start..].find(close) {
                Some(j) => (body_start + j, body_start + j + close.len()),
                None => (s.len(), s.len()),
            };
            Some((i, strip_fence(&s[body_start..body_end]), end, true))
        }
        (_, Some(f)) => {
            let after = f + 3;
            let line_end = s[after..].find('\n').map(|j| after + j + 1)?;
            let label = s[after..line_end].trim();
            let close = s[line_end..].find("```").map(|j| line_end + j)?;
            if !matches!(label, "" | "json" | "tool_call" | "tool" | "function_call") {
                // Some other language: not a call; skip past it whole.
                return Some((f, "", close + 3, false));
            }
            Some((f, &s[line_end..close], close + 3, false))
        }
        _ => None,
    }
}

fn strip_fence(body: &str) -> &str {
    let t = body.trim();
    let Some(inner) = t.strip_prefix("```") else {
        return t;
    };
    let inner = inner.split_once('\n').map(|(_, b)| b).unwrap_or("");
    inner.trim_end().strip_suffix("```").unwrap_or(inner)
}

fn looks_like_call(body: &str) -> bool {
    body.contains("\"name\"") && (body.contains("\"arguments\"") || body.contains("\"args\""))
}

/// `Ok(None)`: valid JSON that is not a call.
fn read_call(body: &str) -> Result<Option<(String, String)>, String> {
    let body = body.trim();
    if body.is_empty() {
        return Ok(None);
    }
    let value: Value = serde_json::from_str(body)
        .or_else(|_| serde_json::from_str(&without_trailing_commas(body)))
        .map_err(|e| format!("the block is not valid JSON ({e})"))?;
    let Some(obj) = value.as_object() else {
        return Ok(None);
    };
    let name = ["name", "tool", "function"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_str));
    let Some(name) = name else { return Ok(None) };
    let args = ["arguments", "args", "parameters", "input"]
        .iter()
        .find_map(|k| obj.get(*k))
        .cloned()
        .unwrap_or(Value::Object(Default::default()));
    let arguments = match args {
        Value::String(s) => s,
        other => other.to_string(),
    };
    Ok(Some((name.to_string(), arguments)))
}

/// Drops commas that close a list or object early (`[1, 2,]`), outside strings.
fn without_trailing_commas(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let (mut in_string, mut escaped) = (false, false);
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if in_string {
            escaped = !escaped && c == '\\';
            if c == '"' && !escaped {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c == ','
            && chars[i + 1..]
                .iter()
                .find(|c| !c.is_whitespace())
                .is_some_and(|n| *n == '}' || *n == ']')
        {
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_fences_and_loose_json_are_read() {
        let reply = "I will create the page.\n<tool_call>\n{\"name\": \"create_file\", \"arguments\": {\"path\": \"a.html\", \"content\": \"<p>,}</p>\",},}\n</tool_call>\n\
                     Then read it:\n```json\n{\"tool\": \"read_file\", \"args\": \"{\\\"path\\\": \\\"a.html\\\"}\"}\n```\nDone soon.";
        let p = parse(reply, "t");
        assert_eq!(p.errors, Vec::<String>::new());
        assert_eq!(p.calls.len(), 2);
        assert_eq!(
            (p.calls[0].id.as_str(), p.calls[0].name.as_str()),
            ("t1", "create_file")
        );
        let args: Value = serde_json::from_str(&p.calls[0].arguments).unwrap();
        assert_eq!(args["content"], "<p>,}</p>", "commas inside strings stay");
        assert_eq!(
            (p.calls[1].name.as_str(), p.calls[1].arguments.as_str()),
            ("read_file", "{\"path\": \"a.html\"}")
        );
        assert_eq!(
            p.text,
            "I will create the page.\n\nThen read it:\n\nDone soon."
        );
    }

    #[test]
    fn ordinary_code_blocks_stay_text_and_broken_calls_are_reported() {
        let p = parse(
            "Here is CSS:\n```css\nbody { color: red }\n```\nand data ```json\n{\"a\": 1}\n```",
            "x",
        );
        assert!(p.calls.is_empty() && p.errors.is_empty());
        assert!(p.text.contains("body { color: red }") && p.text.contains("{\"a\": 1}"));

        let p = parse(
            "<tool_call>{\"name\": \"create_file\", \"arguments\": {\"path\": \"a\"</tool_call>",
            "x",
        );
        assert!(p.calls.is_empty());
        assert_eq!(p.errors.len(), 1);
        assert!(p.errors[0].contains("not valid JSON"), "{:?}", p.errors);
        assert!(repair_prompt(&p.errors).contains("<tool_call>"));

        // A reply cut off inside a tag still yields its call when the JSON is whole.
        let p = parse(
            "<tool_call>\n```json\n{\"name\": \"list_files\", \"arguments\": {}}\n```",
            "x",
        );
        assert_eq!(p.calls.len(), 1, "{p:?}");
    }

    #[test]
    fn instructions_name_every_tool() {
        let tools = crate::agent::tools::definitions();
        let text = instructions(&tools);
        for name in crate::agent::tools::NAMES {
            assert!(text.contains(&format!("- {name}:")), "{name}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Text made of the parser's own markers and noise: hostile model output.
        fn hostile() -> impl Strategy<Value = String> {
            let piece = prop_oneof![
                Just("<tool_call>".to_string()),
                Just("</tool_call>".to_string()),
                Just("<tool>".to_string()),
                Just("</function_call>".to_string()),
                Just("```".to_string()),
                Just("```json\n".to_string()),
                Just("{\"name\": \"x\", \"arguments\": ".to_string()),
                Just("\"args\"".to_string()),
                Just(",}".to_string()),
                Just("\\\"".to_string()),
                Just("\n".to_string()),
                "\\PC{0,12}",
            ];
            prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
        }

        fn arguments() -> impl Strategy<Value = serde_json::Map<String, Value>> {
            prop::collection::btree_map(
                "[a-z_]{1,8}",
                prop_oneof![
                    any::<i64>().prop_map(Value::from),
                    "\\PC{0,30}".prop_map(Value::from),
                    any::<bool>().prop_map(Value::from)
                ],
                0..5,
            )
            .prop_map(|m| m.into_iter().collect())
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

            /// Any text: no panic, and every call found has an id and a name.
            #[test]
            fn hostile_text_never_panics(reply in hostile()) {
                let p = parse(&reply, "h");
                for (i, c) in p.calls.iter().enumerate() {
                    prop_assert_eq!(&c.id, &format!("h{}", i + 1));
                }
            }

            /// A well-formed block between ordinary words is read back exactly,
            /// whatever its arguments hold (markers inside strings included).
            #[test]
            fn a_written_call_is_read_back(name in "[a-z_]{1,20}", args in arguments(), before in "[A-Za-z .,]{0,40}", after in "[A-Za-z .,]{0,40}") {
                let call = serde_json::json!({"name": name, "arguments": Value::Object(args.clone())});
                let reply = format!("{before}\n<tool_call>\n{call}\n</tool_call>\n{after}");
                let p = parse(&reply, "t");
                prop_assert!(p.errors.is_empty(), "{:?}", p.errors);
                prop_assert_eq!(p.calls.len(), 1);
                prop_assert_eq!(&p.calls[0].name, &name);
                let got: Value = serde_json::from_str(&p.calls[0].arguments).unwrap();
                prop_assert_eq!(got, Value::Object(args));
                prop_assert_eq!(p.text, format!("{}\n\n{}", before, after).trim().to_string());
            }

            /// Text with no markers at all is only text.
            #[test]
            fn plain_text_is_text(text in "[^<`]{0,200}") {
                let p = parse(&text, "t");
                prop_assert!(p.calls.is_empty() && p.errors.is_empty());
                prop_assert_eq!(p.text, text.trim().to_string());
            }
        }
    }
}
