//! Search and replace across the text files of the current version, for
//! the workspace. One matcher for both modes: a literal query is escaped
//! into a regular expression, and the `regex` crate runs in linear time, so
//! no pattern a person types can hang the server.

use super::{Author, FileChange, GitError, GitStore};
pub use autocrea_wire::files::{Replaced, SearchFile, SearchMatch, SearchResult};
use git2::Oid;
use regex::{NoExpand, Regex, RegexBuilder};

/// Files larger than this are not searched (minified bundles, data).
const FILE_MAX: usize = 1024 * 1024;
/// A matched line is cut to this many characters for the list.
const LINE_MAX: usize = 240;
/// Longest query.
const QUERY_MAX: usize = 1000;

/// What to look for.
pub struct SearchQuery {
    pattern: Regex,
    is_regex: bool,
}

impl SearchQuery {
    pub fn new(text: &str, is_regex: bool, match_case: bool) -> Result<Self, GitError> {
        if text.is_empty() {
            return Err(GitError::Invalid("type something to search for".into()));
        }
        if text.len() > QUERY_MAX {
            return Err(GitError::Invalid(format!(
                "the search is longer than {QUERY_MAX} characters"
            )));
        }
        let source = if is_regex {
            text.to_string()
        } else {
            regex::escape(text)
        };
        let pattern = RegexBuilder::new(&source)
            .case_insensitive(!match_case)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| GitError::Invalid(format!("not a valid regular expression: {e}")))?;
        Ok(Self { pattern, is_regex })
    }

    /// `replacement` with `$1`-style groups expanded in regex mode, taken as
    /// is otherwise. Returns the new text and the number of replacements.
    fn replace(&self, text: &str, replacement: &str) -> (String, usize) {
        let count = self
            .pattern
            .find_iter(text)
            .filter(|m| !m.is_empty())
            .count();
        if count == 0 {
            return (text.to_string(), 0);
        }
        let out = if self.is_regex {
            self.pattern.replace_all(text, replacement)
        } else {
            self.pattern.replace_all(text, NoExpand(replacement))
        };
        (out.into_owned(), count)
    }
}

/// The text of a blob worth searching, or None (binary, too large).
fn text_of(data: &[u8]) -> Option<&str> {
    if data.len() > FILE_MAX || data.contains(&0) {
        return None;
    }
    std::str::from_utf8(data).ok()
}

fn cut(line: &str) -> String {
    let mut s: String = line.chars().take(LINE_MAX).collect();
    if s.len() < line.len() {
        s.push('…');
    }
    s
}

impl GitStore {
    /// Every match of `query` in the current version's text files, by file
    /// then line, at most `limit` matches.
    pub fn search(
        &self,
        project_id: &str,
        query: &SearchQuery,
        limit: usize,
    ) -> Result<SearchResult, GitError> {
        let (version, entries) = self.all_files(project_id)?;
        let repo = self.open(project_id)?;
        let mut result = SearchResult {
            version,
            files: Vec::new(),
            total: 0,
            truncated: false,
            skipped: 0,
        };
        'files: for entry in entries {
            let blob = repo.find_blob(Oid::from_str(&entry.sha)?)?;
            let Some(text) = text_of(blob.content()) else {
                result.skipped += 1;
                continue;
            };
            let mut matches = Vec::new();
            for (n, line) in text.lines().enumerate() {
                for m in query.pattern.find_iter(line).filter(|m| !m.is_empty()) {
                    if result.total == limit {
                        result.truncated = true;
                        if !matches.is_empty() {
                            result.files.push(SearchFile {
                                path: entry.path.clone(),
                                sha: entry.sha.clone(),
                                matches,
                            });
                        }
                        break 'files;
                    }
                    result.total += 1;
                    matches.push(SearchMatch {
                        path: entry.path.clone(),
                        line: n + 1,
                        column: line[..m.start()].chars().count() + 1,
                        length: m.as_str().chars().count(),
                        text: cut(line),
                    });
                }
            }
            if !matches.is_empty() {
                result.files.push(SearchFile {
                    path: entry.path,
                    sha: entry.sha,
                    matches,
                });
            }
        }
        Ok(result)
    }

    /// Replaces every match in the listed files (path and the blob id the
    /// search saw) as one commit on the current branch. A file changed since
    /// the search is a conflict and nothing is written.
    pub fn replace_in_files(
        &self,
        project_id: &str,
        query: &SearchQuery,
        replacement: &str,
        files: &[(String, String)],
        message: &str,
        author: &Author,
    ) -> Result<(Oid, Vec<Replaced>), GitError> {
        if files.is_empty() {
            return Err(GitError::Invalid("name the files to replace in".into()));
        }
        let mut new_texts = Vec::new();
        for (path, sha) in files {
            let (content, _) = self.read(project_id, None, path)?;
            let super::Content::File { entry, data } = content else {
                return Err(GitError::Invalid(format!("{path} is a folder")));
            };
            if &entry.sha != sha {
                return Err(GitError::Conflict(format!(
                    "{path} changed since the search; search again"
                )));
            }
            let text = text_of(&data)
                .ok_or_else(|| GitError::Invalid(format!("{path} is not a text file")))?;
            let (new, count) = query.replace(text, replacement);
            if count > 0 {
                new_texts.push((entry.path, entry.sha, new, count));
            }
        }
        if new_texts.is_empty() {
            return Err(GitError::Invalid(
                "nothing matches in those files any more".into(),
            ));
        }
        let changes: Vec<FileChange> = new_texts
            .iter()
            .map(|(path, sha, text, _)| FileChange {
                path,
                data: Some(text.as_bytes()),
                expected: Some(sha),
            })
            .collect();
        let (oid, blobs) = self.write_files(project_id, None, None, &changes, message, author)?;
        let replaced = new_texts
            .iter()
            .zip(blobs)
            .map(|((path, _, _, count), blob)| Replaced {
                path: path.clone(),
                sha: blob.map(|b| b.to_string()).unwrap_or_default(),
                replacements: *count,
            })
            .collect();
        Ok((oid, replaced))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_queries_match_their_text_only() {
        let q = SearchQuery::new("a.b($1)", false, true).unwrap();
        assert_eq!(
            q.replace("x a.b($1) axb(1)", "$0"),
            ("x $0 axb(1)".to_string(), 1)
        );
        let q = SearchQuery::new("Hello", false, false).unwrap();
        assert_eq!(q.replace("hello HELLO", "Hi").1, 2);
    }

    #[test]
    fn regex_replacements_expand_groups() {
        let q = SearchQuery::new(r"color:\s*(\w+)", true, true).unwrap();
        assert_eq!(q.replace("color: red;", "colour: $1").0, "colour: red;");
        assert!(SearchQuery::new("(", true, true).is_err());
        assert!(SearchQuery::new("", false, true).is_err());
    }

    #[test]
    fn binary_and_huge_files_are_not_text() {
        assert!(text_of(b"a\0b").is_none());
        assert!(text_of(&vec![b'a'; FILE_MAX + 1]).is_none());
        assert_eq!(text_of(b"ok"), Some("ok"));
    }
}
