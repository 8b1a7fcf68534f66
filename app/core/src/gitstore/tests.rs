use super::*;

fn store() -> (tempfile::TempDir, GitStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = GitStore::new(dir.path()).unwrap();
    (dir, store)
}

fn ada() -> Author {
    Author {
        name: "Ada".into(),
        email: "ada@example.com".into(),
    }
}

#[test]
fn create_restore_branches_and_diff() {
    let (_d, s) = store();
    let first = s.create("p1", "static", &ada()).unwrap();
    assert!(
        s.worktree_path("p1").join("index.html").exists(),
        "the working tree follows the head"
    );
    let (log, total) = s.history("p1", None, 0, 10).unwrap();
    assert_eq!(total, 1);
    assert_eq!(log[0].author.kind, "person");
    assert!(log[0]
        .files
        .iter()
        .any(|f| f.path == "index.html" && f.status == "added"));

    // A second version, written directly as an agent would.
    let second = {
        let repo = s.open("p1").unwrap();
        let head = repo.head().unwrap().peel_to_commit().unwrap();
        let files = vec![
            ("index.html".to_string(), b"<h1>changed</h1>\n".to_vec()),
            ("new.txt".to_string(), b"hi\n".to_vec()),
        ];
        let tree = repo.find_tree(tree::write(&repo, &files).unwrap()).unwrap();
        let sig = Author::agent("Developer").signature().unwrap();
        repo.commit(
            Some("HEAD"),
            &sig,
            &sig,
            "Rewrite the page",
            &tree,
            &[&head],
        )
        .unwrap()
    };
    s.sync_worktree("p1").unwrap();
    assert_eq!(
        std::fs::read_to_string(s.worktree_path("p1").join("index.html")).unwrap(),
        "<h1>changed</h1>\n"
    );
    assert!(
        !s.worktree_path("p1").join("style.css").exists(),
        "deleted files leave the working tree"
    );

    let v = s.version("p1", &second.to_string()).unwrap();
    assert_eq!(
        (v.author.kind, v.author.role.as_deref()),
        ("agent", Some("developer"))
    );
    let diff = s
        .diff("p1", &first.to_string(), &second.to_string())
        .unwrap();
    let page = diff.iter().find(|f| f.path == "index.html").unwrap();
    assert_eq!(page.status, "modified");
    assert!(
        page.patch.contains("+<h1>changed</h1>") && page.patch.starts_with("diff --git"),
        "{}",
        page.patch
    );
    assert!(diff
        .iter()
        .any(|f| f.path == "new.txt" && f.status == "added"));

    // Restore the first version as a new commit.
    let restored = s.restore("p1", &first.to_string(), &ada()).unwrap();
    assert_eq!(
        restored.parents,
        vec![second.to_string()],
        "history is kept"
    );
    assert!(s.worktree_path("p1").join("style.css").exists());
    assert!(matches!(
        s.restore("p1", &first.to_string(), &ada()),
        Err(GitError::Conflict(_))
    ));
    assert_eq!(s.history("p1", None, 0, 10).unwrap().1, 3);

    // Branches.
    s.create_branch("p1", "experiment", Some(&second.to_string()))
        .unwrap();
    assert!(matches!(
        s.create_branch("p1", "experiment", None),
        Err(GitError::Conflict(_))
    ));
    for bad in [
        "",
        "..",
        "a..b",
        "-x",
        "/abs",
        "x.lock",
        "HEAD",
        "a b",
        "a\0b",
        &"x".repeat(101),
    ] {
        assert!(
            matches!(s.create_branch("p1", bad, None), Err(GitError::Invalid(_))),
            "{bad:?}"
        );
    }
    s.switch_branch("p1", "experiment").unwrap();
    assert_eq!(s.current_branch("p1").unwrap(), "experiment");
    assert!(s.worktree_path("p1").join("new.txt").exists());
    assert!(matches!(
        s.delete_branch("p1", "experiment"),
        Err(GitError::Conflict(_))
    ));
    s.switch_branch("p1", "main").unwrap();
    s.delete_branch("p1", "experiment").unwrap();
    assert_eq!(s.branches("p1").unwrap().len(), 1);
}

#[test]
fn duplicate_and_delete() {
    let (_d, s) = store();
    s.create("a", "vite-react", &ada()).unwrap();
    s.duplicate("a", "b").unwrap();
    assert_eq!(
        s.history("b", None, 0, 5).unwrap().0[0].sha,
        s.history("a", None, 0, 5).unwrap().0[0].sha
    );
    assert!(s.worktree_path("b").join("src/App.tsx").exists());
    s.delete("a").unwrap();
    assert!(!s.repo_exists("a") && !s.worktree_path("a").exists());
    assert!(s.repo_exists("b"));
    assert!(matches!(s.open("a"), Err(GitError::NotFound(_))));
}

#[test]
fn every_template_has_starter_files() {
    for t in crate::templates::TEMPLATES {
        let files = templates::files(t.id).unwrap_or_default();
        assert!(
            files.iter().any(|(p, _)| p == "README.md"),
            "{} has a README",
            t.id
        );
    }
    assert!(templates::files("nope").is_none());
}
