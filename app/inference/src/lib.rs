//! The llama.cpp engine behind `autocrea llm-worker`: which models exist
//! (`models/models.toml`), whether their files are sound, loading them and
//! generating text. The scheduler and the OpenAI-compatible worker build on it.

pub mod engine;
pub mod files;
pub mod head;
pub mod manifest;
pub mod scheduler;
pub mod structured;
mod text_stream;

pub use engine::{Engine, Generation, LoadOptions, Sampling};
pub use manifest::{Manifest, ModelSpec, Purpose};
pub use scheduler::{
    slot_context, Event, Job, Scheduler, SchedulerOptions, SchedulerStatus, SubmitError,
};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read the model manifest {path}: {message}")]
    Manifest { path: PathBuf, message: String },
    #[error("model file {path} does not exist; run models/fetch.sh or point the manifest at your GGUF file")]
    Missing { path: PathBuf },
    #[error("model file {path} is not a GGUF file ({reason})")]
    NotGguf { path: PathBuf, reason: String },
    #[error("model file {path} does not match its sha256 in the manifest (expected {expected}, found {found}); it may be truncated or replaced")]
    ChecksumMismatch {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("llama.cpp could not load {path}: the file is incomplete, corrupt or of an unsupported architecture")]
    LoadFailed { path: PathBuf },
    #[error("unknown chat template {name:?} for model {model}; use a llama.cpp built-in name such as gemma, chatml or llama3")]
    UnknownTemplate { model: String, name: String },
    #[error(
        "model {0} has no chat template in its GGUF file; set chat_template in models/models.toml"
    )]
    NoTemplate(String),
    #[error(
        "the prompt does not fit: {tokens} prompt tokens for a context of {context} per request"
    )]
    PromptTooLong { tokens: usize, context: u32 },
    #[error("the grammar is not valid GBNF: {0}")]
    BadGrammar(String),
    #[error("the JSON schema cannot be turned into a grammar: {0}")]
    BadSchema(String),
    #[error("llama.cpp failed: {0}")]
    Engine(String),
    #[error("file error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}
