//! What the appliance needs to know to run and check each template's project:
//! `compose/sandbox/<template>/template.toml`, embedded at build time.

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateManifest {
    /// Shell command that starts the dev server in `/workspace`.
    pub dev_command: String,
    /// Port the dev server listens on inside the container.
    pub port: u16,
    /// Project folders the tools write to (build output); each becomes a
    /// tmpfs because the project itself is mounted read-only.
    #[serde(default)]
    pub scratch: Vec<String>,
    #[serde(default)]
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub name: String,
    pub kind: CheckKind,
    pub command: String,
    /// How to read the output: `tsc`, `node` or `generic` (`file:line:col: message`).
    pub parser: Parser,
    #[serde(default = "default_check_timeout")]
    pub timeout_secs: u64,
}

fn default_check_timeout() -> u64 {
    120
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    Build,
    Lint,
    Typecheck,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Parser {
    Tsc,
    Node,
    Generic,
}

const SOURCES: &[(&str, &str)] = &[
    (
        "static",
        include_str!("../../../../compose/sandbox/static/template.toml"),
    ),
    (
        "vite-react",
        include_str!("../../../../compose/sandbox/vite-react/template.toml"),
    ),
    (
        "nextjs",
        include_str!("../../../../compose/sandbox/nextjs/template.toml"),
    ),
];

/// The manifest of `template`, or `None` for a template without a sandbox.
pub fn for_template(template: &str) -> Option<&'static TemplateManifest> {
    static PARSED: OnceLock<HashMap<&'static str, TemplateManifest>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            SOURCES
                .iter()
                .map(|(id, text)| {
                    // The manifests ship inside the binary; a unit test parses them all.
                    let m = toml::from_str(text)
                        .unwrap_or_else(|e| panic!("template manifest {id} is invalid: {e}"));
                    (*id, m)
                })
                .collect()
        })
        .get(template)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_has_a_valid_manifest() {
        for t in crate::templates::TEMPLATES {
            let m = super::for_template(t.id).expect(t.id);
            assert!(m.port > 0 && !m.dev_command.is_empty());
        }
    }
}
