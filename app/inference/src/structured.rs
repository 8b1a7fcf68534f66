//! Structured output for local models: a JSON schema (OpenAI's
//! `response_format`) or a set of tools (`tools` + `tool_choice`) becomes a
//! GBNF grammar that constrains decoding, so what comes out always parses.
//!
//! The small local models have no native tool-call format, so the tools are
//! described in a system message and a call is a JSON object
//! `{"name": ..., "arguments": {...}}` whose arguments follow that tool's
//! parameter schema.

use crate::ModelError;
use serde_json::{json, Value};

/// One callable function, as OpenAI's `tools[].function` describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: Value,
}

/// OpenAI's `tool_choice`.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolChoice {
    /// Never call a tool.
    None,
    /// Answer in text or call a tool (the default when tools are given).
    Auto,
    /// Call one of the tools.
    Required,
    /// Call this tool.
    Named(String),
}

/// The grammar for values of a JSON schema (llama.cpp's own converter).
pub fn schema_grammar(schema: &Value) -> Result<String, ModelError> {
    llama_cpp_2::json_schema_to_grammar(&schema.to_string())
        .map_err(|e| ModelError::BadSchema(e.to_string()))
}

/// The schema of one call to any of `tools`, as JSON text: written by hand
/// so that `name` comes before `arguments` (llama.cpp's converter keeps the
/// properties' order, and serde_json's maps sort keys). The model picks
/// the tool first, as chat models are trained to, and the call can be
/// streamed: its name is known before its arguments are written.
fn call_schema(tools: &[&ToolSpec]) -> String {
    let calls: Vec<String> = tools
        .iter()
        .map(|t| {
            let parameters = if t.parameters.is_object() {
                t.parameters.clone()
            } else {
                json!({ "type": "object" })
            };
            format!(
                r#"{{"type":"object","properties":{{"name":{},"arguments":{}}},"required":["name","arguments"],"additionalProperties":false}}"#,
                json!({ "const": t.name }),
                parameters
            )
        })
        .collect();
    if calls.len() == 1 {
        calls.into_iter().next().expect("one call")
    } else {
        format!(r#"{{"oneOf":[{}]}}"#, calls.join(","))
    }
}

/// The grammar for a reply given tools and a choice; `None` when the reply
/// is free text.
pub fn tools_grammar(
    tools: &[ToolSpec],
    choice: &ToolChoice,
) -> Result<Option<String>, ModelError> {
    let selected: Vec<&ToolSpec> = match choice {
        ToolChoice::None => return Ok(None),
        ToolChoice::Named(name) => {
            let t: Vec<&ToolSpec> = tools.iter().filter(|t| &t.name == name).collect();
            if t.is_empty() {
                return Err(ModelError::BadSchema(format!(
                    "tool_choice names {name:?}, which is not among the tools"
                )));
            }
            t
        }
        ToolChoice::Auto | ToolChoice::Required => tools.iter().collect(),
    };
    if selected.is_empty() {
        return Ok(None);
    }
    let grammar = llama_cpp_2::json_schema_to_grammar(&call_schema(&selected))
        .map_err(|e| ModelError::BadSchema(e.to_string()))?;
    if *choice != ToolChoice::Auto {
        return Ok(Some(grammar));
    }
    // Auto: either a call or text that does not start like one.
    let call = rename_root(&grammar, "autocrea-tool-call");
    Ok(Some(format!(
        "root ::= autocrea-tool-call | autocrea-text\nautocrea-text ::= [^{{ \\t\\n] [^\\x00]*\n{call}"
    )))
}

fn rename_root(grammar: &str, to: &str) -> String {
    grammar
        .lines()
        .map(|line| match line.strip_prefix("root ::=") {
            Some(rest) => format!("{to} ::={rest}"),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The system message that lists the tools: one line each, as a signature
/// (`- read_file(path: string): Read a file.`). Small models copy what a
/// JSON schema shows as text into the call (a parameter's description
/// became the path); a signature shows names and types only, and costs
/// fewer tokens. The grammar enforces the schema whatever the prompt says.
pub fn tools_prompt(tools: &[ToolSpec], choice: &ToolChoice) -> String {
    let listed: Vec<String> = tools
        .iter()
        .filter(|t| match choice {
            ToolChoice::Named(n) => &t.name == n,
            _ => true,
        })
        .map(signature)
        .collect();
    let how = match choice {
        ToolChoice::Auto => "When a tool helps, reply with only a JSON object {\"name\": <tool name>, \"arguments\": <arguments object>}; otherwise answer in plain text.",
        _ => "Reply with only a JSON object {\"name\": <tool name>, \"arguments\": <arguments object>} that calls one of them.",
    };
    format!("You can call these tools:\n{}\n{how}", listed.join("\n"))
}

/// `- name(a: string, b?: boolean): description` (`?`: optional).
fn signature(t: &ToolSpec) -> String {
    let required: Vec<&str> = t
        .parameters
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut params: Vec<(String, bool)> = t
        .parameters
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, schema)| {
            let needed = required.contains(&name.as_str());
            (
                format!(
                    "{name}{}: {}",
                    if needed { "" } else { "?" },
                    type_of(schema)
                ),
                needed,
            )
        })
        .collect();
    // Required parameters first, in the order `required` lists them.
    params.sort_by_key(|(p, needed)| {
        (
            !needed,
            required
                .iter()
                .position(|r| p.starts_with(&format!("{r}:")))
                .unwrap_or(usize::MAX),
        )
    });
    let params: Vec<String> = params.into_iter().map(|(p, _)| p).collect();
    let description = t.description.trim();
    format!(
        "- {}({}){}",
        t.name,
        params.join(", "),
        if description.is_empty() {
            String::new()
        } else {
            format!(": {description}")
        }
    )
}

/// A schema's type in a few words: `string`, `array of {search: string, replace: string}`.
fn type_of(schema: &Value) -> String {
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => format!(
            "array of {}",
            schema
                .get("items")
                .map(type_of)
                .unwrap_or_else(|| "values".into())
        ),
        Some("object") => {
            let fields: Vec<String> = schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(name, s)| format!("{name}: {}", type_of(s)))
                .collect();
            if fields.is_empty() {
                "object".into()
            } else {
                format!("{{{}}}", fields.join(", "))
            }
        }
        Some(t) => t.to_string(),
        None => "value".into(),
    }
}

/// A tool call in a reply: `(name, arguments)` when the whole reply is one
/// call to a known tool.
pub fn parse_tool_call(text: &str, tools: &[ToolSpec]) -> Option<(String, Value)> {
    let value: Value = serde_json::from_str(text.trim()).ok()?;
    let name = value.get("name")?.as_str()?;
    let arguments = value.get("arguments")?;
    if !arguments.is_object() || !tools.iter().any(|t| t.name == name) {
        return None;
    }
    Some((name.to_string(), arguments.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tools() -> Vec<ToolSpec> {
        vec![
            ToolSpec {
                name: "create_file".into(),
                description: "Create a file".into(),
                parameters: json!({"type":"object","properties":{"path":{"type":"string","maxLength":40}},"required":["path"]}),
            },
            ToolSpec {
                name: "delete_file".into(),
                description: "Delete a file".into(),
                parameters: json!({"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}),
            },
        ]
    }

    #[test]
    fn the_prompt_lists_tools_as_signatures() {
        let prompt = tools_prompt(&tools(), &ToolChoice::Required);
        assert!(
            prompt.contains("- create_file(path: string): Create a file"),
            "{prompt}"
        );
        assert!(
            prompt.contains("- delete_file(path: string): Delete a file"),
            "{prompt}"
        );
        let only = tools_prompt(&tools(), &ToolChoice::Named("delete_file".into()));
        assert!(!only.contains("create_file"), "{only}");
    }

    #[test]
    fn grammars_for_each_choice() {
        let t = tools();
        assert_eq!(tools_grammar(&t, &ToolChoice::None).unwrap(), None);
        let required = tools_grammar(&t, &ToolChoice::Required).unwrap().unwrap();
        assert!(required.contains("root ::="), "{required}");
        assert!(required.contains("create_file") && required.contains("delete_file"));
        let named = tools_grammar(&t, &ToolChoice::Named("delete_file".into()))
            .unwrap()
            .unwrap();
        assert!(named.contains("delete_file") && !named.contains("create_file"));
        let auto = tools_grammar(&t, &ToolChoice::Auto).unwrap().unwrap();
        assert!(auto.starts_with("root ::= autocrea-tool-call | autocrea-text"));
        assert_eq!(auto.matches("\nroot ::=").count(), 0);
        assert!(tools_grammar(&t, &ToolChoice::Named("nope".into())).is_err());
    }

    #[test]
    fn calls_parse_only_when_whole_and_known() {
        let t = tools();
        assert_eq!(
            parse_tool_call(
                r#" {"name":"create_file","arguments":{"path":"a.html"}} "#,
                &t
            ),
            Some(("create_file".into(), json!({"path":"a.html"})))
        );
        assert_eq!(parse_tool_call(r#"{"name":"rm","arguments":{}}"#, &t), None);
        assert_eq!(parse_tool_call("sure, here", &t), None);
    }
}
