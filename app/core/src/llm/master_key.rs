//! The 256-bit master key. Given by `AUTOCREA_MASTER_KEY` (base64 or hex),
//! or generated on first start into `<data>/master.key` (mode 0600, written
//! atomically). Losing it makes stored provider keys unreadable; users then
//! add them again.

use super::LlmStoreError;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

#[derive(Clone)]
pub struct MasterKey {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

fn decode(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    let bytes = hex::decode(text)
        .ok()
        .or_else(|| base64::engine::general_purpose::STANDARD.decode(text).ok())?;
    bytes.try_into().ok()
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(&bytes.into()),
        }
    }

    /// The key from `env_value` when set, else from `<data_dir>/master.key`,
    /// created when missing.
    pub fn load_or_create(data_dir: &Path, env_value: Option<&str>) -> Result<Self, LlmStoreError> {
        if let Some(v) = env_value {
            return decode(v)
                .map(Self::from_bytes)
                .ok_or(LlmStoreError::MasterKey {
                    path: "AUTOCREA_MASTER_KEY".into(),
                    message: "expected 32 bytes as 64 hex digits or base64".into(),
                });
        }
        let path = data_dir.join("master.key");
        let err = |message: String| LlmStoreError::MasterKey {
            path: path.display().to_string(),
            message,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let mode = std::fs::metadata(&path)?.permissions().mode();
                if mode & 0o077 != 0 {
                    return Err(err(format!(
                        "its permissions are {:o}; others may read it (chmod 600)",
                        mode & 0o777
                    )));
                }
                decode(&text)
                    .map(Self::from_bytes)
                    .ok_or_else(|| err("expected 32 bytes as base64".into()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir)?;
                let mut bytes = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut bytes);
                let tmp = data_dir.join(".master.key.tmp");
                let _ = std::fs::remove_file(&tmp);
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&tmp)?;
                writeln!(
                    f,
                    "{}",
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                )?;
                f.sync_all()?;
                drop(f);
                // Another process may have won the race: keep its key.
                if std::fs::hard_link(&tmp, &path).is_err() {
                    let _ = std::fs::remove_file(&tmp);
                    return Self::load_or_create(data_dir, None);
                }
                let _ = std::fs::remove_file(&tmp);
                Ok(Self::from_bytes(bytes))
            }
            Err(e) => Err(err(e.to_string())),
        }
    }

    /// `(nonce, ciphertext)` of `plain`, bound to `context`.
    pub fn seal(&self, plain: &[u8], context: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: context,
                },
            )
            .expect("XChaCha20-Poly1305 encryption does not fail");
        (nonce.to_vec(), ct)
    }

    pub fn open(
        &self,
        nonce: &[u8],
        ciphertext: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, LlmStoreError> {
        if nonce.len() != 24 {
            return Err(LlmStoreError::Decrypt);
        }
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .map_err(|_| LlmStoreError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_and_bound_to_context() {
        let dir = tempfile::tempdir().unwrap();
        let a = MasterKey::load_or_create(dir.path(), None).unwrap();
        let mode = std::fs::metadata(dir.path().join("master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let b = MasterKey::load_or_create(dir.path(), None).unwrap();
        let (n, c) = a.seal(b"sk-secret", b"user 1 openai");
        assert_eq!(b.open(&n, &c, b"user 1 openai").unwrap(), b"sk-secret");
        assert!(
            b.open(&n, &c, b"user 2 openai").is_err(),
            "bound to its owner"
        );
        assert!(
            !c.windows(9).any(|w| w == b"sk-secret"),
            "not stored in clear"
        );
        std::fs::set_permissions(
            dir.path().join("master.key"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        assert!(MasterKey::load_or_create(dir.path(), None)
            .unwrap_err()
            .to_string()
            .contains("chmod 600"));
        let env = MasterKey::load_or_create(dir.path(), Some(&"ab".repeat(32))).unwrap();
        assert!(
            env.open(&n, &c, b"user 1 openai").is_err(),
            "a different key"
        );
        assert!(MasterKey::load_or_create(dir.path(), Some("short")).is_err());
    }
}
