use super::*;
use std::os::unix::fs::{symlink, PermissionsExt};

/// A project folder with links planted as a push would: at a folder, at a
/// file, at the temporary names a writer might pick, and a link loop.
struct Planted {
    project: tempfile::TempDir,
    outside: tempfile::TempDir,
}

impl Planted {
    fn new() -> Self {
        let project = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let p = project.path();
        std::fs::write(outside.path().join("host-only-file"), "host data").unwrap();
        std::fs::set_permissions(outside.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::create_dir(p.join("src")).unwrap();
        std::fs::write(p.join("app.js"), "one").unwrap();
        symlink(outside.path(), p.join("out")).unwrap();
        symlink(outside.path().join("host-only-file"), p.join("secret")).unwrap();
        symlink(
            outside.path().join("host-only-file"),
            p.join(".app.js.autocrea-tmp"),
        )
        .unwrap();
        symlink(outside.path(), p.join(".next")).unwrap();
        symlink("src", p.join("alias")).unwrap();
        symlink("loop", p.join("loop")).unwrap();
        Self { project, outside }
    }
    fn fs(&self) -> Confined {
        Confined::new(self.project.path())
    }
    /// Everything outside, as (name, content, mode): unchanged is the point.
    fn outside_state(&self) -> Vec<(String, String, u32)> {
        let mut v: Vec<_> = std::fs::read_dir(self.outside.path())
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read_to_string(e.path()).unwrap_or_default(),
                    0,
                )
            })
            .collect();
        v.push((
            ".".into(),
            String::new(),
            std::fs::metadata(self.outside.path())
                .unwrap()
                .permissions()
                .mode(),
        ));
        v.sort();
        v
    }
}

#[test]
fn writes_replace_files_atomically_and_never_follow_a_planted_temp_name() {
    let t = Planted::new();
    let before = t.outside_state();
    t.fs().write("app.js", b"two", true).unwrap();
    assert_eq!(
        std::fs::read_to_string(t.project.path().join("app.js")).unwrap(),
        "two"
    );
    assert_eq!(t.outside_state(), before);
    // The planted link is still just a link; no temporary file is left.
    assert!(
        std::fs::symlink_metadata(t.project.path().join(".app.js.autocrea-tmp"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let left: Vec<_> = t
        .fs()
        .list("")
        .unwrap()
        .into_iter()
        .filter(|e| e.name.ends_with(TEMP_SUFFIX) && e.kind == Kind::File)
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_link_in_any_component_is_refused() {
    let t = Planted::new();
    let fs = t.fs();
    let before = t.outside_state();
    for path in ["out/new.txt", "out/host-only-file", "alias/x.js", "loop/x"] {
        assert!(
            matches!(fs.write(path, b"x", true), Err(FsError::Link(_))),
            "write {path}"
        );
        assert!(
            matches!(fs.read(path, 100), Err(FsError::Link(_))),
            "read {path}"
        );
        assert!(
            matches!(fs.list(path), Err(FsError::Link(_))),
            "list {path}"
        );
        assert!(fs.remove_file(path).is_err(), "remove {path}");
        assert!(fs.rename("app.js", path).is_err(), "rename to {path}");
    }
    for path in ["secret", "out", "loop"] {
        assert!(
            matches!(fs.read(path, 100), Err(FsError::Link(_))),
            "read {path}"
        );
    }
    assert!(matches!(
        fs.folder_with_mode(".next", 0o1777),
        Err(FsError::Link(_))
    ));
    assert!(matches!(
        fs.folder_with_mode(".next/cache", 0o1777),
        Err(FsError::Link(_))
    ));
    assert_eq!(fs.kind("out").unwrap(), Some(Kind::Link));
    assert!(matches!(
        fs.kind("out/host-only-file"),
        Err(FsError::Link(_))
    ));
    assert_eq!(t.outside_state(), before, "nothing outside changed");
    assert_eq!(
        std::fs::read_to_string(t.project.path().join("app.js")).unwrap(),
        "one"
    );
}

#[test]
fn writing_over_a_link_replaces_the_link_not_its_target() {
    let t = Planted::new();
    let before = t.outside_state();
    t.fs().write("secret", b"mine", true).unwrap();
    assert_eq!(t.outside_state(), before);
    assert_eq!(t.fs().kind("secret").unwrap(), Some(Kind::File));
    // Without replace, an existing entry (even a link) stays.
    assert!(matches!(
        t.fs().write("out", b"x", false),
        Err(FsError::Exists(_))
    ));
    assert_eq!(t.fs().kind("out").unwrap(), Some(Kind::Link));
}

#[test]
fn folders_files_and_limits() {
    let t = Planted::new();
    let fs = t.fs();
    fs.write("src/deep/new/file.ts", b"x", false).unwrap();
    assert_eq!(fs.kind("src/deep/new").unwrap(), Some(Kind::Folder));
    assert!(matches!(
        fs.write("app.js/inner", b"x", true),
        Err(FsError::NotAFolder(_))
    ));
    assert!(matches!(
        fs.read("missing.txt", 10),
        Err(FsError::NotFound(_))
    ));
    assert_eq!(fs.kind("missing/deeper").unwrap(), None);
    assert!(matches!(
        fs.read("app.js", 2),
        Err(FsError::TooLarge {
            size: 3,
            max: 2,
            ..
        })
    ));
    fs.rename("src/deep/new/file.ts", "moved/file.ts").unwrap();
    assert!(matches!(
        fs.rename("app.js", "moved/file.ts"),
        Err(FsError::Exists(_))
    ));
    fs.folder_with_mode(".cache/build", 0o1777).unwrap();
    let mode = std::fs::metadata(t.project.path().join(".cache/build"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o1777);
    let mut names: Vec<_> = fs
        .list("")
        .unwrap()
        .into_iter()
        .map(|e| (e.name, e.kind))
        .collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        names.contains(&("out".into(), Kind::Link))
            && names.contains(&("src".into(), Kind::Folder))
    );
    for bad in ["/etc/passwd", "../x", "a/../b", "x\0y", ""] {
        let r = fs.write(bad, b"x", true);
        assert!(matches!(r, Err(FsError::InvalidPath(_))), "{bad:?}: {r:?}");
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("out".to_string()),
            Just("alias".to_string()),
            Just("loop".to_string()),
            Just("secret".to_string()),
            Just(".next".to_string()),
            Just("..".to_string()),
            Just(".".to_string()),
            Just(String::new()),
            Just("src".to_string()),
            Just(".app.js.autocrea-tmp".to_string()),
            "[a-z.]{1,12}",
            "\\PC{1,8}",
        ]
    }

    fn path() -> impl Strategy<Value = String> {
        (prop::collection::vec(segment(), 1..5), any::<bool>()).prop_map(|(s, lead)| {
            let p = s.join("/");
            if lead {
                format!("/{p}")
            } else {
                p
            }
        })
    }

    #[derive(Debug, Clone)]
    enum Op {
        Write(String, bool),
        Read(String),
        Remove(String),
        Rename(String, String),
        List(String),
        Mode(String),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (path(), any::<bool>()).prop_map(|(p, r)| Op::Write(p, r)),
            path().prop_map(Op::Read),
            path().prop_map(Op::Remove),
            (path(), path()).prop_map(|(a, b)| Op::Rename(a, b)),
            path().prop_map(Op::List),
            path().prop_map(Op::Mode),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Whatever paths and operations come, nothing outside the project
        /// changes, nothing outside is read, and no error names a host path.
        #[test]
        fn nothing_outside_is_touched(ops in prop::collection::vec(op(), 1..12)) {
            let t = Planted::new();
            let fs = t.fs();
            let before = t.outside_state();
            let host = t.project.path().display().to_string();
            let outside = t.outside.path().display().to_string();
            for op in ops {
                let err = match &op {
                    Op::Write(p, r) => fs.write(p, b"agent text", *r).err(),
                    Op::Read(p) => match fs.read(p, 1 << 20) {
                        Ok(data) => { prop_assert_ne!(data, b"host data".to_vec(), "{:?} read outside", op); None }
                        Err(e) => Some(e),
                    },
                    Op::Remove(p) => fs.remove_file(p).err(),
                    Op::Rename(a, b) => fs.rename(a, b).err(),
                    Op::List(p) => match fs.list(p) {
                        Ok(entries) => { prop_assert!(!entries.iter().any(|e| e.name == "host-only-file"), "{:?} listed outside", op); None }
                        Err(e) => Some(e),
                    },
                    Op::Mode(p) => fs.folder_with_mode(p, 0o1777).err(),
                };
                if let Some(e) = err {
                    let text = e.to_string();
                    prop_assert!(!text.contains(&host) && !text.contains(&outside), "{text}");
                }
            }
            prop_assert_eq!(t.outside_state(), before);
        }
    }
}
