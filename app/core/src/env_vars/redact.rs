//! Secret values taken out of text the appliance keeps or shows (build
//! logs). Values are replaced longest first, so a value that contains
//! another is not left half shown; each line of a multi-line value (a PEM
//! key) is its own pattern, because logs are kept line by line.

/// Values shorter than this are not redacted: replacing every `1` or `dev`
/// in a log would hide the log, not a secret.
pub const MIN_SECRET: usize = 4;

const MASK: &str = "••••••";

#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first.
    patterns: Vec<String>,
}

impl Redactor {
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut patterns: Vec<String> = values
            .into_iter()
            .flat_map(|v| {
                v.lines()
                    .map(str::trim)
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter(|p| p.chars().count() >= MIN_SECRET)
            .collect();
        patterns.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        patterns.dedup();
        Self { patterns }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// `text` with every secret value masked.
    pub fn apply(&self, text: &str) -> String {
        let mut out = text.to_string();
        for p in &self.patterns {
            if out.contains(p.as_str()) {
                out = out.replace(p.as_str(), MASK);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_longest_first_and_each_line() {
        let r = Redactor::new([
            "abcd",
            "abcdefgh",
            "-----BEGIN KEY-----\nMIIEvQIBADANBg\n-----END KEY-----",
            "no",
        ]);
        assert_eq!(r.apply("x abcdefgh y abcd z"), "x •••••• y •••••• z");
        assert_eq!(r.apply("key: MIIEvQIBADANBg"), "key: ••••••");
        // Short values stay: they are not secrets worth hiding a log for.
        assert_eq!(r.apply("no no"), "no no");
        assert!(Redactor::new(["ab"]).is_empty());
    }
}
