//! Random credentials and their hashes.

use rand::{distributions::Alphanumeric, Rng};
use sha2::{Digest, Sha256};

/// A random string of `len` ASCII letters and digits from the OS CSPRNG.
/// 32 characters carry about 190 bits.
pub fn random_token(len: usize) -> String {
    rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A random DNS-label-safe id (lowercase letters and digits), used for
/// project ids because they become preview host names (`p-<id>.<domain>`).
pub fn random_label(len: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    (0..len)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// Lowercase hex SHA-256, how session ids and API tokens are stored.
pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
