//! The agent's file tools, applied to the project's working tree. A turn
//! writes files in place (so the sandbox sees them and checks can run); the
//! turn then becomes one commit, or is rolled back as a whole
//! (`GitStore::commit_worktree` / `discard_worktree_changes`).

use super::paths::resolve;
use super::AgentError;
use regex::RegexBuilder;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

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
        Self { file_bytes: 1024 * 1024, turn_bytes: 8 * 1024 * 1024, read_bytes: 256 * 1024, search_results: 200 }
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
    root: PathBuf,
    limits: Limits,
    written: usize,
    changed: Vec<String>,
    /// Paths touched since the last `take_touched`, for "file updated" events.
    touched: Vec<String>,
}

impl Worktree {
    pub fn new(root: PathBuf, limits: Limits) -> Self {
        Self { root, limits, written: 0, changed: Vec::new(), touched: Vec::new() }
    }

    /// Whether the project manages npm packages (the static template does not).
    pub fn has_package_json(&self) -> bool {
        self.root.join("package.json").is_file()
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

    /// Writes through a temporary file and a rename: a reader (the dev
    /// server) never sees half a file.
    fn write(&mut self, rel: &str, full: &Path, content: &str) -> Result<(), AgentError> {
        self.budget(rel, content.len())?;
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(rel, e))?;
        }
        let tmp = full.with_file_name(format!(".{}.autocrea-tmp", full.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
        std::fs::write(&tmp, content).map_err(|e| io(rel, e))?;
        std::fs::rename(&tmp, full).map_err(|e| io(rel, e))?;
        self.note(rel);
        Ok(())
    }

    pub fn create_file(&mut self, path: &str, content: &str) -> Result<String, AgentError> {
        let (rel, full) = resolve(&self.root, path)?;
        if full.exists() {
            return Err(AgentError::Conflict(format!(
                "{rel} already exists; use update_file_sections or full_file_rewrite to change it"
            )));
        }
        self.write(&rel, &full, content)?;
        Ok(format!("created {rel} ({} bytes)", content.len()))
    }

    pub fn full_file_rewrite(&mut self, path: &str, content: &str) -> Result<String, AgentError> {
        let (rel, full) = resolve(&self.root, path)?;
        if full.is_dir() {
            return Err(AgentError::Conflict(format!("{rel} is a folder")));
        }
        self.write(&rel, &full, content)?;
        Ok(format!("wrote {rel} ({} bytes)", content.len()))
    }

    /// Each block's `search` must occur exactly once in the file as it is
    /// when that block is applied; nothing is written unless every block fits.
    pub fn update_file_sections(&mut self, path: &str, sections: &[Section]) -> Result<String, AgentError> {
        let (rel, full) = resolve(&self.root, path)?;
        let mut text = self.read_text(&rel, &full)?;
        if sections.is_empty() {
            return Err(AgentError::Invalid("give at least one {search, replace} block".into()));
        }
        for (i, s) in sections.iter().enumerate() {
            if s.search.is_empty() {
                return Err(AgentError::Invalid(format!("block {}: search is empty", i + 1)));
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
        self.write(&rel, &full, &text)?;
        Ok(format!("updated {rel} ({} block{})", sections.len(), if sections.len() == 1 { "" } else { "s" }))
    }

    pub fn delete_file(&mut self, path: &str) -> Result<String, AgentError> {
        let (rel, full) = resolve(&self.root, path)?;
        if !full.is_file() {
            return Err(AgentError::NotFound(format!("{rel} is not a file of the project")));
        }
        std::fs::remove_file(&full).map_err(|e| io(&rel, e))?;
        self.note(&rel);
        Ok(format!("deleted {rel}"))
    }

    pub fn rename_file(&mut self, from: &str, to: &str) -> Result<String, AgentError> {
        let (from_rel, from_full) = resolve(&self.root, from)?;
        let (to_rel, to_full) = resolve(&self.root, to)?;
        if !from_full.is_file() {
            return Err(AgentError::NotFound(format!("{from_rel} is not a file of the project")));
        }
        if to_full.exists() {
            return Err(AgentError::Conflict(format!("{to_rel} already exists")));
        }
        if let Some(parent) = to_full.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(&to_rel, e))?;
        }
        std::fs::rename(&from_full, &to_full).map_err(|e| io(&from_rel, e))?;
        self.note(&from_rel);
        self.note(&to_rel);
        Ok(format!("renamed {from_rel} to {to_rel}"))
    }

    pub fn read_file(&self, path: &str) -> Result<String, AgentError> {
        let (rel, full) = resolve(&self.root, path)?;
        self.read_text(&rel, &full)
    }

    fn read_text(&self, rel: &str, full: &Path) -> Result<String, AgentError> {
        let meta = std::fs::metadata(full).map_err(|_| AgentError::NotFound(format!("{rel} does not exist")))?;
        if !meta.is_file() {
            return Err(AgentError::NotFound(format!("{rel} is not a file")));
        }
        if meta.len() as usize > self.limits.read_bytes {
            return Err(AgentError::TooLarge(format!("{rel} is {} bytes; files over {} bytes are not read whole", meta.len(), self.limits.read_bytes)));
        }
        let bytes = std::fs::read(full).map_err(|e| io(rel, e))?;
        String::from_utf8(bytes).map_err(|_| AgentError::Invalid(format!("{rel} is not UTF-8 text")))
    }

    /// Every project file under `path` (the root when empty), sorted.
    pub fn list_files(&self, path: &str) -> Result<Vec<String>, AgentError> {
        let (rel, start) = if path.trim().trim_matches(['.', '/']).is_empty() {
            (String::new(), self.root.clone())
        } else {
            resolve(&self.root, path)?
        };
        // A file lists as itself, like `ls file`.
        if start.is_file() {
            return Ok(vec![rel]);
        }
        if !start.is_dir() {
            return Err(AgentError::NotFound(format!("{rel}: no such folder")));
        }
        let mut out = Vec::new();
        walk(&self.root, &start, &mut out)?;
        out.sort();
        Ok(out)
    }

    /// Lines matching a regular expression, as `path:line: text`.
    pub fn search_files(&self, pattern: &str, path: &str, case_insensitive: bool) -> Result<Vec<SearchHit>, AgentError> {
        let re = RegexBuilder::new(pattern)
            .case_insensitive(case_insensitive)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| AgentError::Invalid(format!("not a valid regular expression: {e}")))?;
        let mut hits = Vec::new();
        for rel in self.list_files(path)? {
            let Ok(text) = std::fs::read_to_string(self.root.join(&rel)) else { continue };
            for (i, line) in text.lines().enumerate() {
                if re.is_match(line) {
                    hits.push(SearchHit { path: rel.clone(), line: i + 1, text: line.chars().take(300).collect() });
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
    pub fn add_dependency(&mut self, name: &str, version: &str, dev: bool) -> Result<String, AgentError> {
        let valid = !name.is_empty()
            && name.len() <= 214
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._@/".contains(c));
        if !valid {
            return Err(AgentError::Invalid(format!("{name:?} is not an npm package name")));
        }
        let (rel, full) = resolve(&self.root, "package.json")?;
        let text = self.read_text(&rel, &full).map_err(|_| AgentError::Invalid("this project has no package.json (the static template has no dependencies)".into()))?;
        let mut json: serde_json::Value = serde_json::from_str(&text).map_err(|e| AgentError::Invalid(format!("package.json is not valid JSON: {e}")))?;
        let key = if dev { "devDependencies" } else { "dependencies" };
        let version = if version.trim().is_empty() { "latest" } else { version.trim() };
        let obj = json.as_object_mut().ok_or_else(|| AgentError::Invalid("package.json is not an object".into()))?;
        let deps = obj.entry(key).or_insert_with(|| serde_json::json!({}));
        deps.as_object_mut()
            .ok_or_else(|| AgentError::Invalid(format!("package.json {key} is not an object")))?
            .insert(name.to_string(), serde_json::Value::String(version.to_string()));
        let out = serde_json::to_string_pretty(&json).expect("JSON serialises") + "\n";
        self.write(&rel, &full, &out)?;
        Ok(format!("added {name}@{version} to {key}"))
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), AgentError> {
    // Errors name the folder relative to the project: host paths never reach the model.
    let shown = dir.strip_prefix(root).map(|p| p.display().to_string()).unwrap_or_default();
    let entries = std::fs::read_dir(dir).map_err(|e| io(&shown, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            if !SKIPPED.contains(&name.as_str()) {
                walk(root, &entry.path(), out)?;
            }
        } else if kind.is_file() && !name.ends_with(".autocrea-tmp") {
            if let Ok(rel) = entry.path().strip_prefix(root) {
                out.push(rel.to_string_lossy().to_string());
            }
        }
    }
    Ok(())
}

fn io(path: &str, e: std::io::Error) -> AgentError {
    AgentError::Io(format!("{path}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (tempfile::TempDir, Worktree) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<h1>One</h1>\n<p>two</p>\n<p>two</p>\n").unwrap();
        let wt = Worktree::new(dir.path().to_path_buf(), Limits { file_bytes: 100, turn_bytes: 150, ..Limits::default() });
        (dir, wt)
    }

    #[test]
    fn sections_must_match_exactly_once() {
        let (dir, mut wt) = tree();
        let one = Section { search: "<h1>One</h1>".into(), replace: "<h1>Uno</h1>".into() };
        let twice = Section { search: "<p>two</p>".into(), replace: "x".into() };
        let none = Section { search: "<h2>".into(), replace: "x".into() };
        let e = wt.update_file_sections("index.html", &[one.clone(), twice]).unwrap_err();
        assert!(e.to_string().contains("block 2") && e.to_string().contains("2 times"), "{e}");
        let e = wt.update_file_sections("index.html", &[none]).unwrap_err();
        assert!(e.to_string().contains("not found"), "{e}");
        assert!(std::fs::read_to_string(dir.path().join("index.html")).unwrap().contains("One"), "nothing written on error");
        wt.update_file_sections("index.html", &[one]).unwrap();
        assert!(std::fs::read_to_string(dir.path().join("index.html")).unwrap().starts_with("<h1>Uno</h1>"));
        assert_eq!(wt.changed(), ["index.html"]);
    }

    #[test]
    fn create_rename_delete_list_search_and_limits() {
        let (_dir, mut wt) = tree();
        wt.create_file("src/app.js", "console.log('hi');\n").unwrap();
        assert!(wt.create_file("src/app.js", "again").is_err(), "no create over a file");
        wt.rename_file("src/app.js", "src/main.js").unwrap();
        assert_eq!(wt.list_files("").unwrap(), ["index.html", "src/main.js"]);
        let hits = wt.search_files("console\\.log", "", false).unwrap();
        assert_eq!(hits, [SearchHit { path: "src/main.js".into(), line: 1, text: "console.log('hi');".into() }]);
        assert!(wt.search_files("(", "", false).is_err());
        assert!(matches!(wt.full_file_rewrite("big.txt", &"x".repeat(101)), Err(AgentError::TooLarge(_))));
        wt.full_file_rewrite("a.txt", &"x".repeat(90)).unwrap();
        assert!(matches!(wt.full_file_rewrite("b.txt", &"x".repeat(90)), Err(AgentError::TooLarge(_))), "turn budget");
        wt.delete_file("src/main.js").unwrap();
        assert!(wt.delete_file("src/main.js").is_err());
        assert!(wt.read_file("../etc/passwd").is_err());
        assert_eq!(wt.changed(), ["src/app.js", "src/main.js", "a.txt"]);
    }

    #[test]
    fn dependencies_go_into_package_json() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("package.json"), r#"{"name":"app","dependencies":{"react":"^18"}}"#).unwrap();
        let mut wt = Worktree::new(dir.path().to_path_buf(), Limits::default());
        wt.add_dependency("zod", "^3.23.0", false).unwrap();
        wt.add_dependency("@types/node", "", true).unwrap();
        assert!(wt.add_dependency("Bad Name", "", false).is_err());
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("package.json")).unwrap()).unwrap();
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
}
