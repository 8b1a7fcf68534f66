//! A project's files: the tree, one file, saving, renaming, search and replace.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileEntry {
    pub path: String,
    /// The blob id: send it back to save or delete the file.
    pub sha: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileTree {
    /// The version listed (null for a project without commits).
    pub version: Option<String>,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileView {
    pub path: String,
    pub sha: String,
    pub size: u64,
    /// The version it was read from.
    pub version: String,
    /// The text; null for a binary file.
    pub content: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SaveFile {
    pub content: String,
    /// The blob id the editor started from; leave out to create a new file.
    pub sha: Option<String>,
    /// The commit message; "Update <path>" (or "Add <path>") when left out.
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Saved {
    pub path: String,
    /// The file's new blob id (null after a deletion).
    pub sha: Option<String>,
    /// The new version.
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RenameFile {
    pub from: String,
    pub to: String,
    /// The blob id of `from` last read.
    pub sha: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchMatch {
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Length of the match, in characters.
    pub length: usize,
    /// The line (cut to a few hundred characters).
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchFile {
    pub path: String,
    /// The blob searched: send it back to replace in this file.
    pub sha: String,
    pub matches: Vec<SearchMatch>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResult {
    /// The version searched (null for a project without commits).
    pub version: Option<String>,
    pub files: Vec<SearchFile>,
    pub total: usize,
    /// True when the list stops at the limit; narrow the search.
    pub truncated: bool,
    /// Text files skipped for their size or because they are binary.
    pub skipped: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReplaceRequest {
    /// The search, as it was sent to /search.
    pub q: String,
    #[serde(default)]
    pub regex: bool,
    #[serde(default)]
    pub case: bool,
    /// The new text; `$1`, `${name}` insert groups in regex mode.
    pub replacement: String,
    /// The files to change, with the blob id the search returned for each.
    pub files: Vec<FileAtBlob>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FileAtBlob {
    pub path: String,
    pub sha: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Replaced {
    pub path: String,
    /// The file's new blob id.
    pub sha: String,
    pub replacements: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplaceResult {
    /// The new version.
    pub version: String,
    pub files: Vec<Replaced>,
    pub replacements: usize,
}
