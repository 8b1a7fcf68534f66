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
    /// How a version is built and served when it is published.
    pub publish: PublishRecipe,
}

/// The `[publish]` table: how a deployment is built and served.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishRecipe {
    pub serve: ServeKind,
    /// Shell command run in `/workspace` (the version's files, read-only)
    /// with `NODE_ENV=production`; none: the files are the site.
    pub build: Option<String>,
    /// Folder in the build container that holds the output.
    pub output: Option<String>,
    /// Where the output goes in the deployment: the root when absent
    /// (static sites), else this folder next to the version's files (apps
    /// with a server need both).
    pub output_into: Option<String>,
    /// Paths (relative to `output`) left out of the deployment, e.g. caches.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Static sites: unknown paths without an extension get `index.html`
    /// (client-side routing).
    #[serde(default)]
    pub spa: bool,
    /// Server apps: the command that serves the built app, and its port.
    pub start: Option<String>,
    pub port: Option<u16>,
    /// Server apps: folders of the deployment it writes to (each a tmpfs).
    #[serde(default)]
    pub scratch: Vec<String>,
}

/// Who answers a published app's requests.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ServeKind {
    /// The appliance, from the deployment's files.
    Static,
    /// A long-lived container per live deployment, behind the appliance.
    Server,
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
            let p = &m.publish;
            assert_eq!(
                p.build.is_some(),
                p.output.is_some(),
                "{}: build and output go together",
                t.id
            );
            if p.serve == super::ServeKind::Server {
                assert!(
                    p.start.is_some() && p.port.is_some() && p.output_into.is_some(),
                    "{}",
                    t.id
                );
            }
        }
    }
}
