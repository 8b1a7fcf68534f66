//! Which known errors are still current. Errors are kept with the point in
//! the dev server's output (a log line's `seq`) where they were seen; a
//! later "fresh start" line (a restart, a rebuild, a hot update, a reload:
//! the code changed) makes older ones history, as does a new page load for
//! what the browser reported. Without this, an error fixed since stayed in
//! the overlay and the bug finder's list, even after a reload.

use super::diagnostics::Diagnostic;
use std::collections::VecDeque;

/// Browser errors kept per sandbox (the oldest go first).
const KEPT: usize = 50;
/// Longest page id taken from a report (the page makes it up: untrusted).
const PAGE_ID_MAX: usize = 64;

/// What the browser reported for the page loaded last.
#[derive(Debug, Default)]
pub struct BrowserErrors {
    /// The id the injected script gave the page loaded last.
    page: Option<String>,
    /// Each error with the log `seq` current when it was (last) reported.
    errors: VecDeque<(u64, Diagnostic)>,
}

impl BrowserErrors {
    /// A page (re)loaded: what the browser reported before is history.
    pub fn page_loaded(&mut self, page: &str) {
        self.page = page_id(page);
        self.errors.clear();
    }

    /// An error seen by page `page` while the log was at `seq`. A report
    /// from another page than the one loaded last (a late beacon of the
    /// page before a reload) is dropped. The same error again is one error,
    /// moved to now (React, for one, reports a render error two or three
    /// times). False when nothing was kept.
    pub fn report(&mut self, page: &str, seq: u64, d: Diagnostic) -> bool {
        if let (Some(current), Some(from)) = (&self.page, page_id(page)) {
            if *current != from {
                return false;
            }
        }
        self.errors.retain(|(_, o)| !same_error(o, &d));
        if self.errors.len() >= KEPT {
            self.errors.pop_front();
        }
        self.errors.push_back((seq, d));
        true
    }

    /// The errors reported at or after log line `fresh` (the last fresh start).
    pub fn since(&self, fresh: u64) -> Vec<Diagnostic> {
        self.errors
            .iter()
            .filter(|(seq, _)| *seq >= fresh)
            .map(|(_, d)| d.clone())
            .collect()
    }
}

fn page_id(page: &str) -> Option<String> {
    let id: String = page
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(PAGE_ID_MAX)
        .collect();
    (!id.is_empty()).then_some(id)
}

/// The same error reported again: same place, same first line (a stack
/// trace under it may differ in its frames' details).
pub fn same_error(a: &Diagnostic, b: &Diagnostic) -> bool {
    let head = |d: &Diagnostic| d.message.lines().next().unwrap_or("").trim().to_string();
    a.file == b.file && a.line == b.line && a.severity == b.severity && head(a) == head(b)
}

/// A `check_for_errors` run: what it found, in which container, and where
/// that container's log stood when it began.
#[derive(Debug, Clone)]
pub struct CheckRun {
    pub container: String,
    pub seq: u64,
    pub found: Vec<Diagnostic>,
}

impl CheckRun {
    /// Whether the findings still describe the code: the run was in the
    /// container that runs now (`None`: none runs, nothing says otherwise)
    /// and the dev server has not restarted or rebuilt since it began.
    pub fn is_current(&self, running: Option<(&str, u64)>) -> bool {
        match running {
            None => true,
            Some((container, fresh)) => container == self.container && fresh <= self.seq,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(message: &str, line: u32) -> Diagnostic {
        Diagnostic {
            file: Some("app.js".into()),
            line: Some(line),
            column: None,
            severity: "error".into(),
            message: message.into(),
            source: "browser".into(),
        }
    }

    #[test]
    fn a_load_clears_and_a_late_report_of_the_page_before_is_dropped() {
        let mut b = BrowserErrors::default();
        b.page_loaded("pageA");
        assert!(b.report("pageA", 3, err("boom", 1)));
        b.page_loaded("pageB");
        assert!(b.since(0).is_empty());
        assert!(
            !b.report("pageA", 4, err("boom", 1)),
            "the old page's beacon arrived late"
        );
        assert!(b.report("pageB", 4, err("other", 2)));
        assert_eq!(b.since(0).len(), 1);
    }

    #[test]
    fn errors_before_a_fresh_start_are_history_unless_reported_again() {
        let mut b = BrowserErrors::default();
        b.page_loaded("p");
        b.report("p", 5, err("old", 1));
        b.report("p", 5, err("again", 2));
        // The code changed at log line 7 (a hot update); "again" recurs after it.
        b.report("p", 8, err("again", 2));
        let now = b.since(7);
        assert_eq!(now.len(), 1);
        assert_eq!(now[0].message, "again");
    }

    #[test]
    fn one_error_reported_with_different_stacks_counts_once() {
        let mut b = BrowserErrors::default();
        b.report("", 1, err("Uncaught Error: boom\n    at a (app.js:1:7)", 1));
        b.report(
            "",
            1,
            err(
                "Uncaught Error: boom\n    at b (app.js:1:9)\n    at c (app.js:2:1)",
                1,
            ),
        );
        assert_eq!(b.since(0).len(), 1);
    }

    #[test]
    fn only_so_many_are_kept() {
        let mut b = BrowserErrors::default();
        for i in 0..(KEPT as u32 + 10) {
            b.report("", 1, err("e", i + 1));
        }
        let kept = b.since(0);
        assert_eq!(kept.len(), KEPT);
        assert_eq!(kept[0].line, Some(11), "the oldest went first");
    }

    #[test]
    fn a_check_is_current_until_the_dev_server_rebuilds_or_the_sandbox_changes() {
        let run = CheckRun {
            container: "c1".into(),
            seq: 10,
            found: vec![err("x", 1)],
        };
        assert!(run.is_current(Some(("c1", 4))));
        assert!(run.is_current(Some(("c1", 10))));
        assert!(
            !run.is_current(Some(("c1", 11))),
            "a fresh start after the check began"
        );
        assert!(!run.is_current(Some(("c2", 0))), "another container");
        assert!(run.is_current(None));
    }
}
