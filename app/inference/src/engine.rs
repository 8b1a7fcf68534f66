//! Loading a model, its chat template, tokens, sampling settings and
//! grammars. Decoding itself is the scheduler's (`scheduler.rs`).

use crate::head::OutputHead;
use crate::manifest::{Manifest, ModelSpec};
use crate::{files, ModelError};
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// llama.cpp's backend may be started once per process.
pub(crate) fn backend() -> Result<&'static LlamaBackend, ModelError> {
    static BACKEND: OnceLock<LlamaBackend> = OnceLock::new();
    // Two threads loading models at once must not both try to start it.
    static STARTING: Mutex<()> = Mutex::new(());
    if let Some(b) = BACKEND.get() {
        return Ok(b);
    }
    let _starting = STARTING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(b) = BACKEND.get() {
        return Ok(b);
    }
    // ggml's tiled K-quant matrix kernel takes over from 8 rows up and sums
    // in another order than the one-row kernel, so a request's logits would
    // depend on how many requests shared its batch. ggml reads this switch
    // once, at its first matrix product, which is after this point.
    if std::env::var_os("GGML_CPU_TILED_MM").is_none() {
        // SAFETY: set before llama.cpp starts any thread; nothing else in
        // this process writes the environment.
        unsafe { std::env::set_var("GGML_CPU_TILED_MM", "0") };
    }
    let mut b = LlamaBackend::init().map_err(|e| ModelError::Engine(e.to_string()))?;
    b.void_logs();
    Ok(BACKEND.get_or_init(|| b))
}

/// A loaded model with its chat template.
pub struct Engine {
    pub spec: ModelSpec,
    pub path: PathBuf,
    model: LlamaModel,
    template: LlamaChatTemplate,
    head: Mutex<HeadState>,
}

/// Whether the logits come from AUTOCREA's output head (head/mod.rs).
enum HeadState {
    /// Loaded, not yet compared with llama.cpp.
    Unchecked(Arc<OutputHead>),
    Checked(Arc<OutputHead>),
    Off,
}

/// How to pick tokens. The default is greedy decoding.
#[derive(Debug, Clone, Default)]
pub struct Sampling {
    /// None or 0: greedy (deterministic).
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    /// Seed of the random choice when sampling; the same seed gives the same text.
    pub seed: Option<u32>,
    /// `(token id, bias)` added to the logits; -100 or less bans a token.
    pub logit_bias: Vec<(i32, f32)>,
    /// Generation ends before the first of these strings, which is not returned.
    pub stop: Vec<String>,
}

impl Sampling {
    /// The seeded chain for temperature sampling (logit biases are applied
    /// before it, by the scheduler).
    pub(crate) fn random_chain(&self) -> LlamaSampler {
        let mut chain = Vec::new();
        if let Some(p) = self.top_p.filter(|p| *p > 0.0 && *p < 1.0) {
            chain.push(LlamaSampler::top_p(p, 1));
        }
        chain.push(LlamaSampler::temp(self.temperature.unwrap_or(1.0)));
        chain.push(LlamaSampler::dist(self.seed.unwrap_or(0)));
        LlamaSampler::chain_simple(chain)
    }
}

/// What one generation produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    pub text: String,
    pub prompt_tokens: usize,
    /// Prompt tokens whose cache was reused from an earlier request.
    pub cached_tokens: usize,
    pub completion_tokens: usize,
    /// `stop` (end of sequence), `length` (max_tokens reached) or
    /// `cancelled` (the receiver stopped listening).
    pub finish_reason: &'static str,
}

/// How to load a model.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// AUTOCREA's output head for CPU models (head/mod.rs); off keeps
    /// llama.cpp's output product, to compare the two.
    pub output_head: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self { output_head: true }
    }
}

impl Engine {
    /// Checks the file (header, sha256 when the manifest has one), loads it
    /// and settles its chat template. Every failure names the file.
    pub fn load(manifest: &Manifest, spec: &ModelSpec) -> Result<Self, ModelError> {
        Self::load_with(manifest, spec, LoadOptions::default())
    }

    /// [`Engine::load`] with options.
    pub fn load_with(
        manifest: &Manifest,
        spec: &ModelSpec,
        options: LoadOptions,
    ) -> Result<Self, ModelError> {
        let path = manifest.path_of(spec);
        files::check_header(&path)?;
        if let Some(sha) = &spec.sha256 {
            files::check_sha256(&path, sha)?;
        }
        let params = LlamaModelParams::default().with_n_gpu_layers(spec.gpu_layers);
        let model = LlamaModel::load_from_file(backend()?, &path, &params)
            .map_err(|_| ModelError::LoadFailed { path: path.clone() })?;
        let template = match &spec.chat_template {
            Some(name) => {
                LlamaChatTemplate::new(name).map_err(|_| ModelError::UnknownTemplate {
                    model: spec.id.clone(),
                    name: name.clone(),
                })?
            }
            None => model
                .chat_template(None)
                .map_err(|_| ModelError::NoTemplate(spec.id.clone()))?,
        };
        let head = Mutex::new(if options.output_head {
            load_output_head(spec, &path, &model)
        } else {
            tracing::info!(
                "output head off for {}: turned off in the configuration",
                spec.id
            );
            HeadState::Off
        });
        let engine = Self {
            spec: spec.clone(),
            path,
            model,
            template,
            head,
        };
        // An unknown template name fails here, at load, not on the first request.
        engine
            .chat_prompt(&[("user".into(), "hello".into())])
            .map_err(|_| ModelError::UnknownTemplate {
                model: spec.id.clone(),
                name: spec
                    .chat_template
                    .clone()
                    .unwrap_or_else(|| "(from the GGUF file)".into()),
            })?;
        Ok(engine)
    }

    /// The prompt for a conversation of `(role, content)` messages, ending
    /// where the assistant's answer begins.
    pub fn chat_prompt(&self, messages: &[(String, String)]) -> Result<String, ModelError> {
        let chat = messages
            .iter()
            .map(|(role, content)| LlamaChatMessage::new(role.clone(), content.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ModelError::Engine(e.to_string()))?;
        self.model
            .apply_chat_template(&self.template, &chat, true)
            .map_err(|e| ModelError::Engine(e.to_string()))
    }

    /// The prompt's tokens (with the model's beginning-of-sequence token).
    pub fn tokenize(&self, text: &str) -> Vec<LlamaToken> {
        self.model.vocab().tokenize(text.as_bytes(), true, true)
    }

    /// A sampler that keeps the output inside a GBNF grammar (root `root`).
    pub fn grammar_sampler(&self, grammar: &str) -> Result<LlamaSampler, ModelError> {
        LlamaSampler::grammar(&self.model, grammar, "root")
            .map_err(|e| ModelError::BadGrammar(e.to_string()))
    }

    /// Bytes of the weights llama.cpp holds.
    pub fn model_bytes(&self) -> u64 {
        self.model.size()
    }

    /// Bytes of keys and values one token takes in the cache (f16).
    pub fn kv_bytes_per_token(&self) -> u64 {
        let m = &self.model;
        let arch = m.meta_val_str("general.architecture").unwrap_or_default();
        let dim = |what: &str| {
            m.meta_val_str(&format!("{arch}.attention.{what}_length"))
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(m.n_embd() as u64 / m.n_head().max(1) as u64)
        };
        m.n_layer() as u64 * m.n_head_kv() as u64 * (dim("key") + dim("value")) * 2
    }

    /// Whether a scheduler should install the graph callback the output
    /// head needs.
    pub(crate) fn may_use_output_head(&self) -> bool {
        !matches!(
            *self.head.lock().unwrap_or_else(|e| e.into_inner()),
            HeadState::Off
        )
    }

    /// The output head, compared once with llama.cpp's logits by `check`
    /// (on a context the caller owns) before its first use; None when this
    /// model uses llama.cpp's own output product.
    pub(crate) fn output_head(
        &self,
        check: impl FnOnce(&OutputHead) -> Result<(), String>,
    ) -> Option<Arc<OutputHead>> {
        let mut state = self.head.lock().unwrap_or_else(|e| e.into_inner());
        match &*state {
            HeadState::Off => None,
            HeadState::Checked(h) => Some(h.clone()),
            HeadState::Unchecked(h) => {
                let h = h.clone();
                match check(&h) {
                    Ok(()) => {
                        match h.release_llama_copy() {
                            Ok(bytes) => tracing::info!(
                                "output head on for {}: {} MB of llama.cpp's copy released",
                                self.spec.id,
                                bytes >> 20
                            ),
                            Err(e) => {
                                tracing::warn!("output head: llama.cpp's copy stays mapped: {e}")
                            }
                        }
                        *state = HeadState::Checked(h.clone());
                        Some(h)
                    }
                    Err(why) => {
                        tracing::warn!("output head off for {}: {why}", self.spec.id);
                        *state = HeadState::Off;
                        None
                    }
                }
            }
        }
    }

    /// After a scheduler lost track of the head's rows (head/tap.rs): every
    /// scheduler started from now on uses llama.cpp's output product.
    pub(crate) fn turn_off_output_head(&self) {
        *self.head.lock().unwrap_or_else(|e| e.into_inner()) = HeadState::Off;
    }

    /// Whether logits come from the output head (after its check).
    pub fn uses_output_head(&self) -> bool {
        matches!(
            *self.head.lock().unwrap_or_else(|e| e.into_inner()),
            HeadState::Checked(_)
        )
    }

    pub(crate) fn model(&self) -> &LlamaModel {
        &self.model
    }

    pub fn id(&self) -> &str {
        &self.spec.id
    }
}

/// The output head for a CPU-only model whose output weights it handles.
fn load_output_head(spec: &ModelSpec, path: &std::path::Path, model: &LlamaModel) -> HeadState {
    let off = |why: String| {
        tracing::info!("output head off for {}: {why}", spec.id);
        HeadState::Off
    };
    if spec.gpu_layers != 0 {
        return off("layers are offloaded to a GPU".into());
    }
    let arch = model
        .meta_val_str("general.architecture")
        .unwrap_or_default();
    let softcap = model
        .meta_val_str(&format!("{arch}.final_logit_softcapping"))
        .ok()
        .and_then(|v| v.parse::<f32>().ok())
        .filter(|c| *c > 0.0);
    match OutputHead::load(
        path,
        model.n_embd() as usize,
        model.n_vocab() as usize,
        softcap,
    ) {
        Ok(h) => HeadState::Unchecked(Arc::new(h)),
        Err(why) => off(why),
    }
}

impl Engine {
    /// Token ids that end a generation (end of sequence, end of turn...).
    pub fn end_of_generation_tokens(&self) -> Vec<i32> {
        let vocab = self.model.vocab();
        vocab
            .tokens()
            .filter(|t| vocab.is_eog(*t))
            .map(|t| t.0)
            .collect()
    }

    /// Greedy sampling that never ends early: the end-of-generation tokens
    /// are banned, so a generation runs to `max_tokens` (fixed-length
    /// outputs for tests and benchmarks).
    pub fn sampling_without_end(&self) -> Sampling {
        Sampling {
            logit_bias: self
                .end_of_generation_tokens()
                .into_iter()
                .map(|t| (t, -100.0))
                .collect(),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod build_tests {
    /// `.cargo/config.toml` keeps ggml's Intel AMX kernels out of the build:
    /// on the Sapphire Rapids guests we build on, the release worker died
    /// with SIGILL in them while loading the model. ggml reports the
    /// instruction sets it was compiled for; this fails if the flags that
    /// leave AMX out stop reaching its compiler.
    #[test]
    fn ggml_is_compiled_without_amx_kernels() {
        // SAFETY: a pure query of compile-time constants.
        let amx = unsafe { llama_cpp_sys_2::ggml_cpu_has_amx_int8() };
        assert_eq!(
            amx, 0,
            "ggml was compiled with AMX: CFLAGS/CXXFLAGS_x86_64_unknown_linux_gnu in .cargo/config.toml did not reach it"
        );
    }
}
