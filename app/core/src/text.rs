//! Validation and normalisation of text that people type.

/// Why a piece of text was refused; the message is shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidText {
    pub field: &'static str,
    pub reason: String,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> InvalidText {
    InvalidText {
        field,
        reason: reason.into(),
    }
}

/// A display name (person or project): trimmed, 1..=max characters, no control characters.
pub fn display_name(field: &'static str, raw: &str, max: usize) -> Result<String, InvalidText> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(invalid(field, format!("must be at most {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(value.to_string())
}

/// Free text such as a description: trimmed, at most `max` characters; newlines
/// and tabs are fine, other control characters are not.
pub fn free_text(field: &'static str, raw: &str, max: usize) -> Result<String, InvalidText> {
    let value = raw.trim();
    if value.chars().count() > max {
        return Err(invalid(field, format!("must be at most {max} characters")));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(value.to_string())
}

/// An email address, lower-cased. Deliberately simple: one `@`, something on
/// both sides, a dot or `localhost` in the domain, no spaces; the mail issue
/// confirms addresses by actually sending mail.
pub fn email(raw: &str) -> Result<String, InvalidText> {
    let value = raw.trim().to_lowercase();
    let bad = || {
        invalid(
            "email",
            "must be a valid email address, like ada@example.com",
        )
    };
    if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = value.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || local.len() > 64
        || domain.is_empty()
        || domain.contains('@')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || !(domain.contains('.') || domain == "localhost")
    {
        return Err(bad());
    }
    Ok(value)
}

/// A URL- and git-safe slug: lowercase ASCII letters, digits and single dashes.
/// Text without any such character gives `fallback`.
pub fn slug(raw: &str, fallback: &str, max: usize) -> String {
    let mut out = String::new();
    for c in raw.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= max {
            break;
        }
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() {
        fallback.to_string()
    } else {
        out
    }
}

/// The longest start of `s` of at most `max` bytes that ends on a
/// character boundary (cutting text to a size never splits a character).
pub fn prefix(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub fn like_pattern(needle: &str) -> String {
    let mut out = String::from("%");
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_end_on_a_character() {
        assert_eq!(prefix("héllo", 2), "h");
        assert_eq!(prefix("héllo", 3), "hé");
        assert_eq!(prefix("abc", 10), "abc");
    }

    #[test]
    fn slugs_are_ascii_and_never_empty() {
        assert_eq!(slug("My  App!", "project", 40), "my-app");
        assert_eq!(slug("日本語", "project", 40), "project");
        assert_eq!(slug("../etc/passwd", "project", 40), "etc-passwd");
        assert_eq!(slug(&"a".repeat(100), "p", 10).len(), 10);
    }

    #[test]
    fn emails() {
        assert_eq!(email(" Ada@Example.COM ").unwrap(), "ada@example.com");
        assert!(email("root@localhost").is_ok());
        assert!(email("no-at-sign").is_err());
        assert!(email("a@b").is_err());
        assert!(email("a b@c.d").is_err());
        assert!(email("@c.d").is_err());
    }

    #[test]
    fn names() {
        assert_eq!(display_name("name", "  Zoë 🚀 ", 10).unwrap(), "Zoë 🚀");
        assert!(display_name("name", "   ", 10).is_err());
        assert!(display_name("name", "a\u{0}b", 10).is_err());
        assert!(display_name("name", &"é".repeat(11), 10).is_err());
    }

    #[test]
    fn like_escapes_wildcards() {
        assert_eq!(like_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
    }
}
