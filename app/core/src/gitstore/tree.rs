//! Writing a set of files as a git tree.

use super::GitError;
use git2::{Oid, Repository};
use std::collections::BTreeMap;

enum Node {
    File(Vec<u8>),
    Dir(BTreeMap<String, Node>),
}

/// Writes `files` (relative paths with `/`) and returns the root tree id.
pub fn write(repo: &Repository, files: &[(String, Vec<u8>)]) -> Result<Oid, GitError> {
    let mut root = BTreeMap::new();
    for (path, data) in files {
        let parts: Vec<&str> = path.split('/').collect();
        if parts
            .iter()
            .any(|p| p.is_empty() || *p == "." || *p == ".." || *p == ".git")
        {
            return Err(GitError::Invalid(format!("invalid file path {path:?}")));
        }
        insert(&mut root, &parts, data.clone())?;
    }
    write_dir(repo, &root)
}

fn insert(dir: &mut BTreeMap<String, Node>, parts: &[&str], data: Vec<u8>) -> Result<(), GitError> {
    match parts {
        [name] => {
            dir.insert(name.to_string(), Node::File(data));
            Ok(())
        }
        [name, rest @ ..] => match dir
            .entry(name.to_string())
            .or_insert_with(|| Node::Dir(BTreeMap::new()))
        {
            Node::Dir(sub) => insert(sub, rest, data),
            Node::File(_) => Err(GitError::Invalid(format!(
                "{name} is both a file and a folder"
            ))),
        },
        [] => Ok(()),
    }
}

fn write_dir(repo: &Repository, dir: &BTreeMap<String, Node>) -> Result<Oid, GitError> {
    let mut builder = repo.treebuilder(None)?;
    for (name, node) in dir {
        match node {
            Node::File(data) => builder.insert(name, repo.blob(data)?, 0o100644)?,
            Node::Dir(sub) => builder.insert(name, write_dir(repo, sub)?, 0o040000)?,
        };
    }
    Ok(builder.write()?)
}
