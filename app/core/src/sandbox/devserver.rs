//! The dev server's output and state. The container's supervisor script
//! (compose/sandbox/runtime/supervise.sh) restarts the dev server with
//! backoff and marks each start and exit with an `[autocrea]` line; the
//! appliance follows the output into a ring buffer, reads those markers,
//! and probes the port to tell "starting" from "ready".

use crate::env_vars::Redactor;
use crate::replay::Replay;
use crate::sync::lock;
pub use autocrea_wire::sandbox::{DevState, LogLine, Stream};
use std::sync::Mutex;
use tokio::sync::broadcast;

/// Lines kept per sandbox.
pub const LOG_LINES: usize = 2000;
/// Longest line kept; longer ones are cut (minified bundles print huge lines).
const LINE_MAX: usize = 4000;

/// Kept lines (each with its `seq`) and a receiver for the lines after them.
pub type Backlog = (Vec<(u64, LogLine)>, broadcast::Receiver<(u64, LogLine)>);

pub struct LogBuffer {
    lines: Replay<LogLine>,
    /// A line not yet ended by a newline, per stream (stdout, stderr).
    partial: Mutex<[String; 2]>,
    /// The project's secret values, masked in every line before it is kept.
    redactor: Redactor,
}

impl Default for LogBuffer {
    fn default() -> Self {
        Self::redacting(Redactor::default())
    }
}

impl LogBuffer {
    /// A buffer that masks `redactor`'s values in whole lines (a value split
    /// across two writes is still whole once its line is).
    pub fn redacting(redactor: Redactor) -> Self {
        Self {
            lines: Replay::new(LOG_LINES),
            partial: Mutex::default(),
            redactor,
        }
    }

    /// Appends raw output; returns the complete lines it finished.
    pub fn push(&self, stderr: bool, bytes: &[u8]) -> Vec<LogLine> {
        let text = String::from_utf8_lossy(bytes);
        let mut partial = lock(&self.partial);
        let pending = &mut partial[stderr as usize];
        pending.push_str(&text);
        let mut done = Vec::new();
        while let Some(nl) = pending.find('\n') {
            let mut line: String = pending.drain(..=nl).collect();
            line.pop();
            if line.ends_with('\r') {
                line.pop();
            }
            // Masked before the cut, so a cut cannot leave part of a value.
            let mut text = self.redactor.apply(&super::diagnostics::strip_ansi(&line));
            if text.len() > LINE_MAX {
                text.truncate(crate::text::prefix(&text, LINE_MAX).len());
                text.push('…');
            }
            let stream = if stderr {
                Stream::Stderr
            } else {
                Stream::Stdout
            };
            done.push(self.lines.push(|seq| LogLine { seq, stream, text }));
        }
        done
    }

    /// Ends the lines a process left without a newline (it exited).
    pub fn finish_partial(&self) {
        for stderr in [false, true] {
            let pending = !lock(&self.partial)[stderr as usize].is_empty();
            if pending {
                self.push(stderr, b"\n");
            }
        }
    }

    /// Kept lines with `seq > after`, and a receiver for what follows them.
    pub fn since(&self, after: u64) -> Backlog {
        self.lines.since(after)
    }

    /// The last `n` lines.
    pub fn tail(&self, n: usize) -> Vec<LogLine> {
        self.lines.tail(n).into_iter().map(|(_, l)| l).collect()
    }
}

/// What a supervisor marker line says.
#[derive(Debug, PartialEq, Eq)]
pub enum Marker {
    Starting,
    Exited { code: i32, retry_in_secs: u64 },
}

pub fn marker(line: &str) -> Option<Marker> {
    let rest = line.strip_prefix("[autocrea] ")?;
    if rest.starts_with("starting:") {
        return Some(Marker::Starting);
    }
    // "exited with status N; restarting in Ss"
    let rest = rest.strip_prefix("exited with status ")?;
    let (code, rest) = rest.split_once(';')?;
    let secs = rest
        .trim()
        .strip_prefix("restarting in ")?
        .trim_end_matches('s');
    Some(Marker::Exited {
        code: code.trim().parse().ok()?,
        retry_in_secs: secs.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_assembled_across_chunks() {
        let buf = LogBuffer::default();
        assert!(buf.push(false, b"hel").is_empty());
        let done = buf.push(false, b"lo\r\nwor");
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].text, "hello");
        buf.push(true, b"oops\n");
        buf.push(false, b"ld\n");
        let (lines, _) = buf.since(0);
        let texts: Vec<_> = lines
            .iter()
            .map(|(_, l)| (l.seq, l.stream.as_str(), l.text.as_str()))
            .collect();
        assert_eq!(
            texts,
            [
                (1, "stdout", "hello"),
                (2, "stderr", "oops"),
                (3, "stdout", "world")
            ]
        );
        assert_eq!(buf.since(2).0.len(), 1);
    }

    #[test]
    fn markers() {
        assert_eq!(marker("[autocrea] starting: vite"), Some(Marker::Starting));
        assert_eq!(
            marker("[autocrea] exited with status 137; restarting in 4s"),
            Some(Marker::Exited {
                code: 137,
                retry_in_secs: 4
            })
        );
        assert_eq!(marker("vite ready"), None);
    }
}
