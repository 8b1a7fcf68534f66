//! A turn's roles, one after another on the same working tree. Quick mode
//! is the Developer alone; the full pipeline is Architect (a plan the user
//! approves or edits) -> Developer -> DevOps -> Tester -> Security Auditor.
//! Each role is one `runner::run` with its own tools and brief and a fresh
//! conversation that carries the request, the plan and what the roles
//! before it did. The caller's `Hooks` approve plans, keep step reports and
//! give the turn's diff; the whole turn still ends as one commit or none.

use super::budget;
use super::context;
use super::errors::DiffError;
use super::files::Worktree;
use super::runner::{self, ChatMsg, Ending, Event, Model, RoleSpec, SandboxTools, Settings};
use super::security::{self, Finding};
use super::textcalls;
use super::tools::{definitions_of, offered, NAMES};
use autocrea_wire::agent::StepStatus;
use serde::Serialize;
use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

pub const ARCHITECT: RoleSpec = RoleSpec {
    name: "Architect",
    tools: &["list_files", "read_file", "search_files", "finish"],
    brief: "Plan the change before anyone writes code. Read what you need, write nothing. Your answer is \
            the plan in Markdown: the pages or screens, the data, the files to create or change, and \
            numbered steps for the Developer.",
};

pub const DEVELOPER: RoleSpec = RoleSpec {
    name: "Developer",
    tools: NAMES,
    brief:
        "Write the code the request (and the plan, when there is one) asks for. Keep the project's \
            template and structure; make the app work in the preview.",
};

pub const DEVOPS: RoleSpec = RoleSpec {
    name: "DevOps",
    tools: &[
        "list_files", "read_file", "search_files", "add_dependency", "update_file_sections", "full_file_rewrite",
        "create_file", "send_terminal_command", "check_for_errors", "finish",
    ],
    brief: "Make the project's dependencies and run configuration fit the change: every imported package \
            is in package.json, scripts and configuration files are right, the dev server starts. Change \
            only dependency and configuration files. If all is in order, say so and change nothing.",
};

pub const TESTER: RoleSpec = RoleSpec {
    name: "Tester",
    tools: &[
        "list_files", "read_file", "search_files", "create_file", "update_file_sections", "full_file_rewrite",
        "send_terminal_command", "check_for_errors", "finish",
    ],
    brief: "Check the change: run check_for_errors and fix what it finds. If package.json has a test \
            script, add a small smoke test for the change and run it with `npm test`; otherwise write no \
            tests. Report what you checked.",
};

pub const AUDITOR: RoleSpec = RoleSpec {
    name: "Security Auditor",
    tools: &["list_files", "read_file", "search_files", "update_file_sections", "full_file_rewrite", "delete_file", "check_for_errors", "finish"],
    brief: "Review the turn's diff for committed secrets, injection (SQL, shell), XSS (HTML from values, \
            javascript: URLs) and unsafe eval. Fix every high-severity finding with the smallest change \
            (secrets go to environment variables, HTML to textContent or escaping, SQL to parameters). \
            Then report your findings, one line each.",
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Quick,
    Full,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "quick" => Some(Mode::Quick),
            "full" => Some(Mode::Full),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Quick => "quick",
            Mode::Full => "full",
        }
    }

    pub fn roles(self) -> &'static [&'static RoleSpec] {
        match self {
            Mode::Quick => &[&DEVELOPER],
            Mode::Full => &[&ARCHITECT, &DEVELOPER, &DEVOPS, &TESTER, &AUDITOR],
        }
    }
}

/// One role's part of a turn, as the user sees it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StepReport {
    pub position: usize,
    pub role: &'static str,
    /// pending, running, waiting (a plan for approval), done, failed, stopped or skipped
    pub status: StepStatus,
    pub started_at: Option<i64>,
    pub duration_ms: Option<u64>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// The plan, the role's summary, or the audit report.
    pub output: String,
}

/// The user's answer to a plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Approval {
    /// Build this plan (the Architect's, or the user's edit of it).
    Approved(String),
    Rejected(String),
    Stopped,
}

pub trait Hooks {
    fn approve_plan(&mut self, plan: &str) -> impl Future<Output = Approval> + Send;
    /// A step changed (started, waits, ended); keep and show it.
    fn step(&mut self, step: &StepReport) -> impl Future<Output = ()> + Send;
    /// The turn's changes so far as a unified diff.
    fn turn_diff(&mut self) -> impl Future<Output = Result<String, DiffError>> + Send;
}

pub struct TurnInput {
    /// About the project: name, template, summary, recent errors, open files.
    pub project: String,
    /// Earlier turns of the thread (questions and answers).
    pub history: Vec<ChatMsg>,
    pub request: String,
    /// Images attached to the request, for a model that accepts them (the
    /// Architect and the Developer see them).
    pub images: Vec<runner::Image>,
    pub mode: Mode,
    pub settings: Settings,
    /// The model has no native tool calls: describe the text format.
    pub text_tools: bool,
}

#[derive(Debug)]
pub struct TurnRun {
    pub ending: Ending,
    pub steps: Vec<StepReport>,
    /// Every message the roles added, with the role that wrote it.
    pub messages: Vec<(&'static str, ChatMsg)>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub repairs: usize,
    pub plan: Option<String>,
    /// The Developer's summary (the commit message's first line).
    pub summary: Option<String>,
    /// Security findings left after the audit.
    pub findings: Vec<Finding>,
}

impl TurnRun {
    /// A run that ended as `ending` before (or without) any step.
    pub fn ended(ending: Ending) -> Self {
        Self {
            ending,
            steps: Vec::new(),
            messages: Vec::new(),
            prompt_tokens: 0,
            completion_tokens: 0,
            repairs: 0,
            plan: None,
            summary: None,
            findings: Vec::new(),
        }
    }
}

/// Diff text given to the auditor, at most.
const DIFF_MAX: usize = 48 * 1024;

pub async fn run_turn<M: Model, S: SandboxTools, H: Hooks>(
    model: &mut M,
    sandbox: &S,
    wt: &mut Worktree,
    hooks: &mut H,
    input: TurnInput,
    stop: &AtomicBool,
    mut emit: impl FnMut(Event),
) -> TurnRun {
    let roles = input.mode.roles();
    let mut steps: Vec<StepReport> = roles
        .iter()
        .enumerate()
        .map(|(position, r)| StepReport {
            position,
            role: r.name,
            status: StepStatus::Pending,
            started_at: None,
            duration_ms: None,
            prompt_tokens: 0,
            completion_tokens: 0,
            output: String::new(),
        })
        .collect();
    let mut out = TurnRun::ended(Ending::Done {
        remaining_errors: 0,
    });
    let mut handoff = String::new();
    for (i, role) in roles.iter().enumerate() {
        if i > 0 && wt.changed().is_empty() && role.name != DEVELOPER.name {
            // Nothing was written: nothing to configure, test or audit.
            steps[i].status = StepStatus::Skipped;
            steps[i].output = "no files changed in this turn".into();
            hooks.step(&steps[i]).await;
            continue;
        }
        steps[i].status = StepStatus::Running;
        steps[i].started_at = Some(crate::clock::now());
        hooks.step(&steps[i]).await;
        let started = Instant::now();

        let mut findings_before = Vec::new();
        let mut user = format!("The request: {}", input.request);
        if let Some(plan) = &out.plan {
            user.push_str(&format!("\n\nThe approved plan:\n{plan}"));
        }
        if !handoff.is_empty() {
            user.push_str(&format!(
                "\n\nWhat was done so far in this turn:\n{handoff}\nFiles changed: {}",
                wt.changed().join(", ")
            ));
        }
        if role.name == AUDITOR.name {
            let diff = hooks
                .turn_diff()
                .await
                .unwrap_or_else(|e| format!("(the diff could not be made: {e})"));
            findings_before = security::scan_diff(&diff);
            // At most half the prompt's room (about three bytes a token).
            let max = DIFF_MAX.min(input.settings.budget().prompt_limit() / 2 * 3);
            let shown: String = if diff.len() > max {
                format!("{}\n[diff cut at {max} bytes]", cut(&diff, max))
            } else {
                diff
            };
            user.push_str(&format!(
                "\n\nThe turn's diff:\n{shown}\n\nThe scanner found:\n{}",
                security::describe(&findings_before)
            ));
        }
        let mut conversation = vec![ChatMsg::new(
            "system",
            system_prompt(role, &input.project, input.text_tools, &input.settings, wt),
        )];
        if role.name == ARCHITECT.name || role.name == DEVELOPER.name {
            conversation.extend(input.history.iter().cloned());
        }
        let mut request = ChatMsg::new("user", user);
        if role.name == ARCHITECT.name || role.name == DEVELOPER.name {
            request.images = input.images.clone();
        }
        conversation.push(request);

        let run = runner::run(
            model,
            sandbox,
            wt,
            conversation,
            role,
            &input.settings,
            stop,
            &mut emit,
        )
        .await;
        out.prompt_tokens += run.prompt_tokens;
        out.completion_tokens += run.completion_tokens;
        out.repairs += run.repairs;
        out.messages
            .extend(run.messages.into_iter().map(|m| (role.name, m)));
        steps[i].prompt_tokens = run.prompt_tokens;
        steps[i].completion_tokens = run.completion_tokens;
        steps[i].duration_ms = Some(started.elapsed().as_millis() as u64);
        let summary = run.summary.unwrap_or_default();
        steps[i].output = summary.clone();

        let ended_well = matches!(run.ending, Ending::Done { .. });
        steps[i].status = match &run.ending {
            Ending::Done { .. } => StepStatus::Done,
            Ending::Stopped => StepStatus::Stopped,
            _ => StepStatus::Failed,
        };
        if !ended_well {
            if let Ending::Failed(e) = &run.ending {
                steps[i].output = e.clone();
            }
            hooks.step(&steps[i]).await;
            skip_rest(&mut steps, i);
            out.ending = match run.ending {
                Ending::IterationLimit => Ending::Failed(format!(
                    "the {} gave no answer within {} model calls",
                    role.name, input.settings.limits.max_iterations
                )),
                other => other,
            };
            out.steps = steps;
            return out;
        }
        if let Ending::Done { remaining_errors } = run.ending {
            // The latest check is what counts: a later role may have fixed earlier errors.
            out.ending = Ending::Done { remaining_errors };
        }

        if role.name == ARCHITECT.name {
            if summary.trim().is_empty() {
                steps[i].status = StepStatus::Failed;
                steps[i].output = "the Architect gave no plan".into();
                hooks.step(&steps[i]).await;
                skip_rest(&mut steps, i);
                out.ending = Ending::Failed("the Architect gave no plan".into());
                out.steps = steps;
                return out;
            }
            steps[i].status = StepStatus::Waiting;
            hooks.step(&steps[i]).await;
            let approval = hooks.approve_plan(&summary).await;
            match approval {
                Approval::Approved(plan) => {
                    steps[i].status = StepStatus::Done;
                    steps[i].output = plan.clone();
                    out.plan = Some(plan);
                }
                Approval::Rejected(why) => {
                    steps[i].status = StepStatus::Stopped;
                    hooks.step(&steps[i]).await;
                    skip_rest(&mut steps, i);
                    out.steps = steps;
                    let why = if why.is_empty() {
                        "the plan was rejected".to_string()
                    } else {
                        format!("the plan was rejected: {why}")
                    };
                    out.ending = Ending::Failed(why);
                    return out;
                }
                Approval::Stopped => {
                    steps[i].status = StepStatus::Stopped;
                    hooks.step(&steps[i]).await;
                    skip_rest(&mut steps, i);
                    out.ending = Ending::Stopped;
                    out.steps = steps;
                    return out;
                }
            }
        } else {
            if role.name == DEVELOPER.name {
                out.summary = Some(summary.clone()).filter(|s| !s.trim().is_empty());
            }
            if role.name == AUDITOR.name {
                let after = hooks
                    .turn_diff()
                    .await
                    .map(|d| security::scan_diff(&d))
                    .unwrap_or_default();
                steps[i].output = audit_report(&findings_before, &after, &summary);
                out.findings = after;
            }
            if !summary.is_empty() {
                handoff.push_str(&format!(
                    "- {}: {}\n",
                    role.name,
                    summary.lines().next().unwrap_or("")
                ));
            }
        }
        hooks.step(&steps[i]).await;
    }
    out.steps = steps;
    out
}

/// The roles after `i` do not run.
fn skip_rest(steps: &mut [StepReport], i: usize) {
    for later in steps.iter_mut().skip(i + 1) {
        later.status = StepStatus::Skipped;
    }
}

/// Paths listed in the system prompt at most (compact prompt, full prompt);
/// the rest is one line that says `list_files` shows them.
const LISTED_FILES: (usize, usize) = (40, 400);

/// The role's system prompt. For a small context (`Budget::compact`) it is
/// the compact one: a one-line brief of how to act, the file tree cut
/// shorter, the project's brief cut to a share of the prompt's room, fewer
/// tools (the runner offers the same `offered` set).
fn system_prompt(
    role: &RoleSpec,
    project: &str,
    text_tools: bool,
    settings: &Settings,
    wt: &Worktree,
) -> String {
    let budget = settings.budget();
    let compact = budget.compact();
    let files = wt.list_files("").unwrap_or_default();
    let shown = if compact {
        LISTED_FILES.0
    } else {
        LISTED_FILES.1
    };
    let mut tree = files
        .iter()
        .take(shown)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    if files.len() > shown {
        tree.push_str(&format!(
            "\n[and {} more files: list_files shows them]",
            files.len() - shown
        ));
    }
    let how = if compact {
        "Act only by calling tools; paths are relative to the project root. Call finish with a short summary when done."
    } else {
        "You act only by calling tools. Paths are relative to the project root. Read a file before \
         changing parts of it. When your work is done, call finish with a short summary (or answer \
         without calling a tool)."
    };
    // The brief (open files, recent errors) may take a quarter of the prompt's room.
    let project = cut_marked(project.trim(), budget.prompt_limit() / 4 * 3);
    let mut s = format!("You are the {} in AUTOCREA, an app builder. {}\n\n{how}\n\n{project}\n\nThe project's files:\n{tree}", role.name, role.brief);
    if text_tools {
        s.push_str("\n\n");
        s.push_str(&textcalls::instructions(&definitions_of(&offered(
            role.tools, wt, compact,
        ))));
    }
    s
}

/// The smallest prompt any role of `mode` starts with on this project, in
/// estimated tokens: its compact system prompt and tool definitions (the
/// request comes on top). A context that cannot hold it plus a minimal
/// answer is refused before the turn starts (`Budget::check`).
pub fn smallest_prompt(mode: Mode, text_tools: bool, wt: &Worktree) -> usize {
    // A context small enough to be compact, so the compact prompt is measured.
    let settings = Settings {
        context_tokens: 2048,
        ..Default::default()
    };
    mode.roles()
        .iter()
        .map(|role| {
            let system = context::estimate(&system_prompt(role, "", text_tools, &settings, wt));
            let tools = if text_tools {
                0
            } else {
                budget::tools_tokens(&definitions_of(&offered(role.tools, wt, true)))
            };
            system + tools
        })
        .max()
        .unwrap_or(0)
}

/// `smallest_prompt` of the full pipeline on a project without files: what
/// a model's context is measured against before any project exists.
pub fn smallest_prompt_anywhere(text_tools: bool) -> usize {
    let nowhere = Worktree::new(
        std::path::PathBuf::from("/nonexistent/autocrea-empty-project"),
        super::files::Limits::default(),
    );
    smallest_prompt(Mode::Full, text_tools, &nowhere)
}

/// `text` cut to at most `max` bytes (at a character boundary), saying so.
fn cut_marked(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    format!("{}\n[cut here to fit the model's context]", cut(text, max))
}

fn audit_report(before: &[Finding], after: &[Finding], summary: &str) -> String {
    let high = |f: &[Finding]| f.iter().filter(|f| f.severity == "high").count();
    let mut r = format!(
        "The scanner found {} finding(s) ({} high) in the turn's changes; {} remain ({} high).",
        before.len(),
        high(before),
        after.len(),
        high(after)
    );
    if !after.is_empty() {
        r.push_str(&format!("\n{}", security::describe(after)));
    }
    if !summary.trim().is_empty() {
        r.push_str(&format!("\n\nThe auditor's review:\n{}", summary.trim()));
    }
    r
}

fn cut(s: &str, max: usize) -> &str {
    crate::text::prefix(s, max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::files::Limits as FileLimits;
    use crate::agent::runner::{Call, ModelError, Reply, ToolError};
    use crate::sandbox::Diagnostic;
    use std::collections::VecDeque;

    const READ: &[&str] = &["list_files", "read_file", "search_files"];

    /// Answers by role: each role's script is played in order; every prompt is kept.
    struct ByRole {
        scripts: Vec<(&'static str, VecDeque<Reply>)>,
        seen: Vec<(String, Vec<ChatMsg>)>,
    }

    impl Model for ByRole {
        async fn reply(
            &mut self,
            messages: &[ChatMsg],
            _tools: &[serde_json::Value],
            _max_tokens: usize,
        ) -> Result<Reply, ModelError> {
            let system = &messages[0].content;
            let (role, script) = self
                .scripts
                .iter_mut()
                .find(|(r, _)| system.starts_with(&format!("You are the {r} ")))
                .ok_or_else(|| ModelError::Broken("no script for this role".into()))?;
            self.seen.push((role.to_string(), messages.to_vec()));
            script
                .pop_front()
                .ok_or_else(|| ModelError::Broken(format!("the {role} script ran out")))
        }
    }

    struct NoSandbox;
    impl SandboxTools for NoSandbox {
        async fn exec(&self, _c: &str, _t: Option<u64>) -> Result<String, ToolError> {
            Ok("exit code 0".into())
        }
        async fn check(&self) -> Result<Vec<Diagnostic>, ToolError> {
            Ok(Vec::new())
        }
    }

    /// Approves with an edit; the diff is every file the turn wrote, as added lines.
    struct TestHooks {
        answer: Approval,
        root: std::path::PathBuf,
        steps: Vec<StepReport>,
        plans: Vec<String>,
    }

    impl Hooks for TestHooks {
        async fn approve_plan(&mut self, plan: &str) -> Approval {
            self.plans.push(plan.to_string());
            self.answer.clone()
        }
        async fn step(&mut self, step: &StepReport) {
            self.steps.push(step.clone());
        }
        async fn turn_diff(&mut self) -> Result<String, DiffError> {
            let mut d = String::new();
            for name in ["app.js", "index.html"] {
                if let Ok(text) = std::fs::read_to_string(self.root.join(name)) {
                    d.push_str(&format!(
                        "--- /dev/null\n+++ b/{name}\n@@ -0,0 +1,{} @@\n",
                        text.lines().count()
                    ));
                    for l in text.lines() {
                        d.push_str(&format!("+{l}\n"));
                    }
                }
            }
            Ok(d)
        }
    }

    fn call(id: &str, name: &str, args: serde_json::Value) -> Reply {
        Reply {
            calls: vec![Call {
                id: id.into(),
                name: name.into(),
                arguments: args.to_string(),
            }],
            prompt_tokens: 10,
            completion_tokens: 2,
            ..Default::default()
        }
    }

    fn say(text: &str) -> Reply {
        Reply {
            text: text.into(),
            prompt_tokens: 10,
            completion_tokens: 3,
            ..Default::default()
        }
    }

    fn input(mode: Mode) -> TurnInput {
        TurnInput {
            project: "Project \"Shop\" (template static).".into(),
            history: Vec::new(),
            request: "Add a greeting".into(),
            images: Vec::new(),
            mode,
            settings: Settings::default(),
            text_tools: false,
        }
    }

    #[tokio::test]
    async fn the_full_pipeline_runs_each_role_with_the_approved_plan() {
        let dir = tempfile::tempdir().unwrap();
        let mut wt = Worktree::new(dir.path().to_path_buf(), FileLimits::default());
        let mut model = ByRole {
            scripts: vec![
                ("Architect", vec![call("a1", "list_files", serde_json::json!({})), say("1. Write app.js with a greeting")].into()),
                (
                    "Developer",
                    vec![
                        call("d1", "create_file", serde_json::json!({"path": "app.js", "content": "document.body.innerHTML = location.hash;\neval(location.hash);\n"})),
                        say("Greeting added"),
                    ]
                    .into(),
                ),
                ("DevOps", vec![say("No dependencies needed")].into()),
                ("Tester", vec![call("t1", "check_for_errors", serde_json::json!({})), say("Checks pass")].into()),
                (
                    "Security Auditor",
                    vec![
                        call("s1", "full_file_rewrite", serde_json::json!({"path": "app.js", "content": "document.body.textContent = location.hash;\n"})),
                        say("Removed eval and innerHTML"),
                    ]
                    .into(),
                ),
            ],
            seen: Vec::new(),
        };
        let mut hooks = TestHooks {
            answer: Approval::Approved("1. Write app.js (edited by the user)".into()),
            root: dir.path().into(),
            steps: Vec::new(),
            plans: Vec::new(),
        };
        let run = run_turn(
            &mut model,
            &NoSandbox,
            &mut wt,
            &mut hooks,
            input(Mode::Full),
            &AtomicBool::new(false),
            |_| {},
        )
        .await;

        assert_eq!(
            run.ending,
            Ending::Done {
                remaining_errors: 0
            }
        );
        let order: Vec<&str> = model
            .seen
            .iter()
            .map(|(r, _)| r.as_str())
            .collect::<Vec<_>>()
            .into_iter()
            .fold(Vec::new(), |mut v, r| {
                if v.last() != Some(&r) {
                    v.push(r)
                }
                v
            });
        assert_eq!(
            order,
            [
                "Architect",
                "Developer",
                "DevOps",
                "Tester",
                "Security Auditor"
            ]
        );
        assert_eq!(hooks.plans, ["1. Write app.js with a greeting"]);
        let developer_prompt = &model.seen.iter().find(|(r, _)| r == "Developer").unwrap().1;
        assert!(
            developer_prompt
                .last()
                .unwrap()
                .content
                .contains("edited by the user"),
            "the Developer builds the approved plan"
        );
        let auditor_prompt = &model
            .seen
            .iter()
            .find(|(r, _)| r == "Security Auditor")
            .unwrap()
            .1
            .last()
            .unwrap()
            .content;
        assert!(
            auditor_prompt.contains("[high] app.js:2") && auditor_prompt.contains("xss-html"),
            "{auditor_prompt}"
        );
        assert!(auditor_prompt.contains("- Developer: Greeting added"));

        let statuses: Vec<(&str, &str)> = run
            .steps
            .iter()
            .map(|s| (s.role, s.status.as_str()))
            .collect();
        assert_eq!(
            statuses,
            [
                ("Architect", "done"),
                ("Developer", "done"),
                ("DevOps", "done"),
                ("Tester", "done"),
                ("Security Auditor", "done")
            ]
        );
        assert_eq!(run.steps[1].prompt_tokens, 20);
        assert!(
            run.steps[4].output.contains("found 2 finding(s) (1 high)")
                && run.steps[4].output.contains("0 remain"),
            "{}",
            run.steps[4].output
        );
        assert!(run.findings.is_empty());
        assert!(
            hooks
                .steps
                .iter()
                .any(|s| s.role == "Architect" && s.status == StepStatus::Waiting),
            "the plan waited for approval"
        );
        assert_eq!(run.summary.as_deref(), Some("Greeting added"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("app.js")).unwrap(),
            "document.body.textContent = location.hash;\n"
        );
        assert_eq!((run.prompt_tokens, run.completion_tokens), (90, 23));
    }

    #[tokio::test]
    async fn a_rejected_plan_builds_nothing_and_an_idle_turn_skips_the_later_roles() {
        let dir = tempfile::tempdir().unwrap();
        let mut wt = Worktree::new(dir.path().to_path_buf(), FileLimits::default());
        let mut model = ByRole {
            scripts: vec![("Architect", vec![say("1. Rewrite everything")].into())],
            seen: Vec::new(),
        };
        let mut hooks = TestHooks {
            answer: Approval::Rejected("too much".into()),
            root: dir.path().into(),
            steps: Vec::new(),
            plans: Vec::new(),
        };
        let run = run_turn(
            &mut model,
            &NoSandbox,
            &mut wt,
            &mut hooks,
            input(Mode::Full),
            &AtomicBool::new(false),
            |_| {},
        )
        .await;
        assert_eq!(
            run.ending,
            Ending::Failed("the plan was rejected: too much".into())
        );
        assert_eq!(
            run.steps
                .iter()
                .map(|s| s.status.as_str())
                .collect::<Vec<_>>(),
            ["stopped", "skipped", "skipped", "skipped", "skipped"]
        );

        let mut model = ByRole {
            scripts: vec![
                ("Architect", vec![say("1. Nothing to change")].into()),
                ("Developer", vec![say("It already greets")].into()),
            ],
            seen: Vec::new(),
        };
        let mut hooks = TestHooks {
            answer: Approval::Approved("1. Nothing to change".into()),
            root: dir.path().into(),
            steps: Vec::new(),
            plans: Vec::new(),
        };
        let run = run_turn(
            &mut model,
            &NoSandbox,
            &mut wt,
            &mut hooks,
            input(Mode::Full),
            &AtomicBool::new(false),
            |_| {},
        )
        .await;
        assert_eq!(
            run.ending,
            Ending::Done {
                remaining_errors: 0
            }
        );
        assert_eq!(
            run.steps
                .iter()
                .map(|s| s.status.as_str())
                .collect::<Vec<_>>(),
            ["done", "done", "skipped", "skipped", "skipped"]
        );

        // Quick mode: the Developer alone, no plan asked for.
        let mut model = ByRole {
            scripts: vec![("Developer", vec![say("Done")].into())],
            seen: Vec::new(),
        };
        let mut hooks = TestHooks {
            answer: Approval::Stopped,
            root: dir.path().into(),
            steps: Vec::new(),
            plans: Vec::new(),
        };
        let run = run_turn(
            &mut model,
            &NoSandbox,
            &mut wt,
            &mut hooks,
            input(Mode::Quick),
            &AtomicBool::new(false),
            |_| {},
        )
        .await;
        assert_eq!((run.steps.len(), hooks.plans.len()), (1, 0));
    }

    #[test]
    fn only_the_developer_has_every_tool_and_all_roles_can_read() {
        for role in Mode::Full.roles() {
            assert!(
                READ.iter().all(|t| role.tools.contains(t)),
                "{} reads",
                role.name
            );
            assert!(
                role.tools.iter().all(|t| NAMES.contains(t)),
                "{} names real tools",
                role.name
            );
        }
        assert!(!ARCHITECT.tools.iter().any(|t| t.contains("file")
            && *t != "read_file"
            && *t != "list_files"
            && *t != "search_files"));
    }
}
