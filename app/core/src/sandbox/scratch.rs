//! The build-output folders of a working tree (`.next`, `dist`, …): the
//! project is mounted read-only, so each gets a tmpfs in the container, and
//! the folder under that tmpfs must be a plain one the sandbox user can use.

use super::SandboxError;
use crate::confined::{Confined, FsError, Kind};
use std::path::Path;

/// Each build-output folder of the working tree is missing or a plain folder.
pub(super) fn check_scratch_dirs(tree: &Path, dirs: &[String]) -> Result<(), SandboxError> {
    let fs = Confined::new(tree);
    for dir in dirs {
        match fs.kind(dir) {
            Ok(None) | Ok(Some(Kind::Folder)) => {}
            Ok(Some(Kind::Link)) => return Err(scratch_refused(dir, &FsError::Link(dir.clone()))),
            Ok(Some(_)) => return Err(scratch_refused(dir, &FsError::NotAFolder(dir.clone()))),
            Err(e) => return Err(scratch_refused(dir, &e)),
        }
    }
    Ok(())
}

fn scratch_refused(dir: &str, e: &FsError) -> SandboxError {
    SandboxError::Invalid(format!(
        "{e}; the build-output folder {dir} must be a plain folder (remove it from the repository)"
    ))
}

/// A tmpfs mounted over an existing folder takes that folder's mode, so the
/// folder must be writable by the sandbox user. The working tree is the
/// project's (a push can put a link at `.next`), so the folder is made and
/// its mode set without following any link (`crate::confined`).
pub(crate) fn make_scratch_dir(tree: &Path, dir: &str) -> Result<(), SandboxError> {
    Confined::new(tree)
        .folder_with_mode(dir, 0o1777)
        .map_err(|e| match e {
            FsError::Link(_) | FsError::NotAFolder(_) => scratch_refused(dir, &e),
            e => SandboxError::Io(std::io::Error::other(e.to_string())),
        })
}
