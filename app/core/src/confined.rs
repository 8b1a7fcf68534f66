//! File access inside a folder whose contents are untrusted: a project's
//! working tree (anyone who can push can commit symbolic links into it).
//!
//! Every operation walks the relative path one component at a time from a
//! descriptor of the root, opening each folder with
//! `O_DIRECTORY | O_NOFOLLOW` relative to the previous one (`openat`), so no
//! component may be a symbolic link, and a component swapped for a link
//! while we walk is caught too: the kernel refuses it (`ELOOP`). The last
//! component is never followed either: files are opened `O_NOFOLLOW`,
//! temporary files are created `O_CREAT | O_EXCL | O_NOFOLLOW` under random
//! names, and renames, removals and `stat` act on the entry itself.
//!
//! Why not `cap-std`: it keeps paths beneath the root but follows links that
//! resolve inside it, and a project's links must not be followed at all on
//! the host (the sandbox still sees them). Why not only `openat2` with
//! `RESOLVE_NO_SYMLINKS`: the walk gives the same guarantee on every kernel
//! with one code path, and costs a few system calls per component.
//!
//! Paths are the project's own (`src/app.js`): errors name them, never the
//! host folder.

use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags};
use rustix::io::Errno;
use std::ffi::OsStr;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum FsError {
    #[error("{0}: not a path inside the project")]
    InvalidPath(String),
    #[error("{0}: a symbolic link is on the way; the appliance never follows a project's links (they stay in git and in the sandbox)")]
    Link(String),
    #[error("{0} does not exist")]
    NotFound(String),
    #[error("{0}: a file is where a folder is needed")]
    NotAFolder(String),
    #[error("{0} already exists")]
    Exists(String),
    #[error("{path} is {size} bytes; the most read at once is {max}")]
    TooLarge { path: String, size: u64, max: u64 },
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

impl FsError {
    fn from_errno(path: &str, e: Errno) -> Self {
        match e {
            Errno::LOOP => Self::Link(path.into()),
            Errno::NOENT => Self::NotFound(path.into()),
            Errno::NOTDIR => Self::NotAFolder(path.into()),
            Errno::EXIST => Self::Exists(path.into()),
            e => Self::Io(path.into(), e.into()),
        }
    }
}

/// What is at a path, without following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Folder,
    Link,
    Other,
}

impl Kind {
    fn of(t: FileType) -> Self {
        match t {
            FileType::RegularFile => Kind::File,
            FileType::Directory => Kind::Folder,
            FileType::Symlink => Kind::Link,
            _ => Kind::Other,
        }
    }
}

/// One entry of a folder listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub kind: Kind,
}

/// A folder whose contents are untrusted. Holds only its (trusted) path:
/// each operation opens the root afresh, so a working tree that is moved
/// into place (the sandbox's warm pool) is always the one used.
#[derive(Debug, Clone)]
pub struct Confined {
    root: PathBuf,
}

const DIR_FLAGS: OFlags = OFlags::DIRECTORY
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC)
    .union(OFlags::RDONLY);

impl Confined {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn open_root(&self) -> Result<OwnedFd, FsError> {
        rustix::fs::open(
            &self.root,
            OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::RDONLY,
            Mode::empty(),
        )
        .map_err(|e| FsError::from_errno("the project folder", e))
    }

    /// The folder at `rel` (the root for an empty path), every component
    /// a real folder; created (mode 0755) where missing when `create`.
    fn folder(&self, rel: &[&OsStr], shown: &str, create: bool) -> Result<OwnedFd, FsError> {
        let mut fd = self.open_root()?;
        for part in rel {
            let next = match rustix::fs::openat(&fd, *part, DIR_FLAGS, Mode::empty()) {
                Err(Errno::NOENT) if create => {
                    match rustix::fs::mkdirat(&fd, *part, Mode::from_raw_mode(0o755)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(FsError::from_errno(shown, e)),
                    }
                    rustix::fs::openat(&fd, *part, DIR_FLAGS, Mode::empty())
                }
                other => other,
            };
            fd = next.map_err(|e| refusal(&fd, part, shown, e))?;
        }
        Ok(fd)
    }

    /// The parent folder's descriptor and the last component of `rel`.
    fn parent_of<'p>(&self, rel: &'p str, create: bool) -> Result<(OwnedFd, &'p OsStr), FsError> {
        let parts = split(rel)?;
        let (last, parents) = parts
            .split_last()
            .ok_or_else(|| FsError::InvalidPath(rel.into()))?;
        Ok((self.folder(parents, rel, create)?, last))
    }

    /// What is at `rel`; None when nothing is.
    pub fn kind(&self, rel: &str) -> Result<Option<Kind>, FsError> {
        let parts = split(rel)?;
        let Some((last, parents)) = parts.split_last() else {
            return Ok(Some(Kind::Folder));
        };
        let dir = match self.folder(parents, rel, false) {
            Ok(d) => d,
            Err(FsError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        match rustix::fs::statat(&dir, *last, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(Kind::of(FileType::from_raw_mode(st.st_mode)))),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(FsError::from_errno(rel, e)),
        }
    }

    /// The whole file at `rel`, refused when larger than `max` bytes.
    pub fn read(&self, rel: &str, max: u64) -> Result<Vec<u8>, FsError> {
        let (dir, last) = self.parent_of(rel, false)?;
        let fd = rustix::fs::openat(
            &dir,
            last,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
            Mode::empty(),
        )
        .map_err(|e| FsError::from_errno(rel, e))?;
        let st = rustix::fs::fstat(&fd).map_err(|e| FsError::from_errno(rel, e))?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            return Err(FsError::Io(
                rel.into(),
                std::io::Error::other("not a regular file"),
            ));
        }
        let size = st.st_size as u64;
        if size > max {
            return Err(FsError::TooLarge {
                path: rel.into(),
                size,
                max,
            });
        }
        let mut out = Vec::with_capacity(size as usize);
        let file = std::fs::File::from(fd);
        // `take` also bounds a file that grows while it is read.
        std::io::Read::read_to_end(&mut std::io::Read::take(file, max + 1), &mut out)
            .map_err(|e| FsError::Io(rel.into(), e))?;
        if out.len() as u64 > max {
            return Err(FsError::TooLarge {
                path: rel.into(),
                size: out.len() as u64,
                max,
            });
        }
        Ok(out)
    }

    /// Writes `data` to `rel` through a temporary file in the same folder
    /// and a rename, so a reader (the dev server) never sees half a file.
    /// Missing folders are created. With `replace` false an existing entry
    /// is never replaced (the rename is `RENAME_NOREPLACE`).
    pub fn write(&self, rel: &str, data: &[u8], replace: bool) -> Result<(), FsError> {
        let (dir, last) = self.parent_of(rel, true)?;
        let (tmp, file) = create_temp(&dir, last, rel)?;
        let written = write_all(file, data).map_err(|e| FsError::Io(rel.into(), e));
        let renamed = written.and_then(|()| {
            let flags = if replace {
                RenameFlags::empty()
            } else {
                RenameFlags::NOREPLACE
            };
            rustix::fs::renameat_with(&dir, tmp.as_slice(), &dir, last, flags)
                .map_err(|e| FsError::from_errno(rel, e))
        });
        if renamed.is_err() {
            let _ = rustix::fs::unlinkat(&dir, tmp.as_slice(), AtFlags::empty());
        }
        renamed
    }

    /// Removes the file (or link: the link itself) at `rel`.
    pub fn remove_file(&self, rel: &str) -> Result<(), FsError> {
        let (dir, last) = self.parent_of(rel, false)?;
        rustix::fs::unlinkat(&dir, last, AtFlags::empty()).map_err(|e| FsError::from_errno(rel, e))
    }

    /// Moves `from` to `to` (folders of `to` created), never over an
    /// existing entry.
    pub fn rename(&self, from: &str, to: &str) -> Result<(), FsError> {
        let (from_dir, from_last) = self.parent_of(from, false)?;
        let (to_dir, to_last) = self.parent_of(to, true)?;
        rustix::fs::renameat_with(
            &from_dir,
            from_last,
            &to_dir,
            to_last,
            RenameFlags::NOREPLACE,
        )
        .map_err(|e| match e {
            Errno::EXIST => FsError::Exists(to.into()),
            e => FsError::from_errno(from, e),
        })
    }

    /// The entries of the folder at `rel` (the root when empty), unsorted,
    /// without `.` and `..`.
    pub fn list(&self, rel: &str) -> Result<Vec<DirEntry>, FsError> {
        let fd = self.folder(&split(rel)?, rel, false)?;
        let dir = rustix::fs::Dir::read_from(&fd).map_err(|e| FsError::from_errno(rel, e))?;
        let mut out = Vec::new();
        for entry in dir {
            let entry = entry.map_err(|e| FsError::from_errno(rel, e))?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let kind = match entry.file_type() {
                FileType::Unknown => {
                    match rustix::fs::statat(&fd, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW) {
                        Ok(st) => Kind::of(FileType::from_raw_mode(st.st_mode)),
                        Err(_) => continue,
                    }
                }
                t => Kind::of(t),
            };
            out.push(DirEntry {
                name: String::from_utf8_lossy(name).into_owned(),
                kind,
            });
        }
        Ok(out)
    }

    /// Makes `rel` a real folder (creating it and its parents) with `mode`,
    /// set on the folder's own descriptor: a link there is refused, never
    /// followed to some other folder.
    pub fn folder_with_mode(&self, rel: &str, mode: u32) -> Result<(), FsError> {
        let fd = self.folder(&split(rel)?, rel, true)?;
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode)).map_err(|e| FsError::from_errno(rel, e))
    }
}

/// The error of opening `part` in `dir` as a folder. Linux answers
/// `ENOTDIR` rather than `ELOOP` for a link opened `O_DIRECTORY |
/// O_NOFOLLOW`, so a link is told apart from a file by looking at it.
fn refusal(dir: &OwnedFd, part: &OsStr, shown: &str, e: Errno) -> FsError {
    if e == Errno::NOTDIR {
        if let Ok(st) = rustix::fs::statat(dir, part, AtFlags::SYMLINK_NOFOLLOW) {
            if FileType::from_raw_mode(st.st_mode) == FileType::Symlink {
                return FsError::Link(shown.into());
            }
        }
    }
    FsError::from_errno(shown, e)
}

/// The components of a relative path: no root, no `.`/`..`, no empty part,
/// no NUL. Empty for the root.
fn split(rel: &str) -> Result<Vec<&OsStr>, FsError> {
    let bad = || FsError::InvalidPath(rel.into());
    if rel.contains('\0') || rel.starts_with('/') {
        return Err(bad());
    }
    let mut parts = Vec::new();
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(p) => parts.push(p),
            Component::CurDir if parts.is_empty() && rel == "." => {}
            _ => return Err(bad()),
        }
    }
    Ok(parts)
}

/// `.<name>.<random>.autocrea-tmp`, created exclusively (never an existing
/// entry, never through a link), mode 0644.
fn create_temp(
    dir: &OwnedFd,
    last: &OsStr,
    shown: &str,
) -> Result<(Vec<u8>, std::fs::File), FsError> {
    // Long names are cut so the temporary name stays under NAME_MAX.
    let stem: Vec<u8> = last.as_bytes().iter().copied().take(160).collect();
    for _ in 0..8 {
        let mut name = b".".to_vec();
        name.extend_from_slice(&stem);
        name.extend_from_slice(
            format!(".{}.autocrea-tmp", crate::secrets::random_label(10)).as_bytes(),
        );
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        match rustix::fs::openat(
            dir.as_fd(),
            OsStr::from_bytes(&name),
            flags,
            Mode::from_raw_mode(0o644),
        ) {
            Ok(fd) => return Ok((name, std::fs::File::from(fd))),
            Err(Errno::EXIST) => continue,
            Err(e) => return Err(FsError::from_errno(shown, e)),
        }
    }
    Err(FsError::Io(
        shown.into(),
        std::io::Error::other("no free temporary name"),
    ))
}

fn write_all(mut file: std::fs::File, data: &[u8]) -> std::io::Result<()> {
    file.write_all(data)?;
    file.flush()
}

/// Suffix of the temporary files `write` creates; they are never listed
/// or committed.
pub const TEMP_SUFFIX: &str = ".autocrea-tmp";

#[cfg(test)]
mod tests;
