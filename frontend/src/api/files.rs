//! A project's files: the tree, one file, saving, renaming, deleting,
//! search and replace.

use super::projects::path as project;
use super::{encode, send, send_json, ApiFailure};
use autocrea_wire::files::{
    FileTree, FileView, RenameFile, ReplaceRequest, ReplaceResult, SaveFile, Saved, SearchResult,
};

/// `/api/v1/projects/{id}/file?path=...`: one file's endpoint.
fn file(project_id: &str, path: &str) -> String {
    format!("{}/file?path={}", project(project_id), encode(path))
}

/// The query of a search: the text percent-encoded, the two switches as words.
fn search_query(q: &str, regex: bool, case: bool) -> String {
    format!("q={}&regex={regex}&case={case}", encode(q))
}

/// `GET /projects/{id}/files`: every file of the current version.
pub async fn tree(project_id: &str) -> Result<FileTree, ApiFailure> {
    super::get(&format!("{}/files", project(project_id))).await
}

/// `GET /projects/{id}/file?path=`: the file in the current version.
pub async fn read(project_id: &str, path: &str) -> Result<FileView, ApiFailure> {
    super::get(&file(project_id, path)).await
}

/// `GET /projects/{id}/file?path=&ref=`: the file in version `reference`.
pub async fn read_at(
    project_id: &str,
    path: &str,
    reference: &str,
) -> Result<FileView, ApiFailure> {
    super::get(&format!("{}&ref={reference}", file(project_id, path))).await
}

/// `PUT /projects/{id}/file?path=`: saves (or creates) the file as a new version.
pub async fn save(project_id: &str, path: &str, body: &SaveFile) -> Result<Saved, ApiFailure> {
    send_json("PUT", &file(project_id, path), body).await
}

/// `DELETE /projects/{id}/file?path=&sha=`: `sha` is the blob last read.
pub async fn delete(project_id: &str, path: &str, sha: &str) -> Result<Saved, ApiFailure> {
    send("DELETE", &format!("{}&sha={sha}", file(project_id, path))).await
}

/// `POST /projects/{id}/file/rename`.
pub async fn rename(project_id: &str, body: &RenameFile) -> Result<Saved, ApiFailure> {
    send_json(
        "POST",
        &format!("{}/file/rename", project(project_id)),
        body,
    )
    .await
}

/// `GET /projects/{id}/search`: matches of `q` in the current version.
pub async fn search(
    project_id: &str,
    q: &str,
    regex: bool,
    case: bool,
) -> Result<SearchResult, ApiFailure> {
    super::get(&format!(
        "{}/search?{}",
        project(project_id),
        search_query(q, regex, case)
    ))
    .await
}

/// `POST /projects/{id}/replace`: every listed file as one new version.
pub async fn replace(project_id: &str, body: &ReplaceRequest) -> Result<ReplaceResult, ApiFailure> {
    send_json("POST", &format!("{}/replace", project(project_id)), body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            search_query("a b&c=é", true, false),
            "q=a%20b%26c%3D%C3%A9&regex=true&case=false"
        );
        assert_eq!(
            file("p1", "src/a b.rs"),
            "/api/v1/projects/p1/file?path=src%2Fa%20b.rs"
        );
    }
}
