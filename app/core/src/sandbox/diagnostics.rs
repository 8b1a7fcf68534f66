//! Turns tool output (TypeScript, `node --check`, bundlers, dev-server logs)
//! into `{file, line, column, severity, message, source}` records.

use super::manifest::Parser;
pub use autocrea_wire::sandbox::Diagnostic;
use regex::Regex;
use std::sync::OnceLock;

/// Where the project is mounted in the sandbox; tools print paths under it.
pub const WORKSPACE: &str = "/workspace";

/// A path as the project knows it: relative to the project root, no `./`.
pub fn project_path(path: &str) -> String {
    let p = path.trim();
    let p = p.strip_prefix(WORKSPACE).unwrap_or(p);
    p.trim_start_matches("./")
        .trim_start_matches('/')
        .to_string()
}

pub fn parse(parser: Parser, output: &str, source: &str) -> Vec<Diagnostic> {
    match parser {
        Parser::Tsc => parse_tsc(output, source),
        Parser::Node => parse_node(output, source),
        Parser::Generic => parse_generic(output, source),
    }
}

/// `src/App.tsx(3,5): error TS1005: ';' expected.` (tsc --pretty false).
fn parse_tsc(output: &str, source: &str) -> Vec<Diagnostic> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"^(.+?)\((\d+),(\d+)\): (error|warning) (TS\d+): (.*)$").expect("valid regex")
    });
    output
        .lines()
        .filter_map(|l| re.captures(l.trim_end()))
        .map(|c| Diagnostic {
            file: Some(project_path(&c[1])),
            line: c[2].parse().ok(),
            column: c[3].parse().ok(),
            severity: c[4].to_string(),
            message: format!("{} ({})", &c[6], &c[5]),
            source: source.to_string(),
        })
        .collect()
}

/// `node --check`: a `path:line` line, the source line, a caret under the
/// column, a blank line, then `SyntaxError: message`.
fn parse_node(output: &str, source: &str) -> Vec<Diagnostic> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"^(/\S+|\./\S+):(\d+)$").expect("valid regex"));
    let lines: Vec<&str> = output.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(c) = re.captures(l.trim_end()) else {
            continue;
        };
        let column = lines
            .get(i + 2)
            .and_then(|caret| caret.find('^'))
            .map(|at| at as u32 + 1);
        let message = lines[i + 1..]
            .iter()
            .take(6)
            .find(|m| m.contains("Error:"))
            .map(|m| m.trim().to_string())
            .unwrap_or_else(|| "syntax error".into());
        out.push(Diagnostic {
            file: Some(project_path(&c[1])),
            line: c[2].parse().ok(),
            column,
            severity: "error".into(),
            message,
            source: source.to_string(),
        });
    }
    out
}

/// Any `file.ext:line[:column]` reference on a line that is, or follows, an
/// error line: esbuild, Rollup/Vite, Next.js and most linters print them so.
/// A stack trace (`    at f (file:line:col)` lines) belongs to the error
/// above it: one diagnostic, placed at the error's own reference or else at
/// the trace's first frame in the project's code (not node_modules).
fn parse_generic(output: &str, source: &str) -> Vec<Diagnostic> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"((?:/workspace/|\./)?(?:[\w.@-]+/)*[\w.@-]+\.(?:js|jsx|mjs|cjs|ts|tsx|mts|css|scss|html|json|vue|svelte)):(\d+)(?::(\d+))?",
        )
        .expect("valid regex")
    });
    let lines: Vec<&str> = output.lines().collect();
    let mut out: Vec<Diagnostic> = Vec::new();
    // The error line whose stack trace is being read, and whether it has its diagnostic yet.
    let mut trace: Option<(&str, bool)> = None;
    for (i, l) in lines.iter().enumerate() {
        if is_stack_frame(l) {
            if let Some((error_line, placed)) = trace.as_mut() {
                if !*placed {
                    let frame = re.captures(l).filter(|c| !c[1].contains("node_modules/"));
                    if let Some(c) = frame {
                        push_new(&mut out, located(&c, error_line.trim(), error_line, source));
                        *placed = true;
                    }
                }
                continue;
            }
        } else if is_error_line(l) {
            trace = Some((l, false));
        } else if !l.trim().is_empty() {
            trace = None;
        }
        let Some(c) = re.captures(l) else { continue };
        let window = &lines[i.saturating_sub(3)..=i];
        let Some(error_line) = window.iter().rev().find(|w| is_error_line(w)) else {
            continue;
        };
        let after = l[c.get(0).map_or(0, |m| m.end())..]
            .trim_start_matches([':', ']', ' '])
            .trim_start_matches("ERROR:")
            .trim_start_matches("error:")
            .trim();
        let message = if after.len() > 3 {
            after
        } else {
            error_line.trim()
        };
        push_new(&mut out, located(&c, message, error_line, source));
        if let Some((_, placed)) = trace.as_mut() {
            *placed = true;
        }
    }
    out
}

/// A diagnostic at the reference `c` matched.
fn located(c: &regex::Captures, message: &str, error_line: &str, source: &str) -> Diagnostic {
    Diagnostic {
        file: Some(project_path(&c[1])),
        line: c[2].parse().ok(),
        column: c.get(3).and_then(|m| m.as_str().parse().ok()),
        severity: if is_warning(error_line) {
            "warning"
        } else {
            "error"
        }
        .into(),
        message: strip_ansi(message),
        source: source.to_string(),
    }
}

/// Adds `d` unless a diagnostic at the same place is there already.
fn push_new(out: &mut Vec<Diagnostic>, d: Diagnostic) {
    if !out.iter().any(|o| o.file == d.file && o.line == d.line) {
        out.push(d);
    }
}

/// A line of a JavaScript stack trace: `    at f (file:1:2)` or `    at file:1:2`.
fn is_stack_frame(l: &str) -> bool {
    let t = l.trim_start();
    t.len() < l.len() && t.starts_with("at ")
}

fn is_error_line(l: &str) -> bool {
    let lower = l.to_ascii_lowercase();
    lower.contains("error") || lower.contains("failed") || is_warning(l)
}

fn is_warning(l: &str) -> bool {
    l.to_ascii_lowercase().contains("warning") && !l.to_ascii_lowercase().contains("error")
}

/// Terminal colour codes out of tool output.
pub fn strip_ansi(s: &str) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]").expect("valid regex"))
        .replace_all(s, "")
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsc_lines() {
        let out = "src/App.tsx(3,15): error TS1005: ';' expected.\nsomething else\n";
        let d = parse(Parser::Tsc, out, "tsc");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].file.as_deref(), Some("src/App.tsx"));
        assert_eq!((d[0].line, d[0].column), (Some(3), Some(15)));
        assert_eq!(d[0].message, "';' expected. (TS1005)");
    }

    #[test]
    fn node_check() {
        let out = "/workspace/app.js:4\n  const x = ;\n            ^\n\nSyntaxError: Unexpected token ';'\n    at internalCompileFunction\n";
        let d = parse(Parser::Node, out, "javascript");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].file.as_deref(), Some("app.js"));
        assert_eq!((d[0].line, d[0].column), (Some(4), Some(13)));
        assert_eq!(d[0].message, "SyntaxError: Unexpected token ';'");
    }

    #[test]
    fn esbuild_through_vite() {
        let out = "error during build:\n[vite:esbuild] Transform failed with 1 error:\n/workspace/src/App.tsx:3:9: ERROR: Expected \";\" but found \"x\"\n";
        let d = parse(Parser::Generic, out, "vite build");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].file.as_deref(), Some("src/App.tsx"));
        assert_eq!((d[0].line, d[0].column), (Some(3), Some(9)));
        assert_eq!(d[0].message, "Expected \";\" but found \"x\"");
    }

    #[test]
    fn a_stack_trace_is_one_error_at_its_first_project_frame() {
        let out = "TypeError: Cannot read properties of undefined (reading 'map')\n    at renderList (file:///workspace/node_modules/lib/index.js:10:5)\n    at App (/workspace/src/App.jsx:7:19)\n    at renderWithHooks (/workspace/node_modules/react-dom/cjs/react-dom.development.js:15486:18)\n    at mountIndeterminateComponent (/workspace/node_modules/react-dom/cjs/react-dom.development.js:20103:13)\n    at /workspace/src/main.jsx:4:1\nserver listening\n";
        let d = parse(Parser::Generic, out, "dev-server");
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].file.as_deref(), Some("src/App.jsx"));
        assert_eq!((d[0].line, d[0].column), (Some(7), Some(19)));
        assert_eq!(
            d[0].message,
            "TypeError: Cannot read properties of undefined (reading 'map')"
        );
    }

    #[test]
    fn an_error_that_names_its_place_keeps_it_and_its_trace_adds_nothing() {
        let out = "/workspace/server.js:3\nError: boom in server.js:3:9\n    at Object.<anonymous> (/workspace/server.js:3:9)\n    at helper (/workspace/lib/util.js:12:3)\n\nerror: second failure at /workspace/lib/db.js:8:1\n";
        let d = parse(Parser::Generic, out, "dev-server");
        let places: Vec<_> = d
            .iter()
            .map(|d| (d.file.as_deref().unwrap_or(""), d.line))
            .collect();
        assert_eq!(places, [("server.js", Some(3)), ("lib/db.js", Some(8))]);
    }

    #[test]
    fn paths_without_errors_are_not_diagnostics() {
        let out = "vite v5.4.21 building for production...\ntransforming src/main.tsx:1\n";
        assert!(parse(Parser::Generic, out, "vite").is_empty());
    }
}
