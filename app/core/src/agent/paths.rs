//! Every path a model names stays inside the project: relative, no `..`, no
//! `.git`, and no way out through a symbolic link.

use super::AgentError;
use std::path::{Component, Path, PathBuf};

/// Longest path accepted, in bytes.
const PATH_MAX: usize = 1024;

/// Checks `path` (as the model wrote it) and returns it normalised (no `./`,
/// no trailing `/`) together with the file system path under `root`.
pub fn resolve(root: &Path, path: &str) -> Result<(String, PathBuf), AgentError> {
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
                if p == ".git" {
                    return refuse("the .git folder is not part of the project's files");
                }
                clean.push(p.to_string());
            }
            Component::CurDir => {}
            Component::ParentDir => return refuse("`..` would leave the project"),
            Component::RootDir | Component::Prefix(_) => return refuse("paths are relative to the project root"),
        }
    }
    let rel = clean.join("/");
    let full = root.join(&rel);
    // A symbolic link anywhere on the way could point outside: the deepest
    // part that exists must resolve to somewhere under the root.
    let canonical_root = root.canonicalize().map_err(|e| AgentError::Io(format!("project folder: {e}")))?;
    let mut probe = full.clone();
    loop {
        if probe.symlink_metadata().is_ok() {
            let real = probe.canonicalize().map_err(|_| AgentError::Path(format!("{path:?}: a link that leads nowhere")))?;
            if !real.starts_with(&canonical_root) {
                return refuse("it leads outside the project through a link");
            }
            break;
        }
        if !probe.pop() || probe == root {
            break;
        }
    }
    Ok((rel, full))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_inside_are_accepted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        for (given, want) in [("index.html", "index.html"), ("./src/App.tsx", "src/App.tsx"), ("src/new/deep.ts", "src/new/deep.ts"), ("src/", "src")] {
            let (rel, full) = resolve(dir.path(), given).unwrap();
            assert_eq!(rel, want);
            assert_eq!(full, dir.path().join(want));
        }
    }

    #[test]
    fn escapes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("passwd")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("missing"), dir.path().join("dangling")).unwrap();
        for bad in ["../x", "src/../../x", "/etc/passwd", "~/x", ".git/config", "a/.git/x", "", "out/file", "passwd", "dangling", "a\\b", "x\0y"] {
            assert!(resolve(dir.path(), bad).is_err(), "{bad:?} must be refused");
        }
        // A link that stays inside is fine.
        std::fs::create_dir(dir.path().join("real")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("alias")).unwrap();
        assert!(resolve(dir.path(), "alias/file.txt").is_ok());
    }
}
