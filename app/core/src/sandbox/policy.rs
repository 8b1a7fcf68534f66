//! Which commands the exec API (the agent's `send_terminal_command`) may run.
//!
//! This is a guard against mistakes, NOT a security boundary. It keeps the
//! agent's commands reviewable and stops the obvious wrong turns: a command
//! is a list of simple commands joined by `&&`, `||`, `;` or `|`, each
//! starting with a program from the allowed list; `$(...)`, backticks,
//! `eval`, `exec`, `sh -c` and redirection outside `/tmp` are refused. It is
//! easy to get around on purpose (`env sh -c`, `find -exec`, `awk`'s
//! `system()`, `sed`'s `e`, `node -e` all run arbitrary code), and the
//! terminal gives the project's owner a full shell anyway. What holds is the
//! container: non-root, read-only workspace mount, no capabilities, its own
//! network with inter-container traffic off and no egress by default, no
//! secrets in its environment (see docker.rs, firewall.rs). Nothing may
//! rely on this policy for safety.

use super::SandboxError;

const MAX_COMMAND: usize = 4000;

/// Checks `command` against `allowed` programs; the error says why it was refused.
pub fn check(command: &str, allowed: &[String]) -> Result<(), SandboxError> {
    let refuse = |why: String| Err(SandboxError::CommandRefused(why));
    let command = command.trim();
    if command.is_empty() {
        return refuse("the command is empty".into());
    }
    if command.len() > MAX_COMMAND {
        return refuse(format!(
            "the command is longer than {MAX_COMMAND} characters"
        ));
    }
    if command.contains('\n') || command.contains('\0') {
        return refuse("give one line (join steps with && or ;)".into());
    }
    for bad in ["$(", "`", "<(", ">("] {
        if command.contains(bad) {
            return refuse(format!("command substitution ({bad}) is not allowed"));
        }
    }
    let words = shell_words::split(command)
        .map_err(|e| SandboxError::CommandRefused(format!("cannot parse the command: {e}")))?;
    let mut expect_program = true;
    let mut expect_target = false;
    for w in &words {
        if expect_target {
            if !w.starts_with("/tmp/") && w != "/dev/null" {
                return refuse(format!(
                    "output may only be redirected to /tmp or /dev/null, not {w:?}"
                ));
            }
            expect_target = false;
            continue;
        }
        match w.as_str() {
            "&&" | "||" | ";" | "|" => {
                expect_program = true;
                continue;
            }
            ">" | ">>" | "2>" | "2>>" | "&>" => {
                expect_target = true;
                continue;
            }
            "2>&1" | "<" => continue,
            _ => {}
        }
        if expect_program {
            // VAR=value prefixes are environment for the program that follows.
            if w.contains('=') && !w.starts_with('=') && !w.contains('/') {
                continue;
            }
            let program = w.rsplit('/').next().unwrap_or(w);
            if !allowed.iter().any(|a| a == program) {
                return refuse(format!(
                    "{program:?} is not an allowed program here; allowed: {}",
                    allowed.join(", ")
                ));
            }
            expect_program = false;
        }
    }
    if expect_target {
        return refuse("a redirection has no target".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        ["ls", "npm", "echo", "cat", "grep", "node"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn allows_pipelines_of_allowed_programs() {
        for ok in [
            "ls -la",
            "npm run build && echo done",
            "cat package.json | grep react",
            "NODE_ENV=production node -e 'console.log(1)' > /tmp/out.txt 2>&1",
            "echo 'a; rm -rf /'",
        ] {
            check(ok, &allowed()).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn refuses_other_programs_and_shell_tricks() {
        for bad in [
            "rm -rf /",
            "ls && curl http://example.com",
            "echo $(whoami)",
            "echo `id`",
            "ls | sh",
            "echo hi > package.json",
            "/bin/bash -c ls",
            "ls\nrm x",
            "",
        ] {
            assert!(check(bad, &allowed()).is_err(), "{bad} should be refused");
        }
    }
}
