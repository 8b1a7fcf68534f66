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
    assert_eq!(log[0].author.kind.as_str(), "person");
    assert!(log[0]
        .files
        .iter()
        .any(|f| f.path == "index.html" && f.status.as_str() == "added"));

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
        (v.author.kind.as_str(), v.author.role.as_deref()),
        ("agent", Some("developer"))
    );
    let diff = s
        .diff("p1", &first.to_string(), &second.to_string())
        .unwrap();
    let page = diff.iter().find(|f| f.path == "index.html").unwrap();
    assert_eq!(page.status.as_str(), "modified");
    assert!(
        page.patch.contains("+<h1>changed</h1>") && page.patch.starts_with("diff --git"),
        "{}",
        page.patch
    );
    assert!(diff
        .iter()
        .any(|f| f.path == "new.txt" && f.status.as_str() == "added"));

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

/// A `core.fsmonitor` command in a repository's config (the attack wrote
/// one through a link) runs at any plain `git add`, but never at the
/// appliance's: its git processes run with fsmonitor and hooks off.
#[test]
fn git_never_runs_a_repository_configs_commands() {
    let (dir, store) = store();
    store.create("p1", "static", &ada()).unwrap();
    let marker = dir.path().join("ran");
    let config = store.repo_path("p1").join("config");
    let clean = std::fs::read_to_string(&config).unwrap();
    let hooks = dir.path().join("hooks");
    std::fs::create_dir(&hooks).unwrap();
    let hook = hooks.join("pre-commit");
    std::fs::write(
        &hook,
        format!("#!/bin/sh\ntouch {}.hook\n", marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(
        &config,
        format!(
            "{clean}[core]\n\tfsmonitor = \"touch {}\"\n\thooksPath = {}\n",
            marker.display(),
            hooks.display()
        ),
    )
    .unwrap();
    std::fs::write(store.worktree_path("p1").join("new.txt"), "x").unwrap();

    // The test can fail: git on its own does run it.
    let plain = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(store.repo_path("p1"))
        .arg("--work-tree")
        .arg(store.worktree_path("p1"))
        .args(["status", "--porcelain"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(plain.status.success());
    assert!(marker.exists(), "plain git runs core.fsmonitor");
    std::fs::remove_file(&marker).unwrap();

    store
        .commit_worktree("p1", "Add a file", &ada())
        .unwrap()
        .expect("a commit");
    store.worktree_diff("p1", 1000).unwrap();
    store.discard_worktree_changes("p1").unwrap();
    assert!(!marker.exists(), "the appliance's git ran core.fsmonitor");
    assert!(
        !dir.path().join("ran.hook").exists(),
        "the appliance's git ran a hook"
    );

    // And the start-up audit takes the foreign settings out.
    let fixed = store.audit_configs().unwrap();
    assert_eq!(
        fixed,
        [(
            "p1".to_string(),
            vec!["core.fsmonitor".to_string(), "core.hookspath".to_string()]
        )]
    );
    let after = std::fs::read_to_string(&config).unwrap();
    assert!(
        !after.contains("fsmonitor") && !after.contains("hooksPath"),
        "{after}"
    );
    assert!(
        store.audit_configs().unwrap().is_empty(),
        "a clean config stays as it is"
    );
}

/// Saving under a path whose parent is a committed link (or a file) is a
/// conflict with a clear message, never a libgit2 error.
#[test]
fn a_file_cannot_be_saved_under_a_link_or_a_file() {
    let (_dir, store) = store();
    store.create("p1", "static", &ada()).unwrap();
    let repo = store.open("p1").unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    let link = repo.blob(b"/etc").unwrap();
    let mut update = git2::build::TreeUpdateBuilder::new();
    update.upsert("src", link, git2::FileMode::Link);
    let tree = update.create_updated(&repo, &head.tree().unwrap()).unwrap();
    let sig = Signature::now("Ada", "ada@example.com").unwrap();
    repo.commit(
        Some("HEAD"),
        &sig,
        &sig,
        "link",
        &repo.find_tree(tree).unwrap(),
        &[&head],
    )
    .unwrap();
    drop(head);
    drop(repo);
    for (path, what) in [
        ("src/app.js", "src is a symbolic link"),
        ("index.html/x.js", "index.html is a file"),
    ] {
        let e = store
            .write_file("p1", None, None, path, Some(b"x"), None, "save", &ada())
            .unwrap_err();
        assert!(
            matches!(&e, GitError::Conflict(m) if m.contains(what)),
            "{path}: {e}"
        );
    }
}

/// A `commondir` file (written, say, through a link before the file layer
/// existed) makes git take its config from a folder anyone can push: the
/// appliance's git ignores it, and the start-up audit removes it.
#[test]
fn a_commondir_cannot_bring_in_pushed_config() {
    let (dir, store) = store();
    store.create("p1", "static", &ada()).unwrap();
    let wt = store.worktree_path("p1");
    let marker = dir.path().join("filter-ran");
    let evil = wt.join("evil");
    for sub in ["objects", "refs"] {
        std::fs::create_dir_all(evil.join(sub)).unwrap();
        std::fs::write(evil.join(sub).join(".keep"), "").unwrap();
    }
    std::fs::write(
        evil.join("config"),
        format!(
            "[filter \"x\"]\n\tclean = \"touch {}; cat\"\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::write(wt.join(".gitattributes"), "* filter=x\n").unwrap();
    std::fs::write(
        store.repo_path("p1").join("commondir"),
        "../../worktrees/p1/evil\n",
    )
    .unwrap();

    let plain = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(store.repo_path("p1"))
        .arg("--work-tree")
        .arg(&wt)
        .args(["add", "--all", "--", "."])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(
        marker.exists(),
        "plain git follows commondir: {}",
        String::from_utf8_lossy(&plain.stderr)
    );
    std::fs::remove_file(&marker).unwrap();
    // (plain git wrote an index against the foreign common dir; start clean)
    let _ = std::fs::remove_file(store.repo_path("p1").join("index"));

    let _ = store.commit_worktree("p1", "Add", &ada());
    let _ = store.worktree_diff("p1", 1000);
    assert!(!marker.exists(), "the appliance's git followed commondir");

    let fixed = store.audit_configs().unwrap();
    assert_eq!(fixed.len(), 1, "{fixed:?}");
    assert!(fixed[0].1.contains(&"commondir".to_string()), "{fixed:?}");
    assert!(!store.repo_path("p1").join("commondir").exists());
}

/// A config git cannot parse, or one that includes another file, is
/// replaced whole at start without being read through.
#[test]
fn an_unparsable_or_including_config_is_replaced() {
    let (dir, store) = store();
    store.create("p1", "static", &ada()).unwrap();
    store.create("p2", "static", &ada()).unwrap();
    let fifo = dir.path().join("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    std::fs::write(
        store.repo_path("p1").join("config"),
        "[core\n\tbare = \n[[[",
    )
    .unwrap();
    std::fs::write(
        store.repo_path("p2").join("config"),
        format!("[include]\n\tpath = {}\n", fifo.display()),
    )
    .unwrap();
    let mut fixed = store.audit_configs().unwrap();
    fixed.sort();
    assert_eq!(
        fixed.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
        ["p1", "p2"],
        "{fixed:?}"
    );
    assert!(store.audit_configs().unwrap().is_empty());
    assert!(store.history("p1", None, 0, 10).is_ok() && store.history("p2", None, 0, 10).is_ok());
}
