//! The Security Auditor's first pass: rules over the lines a turn added
//! (secrets, injection, XSS, unsafe eval). The findings go to the auditor
//! model, which fixes the serious ones; the scan runs again afterwards, so
//! the report says what is left whatever the model did.

use regex::Regex;
use serde::Serialize;
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Finding {
    pub path: String,
    /// Line in the new version of the file.
    pub line: usize,
    /// high (must be fixed) or medium (reported).
    pub severity: &'static str,
    pub rule: &'static str,
    pub message: &'static str,
    /// The line, cut to 160 characters, secrets masked.
    pub excerpt: String,
}

struct Rule {
    id: &'static str,
    severity: &'static str,
    message: &'static str,
    pattern: &'static str,
    secret: bool,
}

const RULES: &[Rule] = &[
    Rule {
        id: "private-key",
        severity: "high",
        secret: true,
        message: "a private key is committed",
        pattern: r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    },
    Rule {
        id: "cloud-key",
        severity: "high",
        secret: true,
        message: "a cloud or API access key is committed",
        pattern: r"\b(AKIA[0-9A-Z]{16}|sk-[A-Za-z0-9_-]{20,}|ghp_[A-Za-z0-9]{36}|xox[bp]-[A-Za-z0-9-]{10,}|sk_live_[A-Za-z0-9]{16,})",
    },
    Rule {
        id: "hardcoded-secret",
        severity: "high",
        secret: true,
        message: "a password, secret or token is written in the code",
        pattern: r#"(?i)\b(password|passwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token)\b\s*[:=]\s*["'][^"'\s]{8,}["']"#,
    },
    Rule {
        id: "eval",
        severity: "high",
        secret: false,
        message: "eval or new Function runs text as code",
        pattern: r"\beval\s*\(|\bnew\s+Function\s*\(|\bset(Timeout|Interval)\s*\(\s*[`'\x22]",
    },
    Rule {
        id: "sql-injection",
        severity: "high",
        secret: false,
        message: "SQL built from strings; use parameters",
        pattern: r#"(?i)\b(select\s.+\sfrom|insert\s+into|update\s+\w+\s+set|delete\s+from)\b[^;]*(["'`]\s*\+|\$\{)"#,
    },
    Rule {
        id: "command-injection",
        severity: "high",
        secret: false,
        message: "a shell command built from strings",
        pattern: r"\b(exec|execSync|spawn)\s*\(\s*(`[^`]*\$\{|[^,)]*\+)",
    },
    Rule {
        id: "xss-html",
        severity: "medium",
        secret: false,
        message: "HTML set from a value; escape it or use textContent",
        pattern: r"\.(innerHTML|outerHTML)\s*\+?=|\binsertAdjacentHTML\s*\(|\bdocument\.write(ln)?\s*\(|dangerouslySetInnerHTML",
    },
    Rule {
        id: "javascript-url",
        severity: "medium",
        secret: false,
        message: "a javascript: URL",
        pattern: r#"(?i)(href|src)\s*=\s*["'{]\s*javascript:"#,
    },
];

fn compiled() -> &'static [(Regex, &'static Rule)] {
    static C: OnceLock<Vec<(Regex, &'static Rule)>> = OnceLock::new();
    C.get_or_init(|| {
        RULES
            .iter()
            .map(|r| (Regex::new(r.pattern).expect("rule compiles"), r))
            .collect()
    })
}

/// Findings on the lines a unified diff (`git diff`) adds.
pub fn scan_diff(diff: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let (mut path, mut line) = (String::new(), 0usize);
    for l in diff.lines() {
        if let Some(p) = l.strip_prefix("+++ ") {
            path = p.trim_start_matches("b/").to_string();
            continue;
        }
        if l.starts_with("--- ") || l.starts_with("diff ") || l.starts_with("index ") {
            continue;
        }
        if let Some(h) = l.strip_prefix("@@ ") {
            // @@ -a,b +c,d @@: the new file's lines start at c.
            line = h
                .split_whitespace()
                .find_map(|p| p.strip_prefix('+'))
                .and_then(|p| p.split(',').next()?.parse().ok())
                .unwrap_or(1);
            continue;
        }
        if let Some(added) = l.strip_prefix('+') {
            findings.extend(scan_line(&path, line, added));
            line += 1;
        } else if !l.starts_with('-') && !l.starts_with('\\') {
            line += 1;
        }
    }
    findings
}

/// Findings in one file's whole text.
pub fn scan_file(path: &str, text: &str) -> Vec<Finding> {
    text.lines()
        .enumerate()
        .flat_map(|(i, l)| scan_line(path, i + 1, l))
        .collect()
}

fn scan_line(path: &str, line: usize, text: &str) -> Vec<Finding> {
    if path.ends_with(".md") || path.ends_with("package-lock.json") {
        return Vec::new();
    }
    compiled()
        .iter()
        .filter(|(re, _)| re.is_match(text))
        .map(|(re, rule)| {
            let excerpt = if rule.secret {
                re.replace_all(text, "[secret]").into_owned()
            } else {
                text.to_string()
            };
            Finding {
                path: path.to_string(),
                line,
                severity: rule.severity,
                rule: rule.id,
                message: rule.message,
                excerpt: excerpt.trim().chars().take(160).collect(),
            }
        })
        .collect()
}

/// Findings as lines for a prompt or a report.
pub fn describe(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "no findings".into();
    }
    findings
        .iter()
        .map(|f| {
            format!(
                "- [{}] {}:{} {} ({}): {}",
                f.severity, f.path, f.line, f.message, f.rule, f.excerpt
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "diff --git a/app.js b/app.js\nindex 1..2 100644\n--- a/app.js\n+++ b/app.js\n@@ -1,2 +1,5 @@\n const a = 1;\n-old();\n\
+const API_KEY = \"sk-abcdefghijklmnopqrstuvwx\";\n+out.innerHTML = location.hash;\n+eval(input);\n+db.query(\"SELECT * FROM users WHERE id = '\" + id + \"'\");\n\
diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -0,0 +1 @@\n+Never call eval(x) here.\n";

    #[test]
    fn added_lines_are_scanned_with_their_new_line_numbers() {
        let f = scan_diff(DIFF);
        let got: Vec<(&str, usize, &str)> = f
            .iter()
            .map(|f| (f.path.as_str(), f.line, f.rule))
            .collect();
        assert_eq!(
            got,
            [
                ("app.js", 2, "cloud-key"),
                ("app.js", 2, "hardcoded-secret"),
                ("app.js", 3, "xss-html"),
                ("app.js", 4, "eval"),
                ("app.js", 5, "sql-injection")
            ]
        );
        assert!(
            !f[0].excerpt.contains("sk-abc"),
            "secrets are masked: {}",
            f[0].excerpt
        );
        assert!(describe(&f).contains("[high] app.js:4"));
    }

    #[test]
    fn safe_code_has_no_findings() {
        let safe = "const key = process.env.API_KEY;\nout.textContent = name;\ndb.query('SELECT * FROM users WHERE id = ?', [id]);\nconst evaluate = x => x;\n<a href=\"/about\">About</a>";
        assert_eq!(scan_file("app.js", safe), Vec::<Finding>::new());
        assert_eq!(
            scan_file("a.html", "<a href=\"javascript:alert(1)\">x</a>")[0].rule,
            "javascript-url"
        );
    }
}
