//! The tools the agent's model may call: their JSON schemas (OpenAI `tools`
//! format) and the parsing of a call. File tools run here on the turn's
//! working tree; the sandbox and editor tools are handed back to the caller.

use super::files::{Section, Worktree};
use super::AgentError;
use serde::Deserialize;
use serde_json::{json, Value};

/// A parsed tool call.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolCall {
    CreateFile {
        path: String,
        content: String,
    },
    UpdateFileSections {
        path: String,
        sections: Vec<(String, String)>,
    },
    FullFileRewrite {
        path: String,
        content: String,
    },
    DeleteFile {
        path: String,
    },
    RenameFile {
        from: String,
        to: String,
    },
    ReadFile {
        path: String,
    },
    ListFiles {
        path: String,
    },
    SearchFiles {
        pattern: String,
        path: String,
        case_insensitive: bool,
    },
    AddDependency {
        name: String,
        version: String,
        dev: bool,
    },
    SendTerminalCommand {
        command: String,
        timeout_secs: Option<u64>,
    },
    CheckForErrors,
    OpenFilesInEditor {
        paths: Vec<String>,
    },
    CloseFilesInEditor {
        paths: Vec<String>,
    },
    /// The role says its work is done (a local model with constrained
    /// decoding always calls a tool, so it needs one to stop with).
    Finish {
        summary: String,
    },
}

/// What running a call gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Text for the model (the result of a file tool).
    Done(String),
    /// The caller runs it in the sandbox.
    Sandbox(ToolCall),
    /// The caller sends it to the editor as a UI event.
    Editor(ToolCall),
    /// The role is done; its summary.
    Finish(String),
}

impl ToolCall {
    /// Parses `arguments` (a JSON object as text) for tool `name`. Errors
    /// say what was wrong, for the model to repair the call.
    pub fn parse(name: &str, arguments: &str) -> Result<Self, AgentError> {
        let args: Value = if arguments.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(arguments).map_err(|e| {
                AgentError::Invalid(format!(
                    "the arguments of {name} are not valid JSON ({e}); send one JSON object"
                ))
            })?
        };
        if !args.is_object() {
            return Err(AgentError::Invalid(format!(
                "the arguments of {name} must be a JSON object"
            )));
        }
        fn take<T: for<'de> Deserialize<'de>>(name: &str, args: Value) -> Result<T, AgentError> {
            serde_json::from_value(args).map_err(|e| AgentError::Invalid(format!("{name}: {e}")))
        }
        #[derive(Deserialize)]
        struct PathContent {
            path: String,
            content: String,
        }
        #[derive(Deserialize)]
        struct PathOnly {
            path: String,
        }
        #[derive(Deserialize)]
        struct Sections {
            path: String,
            sections: Vec<Section>,
        }
        #[derive(Deserialize)]
        struct Rename {
            from: String,
            to: String,
        }
        #[derive(Deserialize)]
        struct List {
            #[serde(default)]
            path: String,
        }
        #[derive(Deserialize)]
        struct Search {
            pattern: String,
            #[serde(default)]
            path: String,
            #[serde(default)]
            case_insensitive: bool,
        }
        #[derive(Deserialize)]
        struct Dependency {
            name: String,
            #[serde(default)]
            version: String,
            #[serde(default)]
            dev: bool,
        }
        #[derive(Deserialize)]
        struct Terminal {
            command: String,
            timeout_secs: Option<u64>,
        }
        #[derive(Deserialize)]
        struct Paths {
            paths: Vec<String>,
        }
        #[derive(Deserialize)]
        struct Summary {
            #[serde(default)]
            summary: String,
        }
        Ok(match name {
            "create_file" => {
                let a: PathContent = take(name, args)?;
                Self::CreateFile {
                    path: a.path,
                    content: a.content,
                }
            }
            "update_file_sections" => {
                let a: Sections = take(name, args)?;
                Self::UpdateFileSections {
                    path: a.path,
                    sections: a
                        .sections
                        .into_iter()
                        .map(|s| (s.search, s.replace))
                        .collect(),
                }
            }
            "full_file_rewrite" => {
                let a: PathContent = take(name, args)?;
                Self::FullFileRewrite {
                    path: a.path,
                    content: a.content,
                }
            }
            "delete_file" => Self::DeleteFile {
                path: take::<PathOnly>(name, args)?.path,
            },
            "rename_file" => {
                let a: Rename = take(name, args)?;
                Self::RenameFile {
                    from: a.from,
                    to: a.to,
                }
            }
            "read_file" => Self::ReadFile {
                path: take::<PathOnly>(name, args)?.path,
            },
            "list_files" => Self::ListFiles {
                path: take::<List>(name, args)?.path,
            },
            "search_files" => {
                let a: Search = take(name, args)?;
                Self::SearchFiles {
                    pattern: a.pattern,
                    path: a.path,
                    case_insensitive: a.case_insensitive,
                }
            }
            "add_dependency" => {
                let a: Dependency = take(name, args)?;
                Self::AddDependency {
                    name: a.name,
                    version: a.version,
                    dev: a.dev,
                }
            }
            "send_terminal_command" => {
                let a: Terminal = take(name, args)?;
                Self::SendTerminalCommand {
                    command: a.command,
                    timeout_secs: a.timeout_secs,
                }
            }
            "check_for_errors" => Self::CheckForErrors,
            "open_files_in_editor" => Self::OpenFilesInEditor {
                paths: take::<Paths>(name, args)?.paths,
            },
            "close_files_in_editor" => Self::CloseFilesInEditor {
                paths: take::<Paths>(name, args)?.paths,
            },
            "finish" => Self::Finish {
                summary: take::<Summary>(name, args)?.summary,
            },
            other => {
                return Err(AgentError::Invalid(format!(
                    "there is no tool {other:?}; the tools are: {}",
                    NAMES.join(", ")
                )))
            }
        })
    }

    /// Runs a file tool on the turn's working tree; other tools go back to the caller.
    pub fn run(self, wt: &mut Worktree) -> Result<Outcome, AgentError> {
        let done = Outcome::Done;
        match self {
            Self::CreateFile { path, content } => wt.create_file(&path, &content).map(done),
            Self::UpdateFileSections { path, sections } => {
                let sections: Vec<Section> = sections
                    .into_iter()
                    .map(|(search, replace)| Section { search, replace })
                    .collect();
                wt.update_file_sections(&path, &sections).map(done)
            }
            Self::FullFileRewrite { path, content } => {
                wt.full_file_rewrite(&path, &content).map(done)
            }
            Self::DeleteFile { path } => wt.delete_file(&path).map(done),
            Self::RenameFile { from, to } => wt.rename_file(&from, &to).map(done),
            Self::ReadFile { path } => wt.read_file(&path).map(done),
            Self::ListFiles { path } => wt.list_files(&path).map(|l| done(l.join("\n"))),
            Self::SearchFiles {
                pattern,
                path,
                case_insensitive,
            } => wt
                .search_files(&pattern, &path, case_insensitive)
                .map(|hits| {
                    done(if hits.is_empty() {
                        "no matches".into()
                    } else {
                        hits.iter()
                            .map(|h| format!("{}:{}: {}", h.path, h.line, h.text))
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                }),
            Self::AddDependency { name, version, dev } => {
                wt.add_dependency(&name, &version, dev).map(done)
            }
            call @ (Self::SendTerminalCommand { .. } | Self::CheckForErrors) => {
                Ok(Outcome::Sandbox(call))
            }
            call @ (Self::OpenFilesInEditor { .. } | Self::CloseFilesInEditor { .. }) => {
                Ok(Outcome::Editor(call))
            }
            Self::Finish { summary } => Ok(Outcome::Finish(summary)),
        }
    }
}

pub const NAMES: &[&str] = &[
    "create_file",
    "update_file_sections",
    "full_file_rewrite",
    "delete_file",
    "rename_file",
    "read_file",
    "list_files",
    "search_files",
    "add_dependency",
    "send_terminal_command",
    "check_for_errors",
    "open_files_in_editor",
    "close_files_in_editor",
    "finish",
];

/// The tools in OpenAI's `tools` format (also what the local worker turns into a grammar).
pub fn definitions() -> Vec<Value> {
    let path = json!({"type": "string", "description": "path relative to the project root, e.g. src/App.tsx"});
    let tool = |name: &str, description: &str, properties: Value, required: &[&str]| {
        json!({"type": "function", "function": {"name": name, "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required, "additionalProperties": false}}})
    };
    vec![
        tool("create_file", "Create a new file with the given content.", json!({"path": path, "content": {"type": "string"}}), &["path", "content"]),
        tool(
            "update_file_sections",
            "Change parts of a file: each block's search text must occur exactly once and is replaced.",
            json!({"path": path, "sections": {"type": "array", "items": {"type": "object",
                "properties": {"search": {"type": "string"}, "replace": {"type": "string"}}, "required": ["search", "replace"], "additionalProperties": false}}}),
            &["path", "sections"],
        ),
        tool("full_file_rewrite", "Replace a file's whole content (or create it).", json!({"path": path, "content": {"type": "string"}}), &["path", "content"]),
        tool("delete_file", "Delete a file.", json!({"path": path}), &["path"]),
        tool("rename_file", "Rename or move a file.", json!({"from": path, "to": path}), &["from", "to"]),
        tool("read_file", "Read a file.", json!({"path": path}), &["path"]),
        tool("list_files", "List the project's files under a folder (the root when empty).", json!({"path": {"type": "string"}}), &[]),
        tool(
            "search_files",
            "Find lines matching a regular expression across the project.",
            json!({"pattern": {"type": "string"}, "path": {"type": "string"}, "case_insensitive": {"type": "boolean"}}),
            &["pattern"],
        ),
        tool(
            "add_dependency",
            "Add an npm package to package.json.",
            json!({"name": {"type": "string"}, "version": {"type": "string"}, "dev": {"type": "boolean"}}),
            &["name"],
        ),
        tool(
            "send_terminal_command",
            "Run one shell command line in the project's sandbox (allowed programs only).",
            json!({"command": {"type": "string"}, "timeout_secs": {"type": "integer"}}),
            &["command"],
        ),
        tool("check_for_errors", "Build, lint and type-check the project; returns the errors with file and line.", json!({}), &[]),
        tool("open_files_in_editor", "Show files to the user in the editor.", json!({"paths": {"type": "array", "items": path}}), &["paths"]),
        tool("close_files_in_editor", "Close files in the user's editor.", json!({"paths": {"type": "array", "items": path}}), &["paths"]),
        tool("finish", "Say that your work is done, with a short summary for the user.", json!({"summary": {"type": "string"}}), &["summary"]),
    ]
}

/// Left out of the compact prompt for small contexts: each costs prompt
/// tokens on every call, and a role can do its work without them
/// (rename = create + delete, list_files and read_file find things, the
/// editor tools only show files). The terminal stays: the Tester's brief
/// runs `npm test` with it.
pub const NOT_IN_COMPACT: &[&str] = &[
    "rename_file",
    "search_files",
    "open_files_in_editor",
    "close_files_in_editor",
];

/// Of `names`, the tools the project can use: add_dependency only where
/// there is a package.json (the static template has none); fewer when
/// `compact` (see `NOT_IN_COMPACT`).
pub fn offered(names: &[&'static str], wt: &Worktree, compact: bool) -> Vec<&'static str> {
    names
        .iter()
        .copied()
        .filter(|t| *t != "add_dependency" || wt.has_package_json())
        .filter(|t| !compact || !NOT_IN_COMPACT.contains(t))
        .collect()
}

/// The definitions of the tools named in `names`, in `NAMES` order.
pub fn definitions_of(names: &[&str]) -> Vec<Value> {
    definitions()
        .into_iter()
        .filter(|d| {
            d["function"]["name"]
                .as_str()
                .is_some_and(|n| names.contains(&n))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::files::Limits;

    #[test]
    fn every_tool_has_a_definition_and_parses() {
        let defs = definitions();
        let names: Vec<&str> = defs
            .iter()
            .map(|d| d["function"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, NAMES);
        for d in &defs {
            // Closed objects: the local model's grammar allows no other keys.
            let params = &d["function"]["parameters"];
            assert_eq!(
                (
                    params["type"].as_str(),
                    params["additionalProperties"].as_bool()
                ),
                (Some("object"), Some(false))
            );
        }
        assert_eq!(
            ToolCall::parse("check_for_errors", "").unwrap(),
            ToolCall::CheckForErrors
        );
        assert_eq!(
            ToolCall::parse("rename_file", r#"{"from": "a.js", "to": "b.js"}"#).unwrap(),
            ToolCall::RenameFile {
                from: "a.js".into(),
                to: "b.js".into()
            }
        );
    }

    #[test]
    fn malformed_calls_get_errors_the_model_can_act_on() {
        let e = ToolCall::parse("create_file", r#"{"path": "a.js", "content": "x""#).unwrap_err();
        assert!(e.to_string().contains("not valid JSON"), "{e}");
        let e = ToolCall::parse("create_file", r#"{"path": "a.js"}"#).unwrap_err();
        assert!(e.to_string().contains("missing field `content`"), "{e}");
        let e = ToolCall::parse("make_coffee", "{}").unwrap_err();
        assert!(
            e.to_string().contains("create_file"),
            "lists the real tools: {e}"
        );
        assert!(ToolCall::parse("read_file", "[1]").is_err());
    }

    #[test]
    fn file_tools_run_and_the_rest_go_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut wt = Worktree::new(dir.path().to_path_buf(), Limits::default());
        let out = ToolCall::parse(
            "create_file",
            r#"{"path": "index.html", "content": "<h1>Hi</h1>"}"#,
        )
        .unwrap()
        .run(&mut wt)
        .unwrap();
        assert_eq!(out, Outcome::Done("created index.html (11 bytes)".into()));
        let out = ToolCall::parse("list_files", "{}")
            .unwrap()
            .run(&mut wt)
            .unwrap();
        assert_eq!(out, Outcome::Done("index.html".into()));
        assert!(matches!(
            ToolCall::CheckForErrors.run(&mut wt).unwrap(),
            Outcome::Sandbox(_)
        ));
        assert!(matches!(
            ToolCall::parse("open_files_in_editor", r#"{"paths": ["index.html"]}"#)
                .unwrap()
                .run(&mut wt)
                .unwrap(),
            Outcome::Editor(_)
        ));
        let escape = ToolCall::parse("create_file", r#"{"path": "../x", "content": ""}"#)
            .unwrap()
            .run(&mut wt);
        assert!(matches!(escape, Err(AgentError::Path(_))));
    }
}
