//! Every path a model names stays inside the project: relative, no `..`,
//! no `.git`. Links are not this check's business: the file layer
//! (`crate::confined`) refuses any symbolic link on the way when it acts.

use super::AgentError;
use std::path::{Component, Path};

/// Longest path accepted, in bytes.
const PATH_MAX: usize = 1024;

/// Checks `path` (as the model wrote it) and returns it normalised (no
/// `./`, no trailing `/`), relative to the project root.
pub fn resolve(path: &str) -> Result<String, AgentError> {
    let refuse = |why: &str| Err(AgentError::Path(format!("{path:?}: {why}")));
    let trimmed = path.trim().trim_start_matches("./").trim_end_matches('/');
    if trimmed.is_empty() {
        return refuse("a file path is needed");
    }
    if trimmed.len() > PATH_MAX || trimmed.contains(['\0', '\\']) {
        return refuse("not a valid path");
    }
    if trimmed.starts_with('/') || trimmed.starts_with('~') {
        return refuse("paths are relative to the project root");
    }
    let mut clean = Vec::new();
    for part in Path::new(trimmed).components() {
        match part {
            Component::Normal(p) => {
                let p = p.to_string_lossy();
                if p.eq_ignore_ascii_case(".git") {
                    return refuse("the .git folder is not part of the project's files");
                }
                clean.push(p.to_string());
            }
            Component::CurDir => {}
            Component::ParentDir => return refuse("`..` would leave the project"),
            Component::RootDir | Component::Prefix(_) => {
                return refuse("paths are relative to the project root")
            }
        }
    }
    Ok(clean.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_inside_are_accepted() {
        for (given, want) in [
            ("index.html", "index.html"),
            ("./src/App.tsx", "src/App.tsx"),
            ("src/new/deep.ts", "src/new/deep.ts"),
            ("src/", "src"),
            ("a/./b", "a/b"),
        ] {
            assert_eq!(resolve(given).unwrap(), want);
        }
    }

    #[test]
    fn escapes_are_refused() {
        for bad in [
            "../x",
            "src/../../x",
            "/etc/passwd",
            "~/x",
            ".git/config",
            "a/.git/x",
            "a/.GIT/x",
            "",
            "a\\b",
            "x\0y",
        ] {
            assert!(resolve(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
