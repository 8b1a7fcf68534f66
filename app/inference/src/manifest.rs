//! `models/models.toml`: the models an admin makes available.

use crate::ModelError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub id: String,
    pub file: String,
    pub sha256: Option<String>,
    pub chat_template: Option<String>,
    #[serde(default = "default_context")]
    pub context: u32,
    #[serde(default)]
    pub gpu_layers: u32,
    #[serde(default)]
    pub default: bool,
    /// What the model is for: `agent` (it can build apps) or `test` (a small
    /// model for the appliance's own tests, such as the development model the
    /// installer fetches; the UI says it cannot build apps).
    #[serde(default)]
    pub purpose: Purpose,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    #[default]
    Agent,
    Test,
}

fn default_context() -> u32 {
    4096
}

#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    #[serde(rename = "model")]
    pub models: Vec<ModelSpec>,
    /// The folder the files are in (the manifest's own folder).
    #[serde(skip)]
    pub dir: PathBuf,
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let err = |message: String| ModelError::Manifest {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let mut manifest: Manifest = toml::from_str(&text).map_err(|e| err(e.to_string()))?;
        manifest.dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        manifest.validate().map_err(err)?;
        Ok(manifest)
    }

    fn validate(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for m in &self.models {
            if m.id.is_empty()
                || !m
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
            {
                return Err(format!(
                    "model id {:?} must be letters, digits, '-', '_', '.' or ':'",
                    m.id
                ));
            }
            if !seen.insert(m.id.as_str()) {
                return Err(format!("model id {:?} appears twice", m.id));
            }
            if m.file.is_empty() || m.file.contains(['/', '\\']) || m.file.starts_with('.') {
                return Err(format!(
                    "model {}: file must be a file name in the models folder, not {:?}",
                    m.id, m.file
                ));
            }
            if let Some(sha) = &m.sha256 {
                if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(format!("model {}: sha256 must be 64 hex digits", m.id));
                }
            }
            if m.context < 256 {
                return Err(format!(
                    "model {}: context must be at least 256 tokens",
                    m.id
                ));
            }
        }
        match self.models.iter().filter(|m| m.default).count() {
            1 => Ok(()),
            n => Err(format!(
                "exactly one model must have default = true (found {n})"
            )),
        }
    }

    pub fn default_model(&self) -> &ModelSpec {
        self.models
            .iter()
            .find(|m| m.default)
            .expect("validated: one default")
    }

    pub fn get(&self, id: &str) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.id == id)
    }

    pub fn path_of(&self, spec: &ModelSpec) -> PathBuf {
        self.dir.join(&spec.file)
    }
}
