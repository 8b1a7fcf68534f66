//! Password rules and argon2id hashing.

use super::AccountError;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;

/// The most common passwords and the patterns people reach for first; all
/// comparisons are case-insensitive.
const COMMON: &[&str] = &[
    "password",
    "password1",
    "password12",
    "password123",
    "password1234",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "12345678",
    "123456789",
    "1234567890",
    "12341234",
    "11111111",
    "00000000",
    "87654321",
    "88888888",
    "99999999",
    "12121212",
    "11223344",
    "123123123",
    "1q2w3e4r",
    "1qaz2wsx",
    "qwertyui",
    "qwertyuiop",
    "qwerty123",
    "qwerty12",
    "asdfghjk",
    "asdfasdf",
    "zxcvbnm1",
    "iloveyou",
    "iloveyou1",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "welcome1",
    "welcome123",
    "letmein1",
    "letmein123",
    "abc12345",
    "abcd1234",
    "abcdefgh",
    "trustno1",
    "superman",
    "starwars",
    "whatever",
    "computer",
    "internet",
    "master123",
    "michelle",
    "jennifer",
    "jordan23",
    "basketball",
    "changeme",
    "changeme123",
    "administrator",
    "admin123",
    "admin1234",
    "adminadmin",
    "rootroot",
    "toor1234",
    "secret123",
    "monkey123",
    "dragon123",
    "shadow123",
    "hello123",
    "freedom1",
    "mustang1",
    "access14",
    "batman123",
    "charlie1",
    "donald123",
    "aa123456",
    "a1234567",
    "qazwsxedc",
    "zaq12wsx",
    "1q2w3e4r5t",
    "q1w2e3r4",
    "q1w2e3r4t5",
    "passwort",
    "motdepasse",
    "contraseña",
    "senha123",
    "autocrea",
    "autocrea1",
    "autocrea123",
    "default1",
    "testtest",
    "test1234",
    "test12345",
    "guest123",
];

/// Checks the rules: 8 to 128 characters, not a well-known password, not the
/// email or its local part.
pub fn validate(password: &str, email: &str) -> Result<(), AccountError> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(AccountError::WeakPassword(format!(
            "password must be at least {MIN_LEN} characters"
        )));
    }
    if len > MAX_LEN {
        return Err(AccountError::WeakPassword(format!(
            "password must be at most {MAX_LEN} characters"
        )));
    }
    let lower = password.to_lowercase();
    if COMMON.contains(&lower.as_str()) {
        return Err(AccountError::WeakPassword(
            "this password is one of the most common ones; choose another".into(),
        ));
    }
    if password
        .chars()
        .all(|c| c == password.chars().next().unwrap_or(' '))
    {
        return Err(AccountError::WeakPassword(
            "password must not be one repeated character".into(),
        ));
    }
    let email = email.to_lowercase();
    let local = email.split('@').next().unwrap_or_default();
    if lower == email || (!local.is_empty() && lower == local) {
        return Err(AccountError::WeakPassword(
            "password must not be your email address".into(),
        ));
    }
    Ok(())
}

/// argon2id with OWASP's minimum: 19 MiB, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes on a blocking thread: about 20-40 ms of CPU that must not stall the reactor.
pub async fn hash(password: &str) -> Result<String, AccountError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AccountError::Hashing(e.to_string()))
    })
    .await
    .map_err(|e| AccountError::Hashing(e.to_string()))?
}

/// Verifies on a blocking thread. A malformed stored hash counts as a mismatch.
pub async fn verify(password: &str, stored: &str) -> bool {
    let (password, stored) = (password.to_owned(), stored.to_owned());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|parsed| {
                hasher()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password, verified against when the account does not
/// exist so that a wrong email costs as much time as a wrong password.
pub async fn dummy_verify(password: &str) {
    use std::sync::OnceLock;
    static DUMMY: OnceLock<String> = OnceLock::new();
    let stored = match DUMMY.get() {
        Some(h) => h.clone(),
        None => {
            let h = hash(&crate::secrets::random_token(24))
                .await
                .unwrap_or_default();
            DUMMY.get_or_init(|| h).clone()
        }
    };
    let _ = verify(password, &stored).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(validate("short", "a@b.c").is_err());
        assert!(
            validate("Password123", "a@b.c").is_err(),
            "common, any case"
        );
        assert!(validate("aaaaaaaaaa", "a@b.c").is_err());
        assert!(validate("ada.lovelace", "ada.lovelace@example.com").is_err());
        assert!(validate(&"x".repeat(129), "a@b.c").is_err());
        assert!(validate("correct horse battery", "a@b.c").is_ok());
        assert!(validate("ünïcödé-pässwörd", "a@b.c").is_ok());
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let h = hash("correct horse battery").await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery", &h).await);
        assert!(!verify("correct horse batterz", &h).await);
        assert!(!verify("x", "not a hash").await);
    }
}
