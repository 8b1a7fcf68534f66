//! The agent's file tools, applied to the project's working tree. A turn
//! writes files in place (so the sandbox sees them and checks can run); the
//! turn then becomes one commit, or is rolled back as a whole
//! (`GitStore::commit_worktree` / `discard_worktree_changes`).
//!
//! The tree's files are untrusted (anyone who can push can commit links),
//! so every access goes through `crate::confined`, which never follows a
//! symbolic link on the host.

use super::paths::resolve;
use super::AgentError;
use crate::confined::{Confined, FsError, Kind};
use regex::RegexBuilder;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Limits on what one turn may write.
#[derive(Debug, Clone)]
pub struct Limits {
    pub file_bytes: usize,
    pub turn_bytes: usize,
    pub read_bytes: usize,
    pub search_results: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            file_bytes: 1024 * 1024,
            turn_bytes: 8 * 1024 * 1024,
            read_bytes: 256 * 1024,
            search_results: 200,
        }
    }
}

/// One search/replace block of `update_file_sections`.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct Section {
    pub search: String,
    pub replace: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct SearchHit {
    pub path: String,
    pub line: usize,
    pub text: String,
}

/// Folders that are not the project's own files.
const SKIPPED: &[&str] = &[".git", "node_modules", ".next", "dist", ".vite"];

/// The working tree of one turn, with the bytes written so far.
pub struct Worktree {
    fs: Confined,
    limits: Limits,
    written: usize,
    changed: Vec<String>,
    /// Paths touched since the last `take_touched`, for "file updated" events.
    touched: Vec<String>,
}

impl Worktree {
    pub fn new(root: PathBuf, limits: Limits) -> Self {
        Self {
            fs: Confined::new(root),
            limits,
            written: 0,
            changed: Vec::new(),
            touched: Vec::new(),
        }
    }

    /// Whether the project manages npm packages (the static template does not).
    pub fn has_package_json(&self) -> bool {
        matches!(self.fs.kind("package.json"), Ok(Some(Kind::File)))
    }

    /// What is at `rel`; None when nothing is.
    fn kind(&self, rel: &str) -> Result<Option<Kind>, AgentError> {
        self.fs.kind(rel).map_err(fs_error)
    }

    /// Paths this turn created, changed or deleted, in order, once each.
    pub fn changed(&self) -> &[String] {
        &self.changed
    }

    fn note(&mut self, path: &str) {
        if !self.changed.iter().any(|p| p == path) {
            self.changed.push(path.to_string());
        }
        self.touched.push(path.to_string());
    }

    /// Paths created, changed or deleted since the last call.
    pub fn take_touched(&mut self) -> Vec<String> {
        std::mem::take(&mut self.touched)
    }

    fn budget(&mut self, path: &str, bytes: usize) -> Result<(), AgentError> {
        if bytes > self.limits.file_bytes {
            return Err(AgentError::TooLarge(format!(
                "{path}: {bytes} bytes is more than the {} allowed per file",
                self.limits.file_bytes
            )));
        }
        if self.written + bytes > self.limits.turn_bytes {
            return Err(AgentError::TooLarge(format!(
                "this turn would write more than {} bytes; finish with fewer or smaller files",
                self.limits.turn_bytes
            )));
        }
        self.written += bytes;
        Ok(())
    }

    /// Writes through an exclusively created temporary file and a rename
    /// (see `Confined::write`): a reader (the dev server) never sees half a
    /// file, and no planted link is ever written through.
    fn write(&mut self, rel: &str, content: &str, replace: bool) -> Result<(), AgentError> {
        self.budget(rel, content.len())?;
        self.fs
            .write(rel, content.as_bytes(), replace)
            .map_err(fs_error)?;
        self.note(rel);
        Ok(())
    }

    pub fn create_file(&mut self, path: &str, content: &str) -> Result<String, AgentError> {
        let rel = resolve(path)?;
        if self.kind(&rel)?.is_some() {
            return Err(AgentError::Conflict(format!(
                "{rel} already exists; use update_file_sections or full_file_rewrite to change it"
            )));
        }
        self.write(&rel, content, false)?;
        Ok(format!("created {rel} ({} bytes)", content.len()))
    }

    pub fn full_file_rewrite(&mut self, path: &str, content: &str) -> Result<String, AgentError> {
        let rel = resolve(path)?;
        match self.kind(&rel)? {
            Some(Kind::Folder) => return Err(AgentError::Conflict(format!("{rel} is a folder"))),
            Some(Kind::Link) => return Err(fs_error(FsError::Link(rel))),
            _ => {}
        }
        self.write(&rel, content, true)?;
        Ok(format!("wrote {rel} ({} bytes)", content.len()))
    }

    /// Each block's `search` must occur exactly once in the file as it is
    /// when that block is applied; nothing is written unless every block fits.
    pub fn update_file_sections(
        &mut self,
        path: &str,
        sections: &[Section],
    ) -> Result<String, AgentError> {
        let rel = resolve(path)?;
        let mut text = self.read_text(&rel)?;
        if sections.is_empty() {
            return Err(AgentError::Invalid(
                "give at least one {search, replace} block".into(),
            ));
        }
        for (i, s) in sections.iter().enumerate() {
            if s.search.is_empty() {
                return Err(AgentError::Invalid(format!(
                    "block {}: search is empty",
                    i + 1
                )));
            }
            match text.matches(s.search.as_str()).count() {
                1 => text = text.replacen(&s.search, &s.replace, 1),
                0 => {
                    return Err(AgentError::Invalid(format!(
                        "block {} of {rel}: the search text was not found; read the file and copy the lines exactly",
                        i + 1
                    )))
                }
                n => {
                    return Err(AgentError::Invalid(format!(
                        "block {} of {rel}: the search text occurs {n} times; include more surrounding lines so it matches once",
                        i + 1
                    )))
                }
            }
        }
        self.write(&rel, &text, true)?;
        Ok(format!(
            "updated {rel} ({} block{})",
            sections.len(),
            if sections.len() == 1 { "" } else { "s" }
        ))
    }

    pub fn delete_file(&mut self, path: &str) -> Result<String, AgentError> {
        let rel = resolve(path)?;
        // A link is removed as itself (never its target).
        if !matches!(self.kind(&rel)?, Some(Kind::File | Kind::Link)) {
            return Err(AgentError::NotFound(format!(
                "{rel} is not a file of the project"
            )));
        }
        self.fs.remove_file(&rel).map_err(fs_error)?;
        self.note(&rel);
        Ok(format!("deleted {rel}"))
    }

    pub fn rename_file(&mut self, from: &str, to: &str) -> Result<String, AgentError> {
        let from_rel = resolve(from)?;
        let to_rel = resolve(to)?;
        if self.kind(&from_rel)? != Some(Kind::File) {
            return Err(AgentError::NotFound(format!(
                "{from_rel} is not a file of the project"
            )));
        }
        if self.kind(&to_rel)?.is_some() {
            return Err(AgentError::Conflict(format!("{to_rel} already exists")));
        }
        self.fs.rename(&from_rel, &to_rel).map_err(fs_error)?;
        self.note(&from_rel);
        self.note(&to_rel);
        Ok(format!("renamed {from_rel} to {to_rel}"))
    }

    pub fn read_file(&self, path: &str) -> Result<String, AgentError> {
        let rel = resolve(path)?;
        self.read_text(&rel)
    }

    fn read_text(&self, rel: &str) -> Result<String, AgentError> {
        match self.kind(rel)? {
            None => return Err(AgentError::NotFound(format!("{rel} does not exist"))),
            Some(Kind::Link) => return Err(fs_error(FsError::Link(rel.into()))),
            Some(Kind::File) => {}
            Some(_) => return Err(AgentError::NotFound(format!("{rel} is not a file"))),
        }
        let bytes = self
            .fs
            .read(rel, self.limits.read_bytes as u64)
            .map_err(|e| match e {
                FsError::TooLarge { size, max, .. } => AgentError::TooLarge(format!(
                    "{rel} is {size} bytes; files over {max} bytes are not read whole"
                )),
                e => fs_error(e),
            })?;
        String::from_utf8(bytes)
            .map_err(|_| AgentError::Invalid(format!("{rel} is not UTF-8 text")))
    }

    /// Every project file under `path` (the root when empty), sorted.
    pub fn list_files(&self, path: &str) -> Result<Vec<String>, AgentError> {
        let rel = if path.trim().trim_matches(['.', '/']).is_empty() {
            String::new()
        } else {
            resolve(path)?
        };
        match self.kind(&rel)? {
            // A file lists as itself, like `ls file`.
            Some(Kind::File) => return Ok(vec![rel]),
            Some(Kind::Folder) => {}
            Some(Kind::Link) => return Err(fs_error(FsError::Link(rel))),
            _ => return Err(AgentError::NotFound(format!("{rel}: no such folder"))),
        }
        let mut out = Vec::new();
        walk(&self.fs, &rel, &mut out)?;
        out.sort();
        Ok(out)
    }

    /// Lines matching a regular expression, as `path:line: text`.
    pub fn search_files(
        &self,
        pattern: &str,
        path: &str,
        case_insensitive: bool,
    ) -> Result<Vec<SearchHit>, AgentError> {
        let re = RegexBuilder::new(pattern)
            .case_insensitive(case_insensitive)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| AgentError::Invalid(format!("not a valid regular expression: {e}")))?;
        let mut hits = Vec::new();
        for rel in self.list_files(path)? {
            let Ok(bytes) = self.fs.read(&rel, self.limits.read_bytes as u64) else {
                continue;
            };
            let Ok(text) = String::from_utf8(bytes) else {
                continue;
            };
            for (i, line) in text.lines().enumerate() {
                if re.is_match(line) {
                    hits.push(SearchHit {
                        path: rel.clone(),
                        line: i + 1,
                        text: line.chars().take(300).collect(),
                    });
                    if hits.len() == self.limits.search_results {
                        return Ok(hits);
                    }
                }
            }
        }
        Ok(hits)
    }

    /// Adds (or changes) a dependency in package.json; the sandbox image
    /// provides installed packages, so this records the intent in the project.
    pub fn add_dependency(
        &mut self,
        name: &str,
        version: &str,
        dev: bool,
    ) -> Result<String, AgentError> {
        let valid = !name.is_empty()
            && name.len() <= 214
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._@/".contains(c));
        if !valid {
            return Err(AgentError::Invalid(format!(
                "{name:?} is not an npm package name"
            )));
        }
        let rel = resolve("package.json")?;
        let text = self.read_text(&rel).map_err(|_| {
            AgentError::Invalid(
                "this project has no package.json (the static template has no dependencies)".into(),
            )
        })?;
        let mut json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| AgentError::Invalid(format!("package.json is not valid JSON: {e}")))?;
        let key = if dev {
            "devDependencies"
        } else {
            "dependencies"
        };
        let version = if version.trim().is_empty() {
            "latest"
        } else {
            version.trim()
        };
        let obj = json
            .as_object_mut()
            .ok_or_else(|| AgentError::Invalid("package.json is not an object".into()))?;
        let deps = obj.entry(key).or_insert_with(|| serde_json::json!({}));
        deps.as_object_mut()
            .ok_or_else(|| AgentError::Invalid(format!("package.json {key} is not an object")))?
            .insert(
                name.to_string(),
                serde_json::Value::String(version.to_string()),
            );
        let out = serde_json::to_string_pretty(&json).expect("JSON serialises") + "\n";
        self.write(&rel, &out, true)?;
        Ok(format!("added {name}@{version} to {key}"))
    }
}

/// Files under the folder `dir` (project-relative), links not followed
/// (and not listed: they are not files the agent can read or write).
fn walk(fs: &Confined, dir: &str, out: &mut Vec<String>) -> Result<(), AgentError> {
    for entry in fs.list(dir).map_err(fs_error)? {
        let rel = if dir.is_empty() {
            entry.name.clone()
        } else {
            format!("{dir}/{}", entry.name)
        };
        match entry.kind {
            Kind::Folder if !SKIPPED.contains(&entry.name.as_str()) => walk(fs, &rel, out)?,
            Kind::File if !entry.name.ends_with(crate::confined::TEMP_SUFFIX) => out.push(rel),
            _ => {}
        }
    }
    Ok(())
}

/// The file layer's refusals as the agent sees them (project paths only).
fn fs_error(e: FsError) -> AgentError {
    match e {
        FsError::InvalidPath(_) | FsError::Link(_) => AgentError::Path(e.to_string()),
        FsError::NotFound(_) => AgentError::NotFound(e.to_string()),
        FsError::NotAFolder(_) | FsError::Exists(_) => AgentError::Conflict(e.to_string()),
        FsError::TooLarge { .. } => AgentError::TooLarge(e.to_string()),
        FsError::Io(..) => AgentError::Io(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (tempfile::TempDir, Worktree) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("index.html"),
            "<h1>One</h1>\n<p>two</p>\n<p>two</p>\n",
        )
        .unwrap();
        let wt = Worktree::new(
            dir.path().to_path_buf(),
            Limits {
                file_bytes: 100,
                turn_bytes: 150,
                ..Limits::default()
            },
        );
        (dir, wt)
    }

    #[test]
    fn sections_must_match_exactly_once() {
        let (dir, mut wt) = tree();
        let one = Section {
            search: "<h1>One</h1>".into(),
            replace: "<h1>Uno</h1>".into(),
        };
        let twice = Section {
            search: "<p>two</p>".into(),
            replace: "x".into(),
        };
        let none = Section {
            search: "<h2>".into(),
            replace: "x".into(),
        };
        let e = wt
            .update_file_sections("index.html", &[one.clone(), twice])
            .unwrap_err();
        assert!(
            e.to_string().contains("block 2") && e.to_string().contains("2 times"),
            "{e}"
        );
        let e = wt.update_file_sections("index.html", &[none]).unwrap_err();
        assert!(e.to_string().contains("not found"), "{e}");
        assert!(
            std::fs::read_to_string(dir.path().join("index.html"))
                .unwrap()
                .contains("One"),
            "nothing written on error"
        );
        wt.update_file_sections("index.html", &[one]).unwrap();
        assert!(std::fs::read_to_string(dir.path().join("index.html"))
            .unwrap()
            .starts_with("<h1>Uno</h1>"));
        assert_eq!(wt.changed(), ["index.html"]);
    }

    #[test]
    fn create_rename_delete_list_search_and_limits() {
        let (_dir, mut wt) = tree();
        wt.create_file("src/app.js", "console.log('hi');\n")
            .unwrap();
        assert!(
            wt.create_file("src/app.js", "again").is_err(),
            "no create over a file"
        );
        wt.rename_file("src/app.js", "src/main.js").unwrap();
        assert_eq!(wt.list_files("").unwrap(), ["index.html", "src/main.js"]);
        let hits = wt.search_files("console\\.log", "", false).unwrap();
        assert_eq!(
            hits,
            [SearchHit {
                path: "src/main.js".into(),
                line: 1,
                text: "console.log('hi');".into()
            }]
        );
        assert!(wt.search_files("(", "", false).is_err());
        assert!(matches!(
            wt.full_file_rewrite("big.txt", &"x".repeat(101)),
            Err(AgentError::TooLarge(_))
        ));
        wt.full_file_rewrite("a.txt", &"x".repeat(90)).unwrap();
        assert!(
            matches!(
                wt.full_file_rewrite("b.txt", &"x".repeat(90)),
                Err(AgentError::TooLarge(_))
            ),
            "turn budget"
        );
        wt.delete_file("src/main.js").unwrap();
        assert!(wt.delete_file("src/main.js").is_err());
        assert!(wt.read_file("../etc/passwd").is_err());
        assert_eq!(wt.changed(), ["src/app.js", "src/main.js", "a.txt"]);
    }

    #[test]
    fn dependencies_go_into_package_json() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"name":"app","dependencies":{"react":"^18"}}"#,
        )
        .unwrap();
        let mut wt = Worktree::new(dir.path().to_path_buf(), Limits::default());
        wt.add_dependency("zod", "^3.23.0", false).unwrap();
        wt.add_dependency("@types/node", "", true).unwrap();
        assert!(wt.add_dependency("Bad Name", "", false).is_err());
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("package.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(json["dependencies"]["zod"], "^3.23.0");
        assert_eq!(json["dependencies"]["react"], "^18");
        assert_eq!(json["devDependencies"]["@types/node"], "latest");
    }

    #[test]
    fn listing_a_file_or_a_missing_folder_names_only_project_paths() {
        let (dir, wt) = tree();
        assert_eq!(wt.list_files("index.html").unwrap(), ["index.html"]);
        let e = wt.list_files("nope").unwrap_err().to_string();
        assert_eq!(e, "nope: no such folder");
        assert!(!e.contains(&dir.path().display().to_string()));
    }

    /// Links a push planted: at the old temporary name, at a folder, at a
    /// file. Every tool refuses to go through them; nothing outside changes.
    #[test]
    fn tools_never_go_through_links() {
        let (dir, mut wt) = tree();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "host").unwrap();
        let link = |target: &std::path::Path, name: &str| {
            std::os::unix::fs::symlink(target, dir.path().join(name)).unwrap()
        };
        link(&outside.path().join("secret"), ".index.html.autocrea-tmp");
        link(outside.path(), "src");
        link(&outside.path().join("secret"), "notes.txt");
        wt.full_file_rewrite("index.html", "<h1>New</h1>").unwrap();
        for e in [
            wt.create_file("src/app.js", "x").unwrap_err(),
            wt.full_file_rewrite("notes.txt", "x").unwrap_err(),
            wt.update_file_sections(
                "notes.txt",
                &[Section {
                    search: "host".into(),
                    replace: "x".into(),
                }],
            )
            .unwrap_err(),
            wt.read_file("notes.txt").unwrap_err(),
            wt.read_file("src/secret").unwrap_err(),
            wt.list_files("src").unwrap_err(),
            wt.rename_file("index.html", "src/index.html").unwrap_err(),
        ] {
            assert!(
                matches!(e, AgentError::Path(_)) && e.to_string().contains("symbolic link"),
                "{e}"
            );
            assert!(
                !e.to_string()
                    .contains(&outside.path().display().to_string()),
                "{e}"
            );
        }
        assert_eq!(
            std::fs::read_to_string(outside.path().join("secret")).unwrap(),
            "host"
        );
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1);
        assert_eq!(
            wt.list_files("").unwrap(),
            ["index.html"],
            "links are not listed as files"
        );
        assert!(wt.search_files("host", "", false).unwrap().is_empty());
        // Deleting a link removes the link only.
        wt.delete_file("notes.txt").unwrap();
        assert!(outside.path().join("secret").exists());
    }
}
