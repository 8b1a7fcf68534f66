//! Push webhooks from GitHub and Gitea. The body is untrusted until its
//! signature checks: HMAC-SHA256 of the raw body with the project's webhook
//! secret, hex, in `X-Hub-Signature-256: sha256=<hex>` (GitHub, Gitea and
//! Forgejo send it) or `X-Gitea-Signature: <hex>` (Gitea). Compared in
//! constant time (`Mac::verify_slice`).

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// True when either header carries the body's signature under `secret`.
pub fn verify(secret: &[u8], body: &[u8], github: Option<&str>, gitea: Option<&str>) -> bool {
    let given = match (github, gitea) {
        (Some(h), _) => match h.trim().strip_prefix("sha256=") {
            Some(hex) => hex,
            None => return false,
        },
        (None, Some(h)) => h.trim(),
        (None, None) => return false,
    };
    let Ok(given) = hex::decode(given) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// The signature a sender computes (tests, and the docs' example).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The branch a push event is for (`"ref": "refs/heads/<branch>"`); None
/// for anything else (a tag, a ping, a body that is not a push event).
pub fn pushed_branch(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Push {
        #[serde(rename = "ref")]
        reference: String,
    }
    let push: Push = serde_json::from_slice(body).ok()?;
    push.reference
        .strip_prefix("refs/heads/")
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_and_gitea_signatures() {
        let body = br#"{"ref":"refs/heads/main"}"#;
        let sig = sign(b"s3cret", body);
        // A value from GitHub's documentation: secret "It's a Secret to
        // Everybody", body "Hello, World!".
        assert_eq!(
            sign(b"It's a Secret to Everybody", b"Hello, World!"),
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        assert!(verify(
            b"s3cret",
            body,
            Some(&format!("sha256={sig}")),
            None
        ));
        assert!(verify(b"s3cret", body, None, Some(&sig)));
        assert!(verify(b"s3cret", body, None, Some(&sig.to_uppercase())));
    }

    #[test]
    fn bad_signatures_fail() {
        let body = br#"{"ref":"refs/heads/main"}"#;
        let sig = sign(b"s3cret", body);
        assert!(!verify(
            b"other",
            body,
            Some(&format!("sha256={sig}")),
            None
        ));
        assert!(!verify(b"s3cret", b"{}", None, Some(&sig)));
        assert!(
            !verify(b"s3cret", body, Some(&sig), None),
            "prefix required"
        );
        assert!(!verify(b"s3cret", body, Some("sha256=zz"), None));
        assert!(!verify(b"s3cret", body, Some("sha256="), None));
        assert!(!verify(b"s3cret", body, None, None));
        assert!(!verify(b"s3cret", body, None, Some(&sig[..10])));
    }

    #[test]
    fn the_pushed_branch() {
        assert_eq!(
            pushed_branch(br#"{"ref":"refs/heads/main","after":"x"}"#).as_deref(),
            Some("main")
        );
        assert_eq!(pushed_branch(br#"{"ref":"refs/tags/v1"}"#), None);
        assert_eq!(pushed_branch(br#"{"zen":"ping"}"#), None);
        assert_eq!(pushed_branch(b"not json"), None);
    }
}
