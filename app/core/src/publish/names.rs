//! Site names: the DNS label in an app's address. The rule itself is in
//! `autocrea_wire::publish::check_site_name`, shared with the UI.

pub use autocrea_wire::publish::{check_site_name, deployment_suffix};

/// A valid site name made from a project slug (slugs are already lowercase
/// letters, digits and hyphens; this keeps the name within the rule).
pub fn from_slug(slug: &str) -> String {
    let mut name: String = slug
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while name.contains("--") {
        name = name.replace("--", "-");
    }
    let mut name = name.trim_matches('-').chars().take(32).collect::<String>();
    name = name.trim_end_matches('-').to_string();
    if name.is_empty() {
        name = "app".into();
    }
    if check_site_name(&name).is_err() {
        // Ends like a deployment's address: make it a plain name.
        name.push_str("-app");
    }
    name
}

/// `base` with a number, for the next free name.
pub fn with_number(base: &str, n: u32) -> String {
    format!("{base}-{n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_slugs_are_valid() {
        for slug in [
            "todo",
            "My--App",
            "-x-",
            "",
            "tool-deadbeef",
            &"a".repeat(60),
        ] {
            let n = from_slug(slug);
            assert!(check_site_name(&n).is_ok(), "{slug} -> {n}");
            assert!(check_site_name(&with_number(&n, 7)).is_ok());
        }
        assert_eq!(from_slug("todo"), "todo");
        assert_eq!(from_slug("tool-deadbeef"), "tool-deadbeef-app");
    }
}
