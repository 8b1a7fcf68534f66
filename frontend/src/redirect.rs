//! Where the appliance may send a browser after signing in (or into a
//! preview): a path on the same origin, and nothing a URL parser could read
//! as another host. Shared by the UI and the server, so every redirect that
//! takes a target from the request goes through this one check.

/// Whether `target` is a local path: it starts with a single `/`, and has no
/// backslash, control character or whitespace (nor, once decoded, a
/// backslash, a control character or a leading `//`).
///
/// Browsers' URL parsers drop tabs and newlines anywhere and read `\` as `/`,
/// so `/\t/evil.example` and `/\evil.example` become `//evil.example`, a
/// link to another host. The same check runs on the target with its
/// percent escapes decoded once, so a consumer that decodes once more
/// (`/%09/evil.example`) cannot be led off-site either.
pub fn is_local_path(target: &str) -> bool {
    is_plain_local_path(target) && stays_local_once_decoded(&percent_decode(target))
}

/// The target when it is a local path, else the root.
pub fn local_or_root(target: Option<&str>) -> String {
    target
        .filter(|t| is_local_path(t))
        .unwrap_or("/")
        .to_string()
}

fn is_plain_local_path(target: &str) -> bool {
    target.starts_with('/')
        && !target.starts_with("//")
        && !target.contains('\\')
        && !target.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// The decoded form only must not turn into another host; a space inside
/// it is harmless (a URL parser encodes it again), a tab or newline is not.
fn stays_local_once_decoded(decoded: &str) -> bool {
    decoded.starts_with('/')
        && !decoded.starts_with("//")
        && !decoded.contains('\\')
        && !decoded.chars().any(char::is_control)
}

/// `%XX` escapes decoded once; bad escapes stay as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escape {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_pass() {
        for ok in [
            "/",
            "/projects/abc",
            "/a/b?c=d&e=%2Fx#frag",
            "/files/my%2Bfile",
            "/my%20file",
            "/%E2%9C%93",
        ] {
            assert!(is_local_path(ok), "{ok:?} is local");
        }
    }

    #[test]
    fn anything_that_can_reach_another_host_fails() {
        for bad in [
            "",
            "evil.example",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/%09/evil.example",
            "/%0a/evil.example",
            "/%5cevil.example",
            "/%2F/evil.example",
            "%2F%2Fevil.example",
            "/ /evil.example",
            "/\u{a0}/evil.example",
            "/\u{2028}/evil.example",
            "/\u{0}/evil.example",
            "https://evil.example",
            "http:evil.example",
            "javascript:alert(1)",
            " /x",
        ] {
            assert!(!is_local_path(bad), "{bad:?} is refused");
        }
    }

    #[test]
    fn refused_targets_fall_back_to_the_root() {
        assert_eq!(local_or_root(Some("/%09/evil.example")), "/");
        assert_eq!(local_or_root(None), "/");
        assert_eq!(local_or_root(Some("/projects")), "/projects");
    }
}
