//! Checks of a model file before llama.cpp sees it, so a bad, missing or
//! truncated file is an error naming the file, never a crash.

use crate::ModelError;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// The GGUF header: magic `GGUF` and a version llama.cpp reads (2 or 3).
pub fn check_header(path: &Path) -> Result<(), ModelError> {
    let io = |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    };
    if !path.exists() {
        return Err(ModelError::Missing {
            path: path.to_path_buf(),
        });
    }
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut header = [0u8; 8];
    let read = file.read(&mut header).map_err(io)?;
    let not_gguf = |reason: &str| ModelError::NotGguf {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    if read < 8 {
        return Err(not_gguf("the file is shorter than a GGUF header"));
    }
    if &header[..4] != b"GGUF" {
        return Err(not_gguf("it does not start with the GGUF magic"));
    }
    let version = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if !(2..=3).contains(&version) {
        return Err(not_gguf(&format!("unsupported GGUF version {version}")));
    }
    Ok(())
}

/// Streams the file through SHA-256 and compares.
pub fn check_sha256(path: &Path, expected: &str) -> Result<(), ModelError> {
    let io = |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let found = hex::encode(hasher.finalize());
    if !found.eq_ignore_ascii_case(expected) {
        return Err(ModelError::ChecksumMismatch {
            path: path.to_path_buf(),
            expected: expected.to_string(),
            found,
        });
    }
    Ok(())
}
