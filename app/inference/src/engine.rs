//! Loading a model and generating with it (one sequence, greedy or seeded).
//! The batching scheduler of the worker builds on the same pieces.

use crate::manifest::{Manifest, ModelSpec};
use crate::{files, ModelError};
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::logit_bias::LlamaLogitBias;
use llama_cpp_2::token::LlamaToken;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::OnceLock;

/// llama.cpp's backend may be started once per process.
fn backend() -> Result<&'static LlamaBackend, ModelError> {
    static BACKEND: OnceLock<LlamaBackend> = OnceLock::new();
    if let Some(b) = BACKEND.get() {
        return Ok(b);
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
    fn sampler(&self, n_vocab: i32) -> LlamaSampler {
        let mut chain = Vec::new();
        if !self.logit_bias.is_empty() {
            let biases: Vec<LlamaLogitBias> = self
                .logit_bias
                .iter()
                .filter(|(t, _)| (0..n_vocab).contains(t))
                .map(|(t, b)| {
                    LlamaLogitBias::new(
                        LlamaToken::new(*t),
                        if *b <= -100.0 { f32::NEG_INFINITY } else { *b },
                    )
                })
                .collect();
            chain.push(LlamaSampler::logit_bias(n_vocab, &biases));
        }
        match self.temperature {
            Some(t) if t > 0.0 => {
                if let Some(p) = self.top_p.filter(|p| *p > 0.0 && *p < 1.0) {
                    chain.push(LlamaSampler::top_p(p, 1));
                }
                chain.push(LlamaSampler::temp(t));
                chain.push(LlamaSampler::dist(self.seed.unwrap_or(0)));
            }
            _ => chain.push(LlamaSampler::greedy()),
        }
        LlamaSampler::chain_simple(chain)
    }
}

/// How much of `text` may be released while watching for stop strings:
/// everything before a suffix that could still grow into one of them.
fn releasable(text: &str, stops: &[String]) -> usize {
    let mut keep = 0;
    for stop in stops {
        for len in (1..stop.len()).rev() {
            if len <= text.len()
                && text.is_char_boundary(text.len() - len)
                && stop.starts_with(&text[text.len() - len..])
            {
                keep = keep.max(len);
                break;
            }
        }
    }
    text.len() - keep
}

/// What one generation produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    pub text: String,
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    /// `stop` (end of sequence), `length` (max_tokens reached) or
    /// `cancelled` (the receiver stopped listening).
    pub finish_reason: &'static str,
}

impl Engine {
    /// Checks the file (header, sha256 when the manifest has one), loads it
    /// and settles its chat template. Every failure names the file.
    pub fn load(manifest: &Manifest, spec: &ModelSpec) -> Result<Self, ModelError> {
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
        let engine = Self {
            spec: spec.clone(),
            path,
            model,
            template,
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

    /// Generates up to `max_tokens` after `prompt`.
    pub fn generate(
        &self,
        prompt: &str,
        max_tokens: usize,
        threads: i32,
        sampling: &Sampling,
    ) -> Result<Generation, ModelError> {
        self.generate_with(prompt, max_tokens, threads, sampling, |_| true)
    }

    /// Like [`Engine::generate`], handing each piece of text to `on_text` as
    /// it is decoded; `on_text` returning false stops at once (a client that
    /// went away frees the engine).
    pub fn generate_with(
        &self,
        prompt: &str,
        max_tokens: usize,
        threads: i32,
        sampling: &Sampling,
        mut on_text: impl FnMut(&str) -> bool,
    ) -> Result<Generation, ModelError> {
        let engine_err = |e: &dyn std::fmt::Display| ModelError::Engine(e.to_string());
        let vocab = self.model.vocab();
        let tokens = vocab.tokenize(prompt.as_bytes(), true, true);
        let context = self.spec.context;
        if tokens.len() + max_tokens > context as usize {
            return Err(ModelError::PromptTooLong {
                tokens: tokens.len() + max_tokens,
                context,
            });
        }
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(context))
            .with_n_batch(context)
            .with_n_threads(threads)
            .with_n_threads_batch(threads);
        let mut ctx = self
            .model
            .new_context(backend()?, params)
            .map_err(|e| engine_err(&e))?;
        let mut batch = LlamaBatch::new(tokens.len().max(1), 1);
        let last = tokens.len().saturating_sub(1);
        for (i, token) in tokens.iter().enumerate() {
            batch
                .add(*token, i as i32, &[0], i == last)
                .map_err(|e| engine_err(&e))?;
        }
        ctx.decode(&mut batch).map_err(|e| engine_err(&e))?;
        let mut sampler = sampling.sampler(self.model.n_vocab());
        // Bytes of a UTF-8 character split across tokens wait for the rest;
        // text that might begin a stop string waits until it cannot.
        let mut pending = Vec::new();
        let mut text = String::new();
        let mut released = 0;
        let mut position = tokens.len() as i32;
        let mut produced = 0;
        let mut finish_reason = "length";
        while produced < max_tokens {
            let token = sampler.sample(&ctx, batch.n_tokens() - 1);
            sampler.accept(token);
            if vocab.is_eog(token) {
                finish_reason = "stop";
                break;
            }
            pending.extend(vocab.token_to_piece(token, false, None));
            produced += 1;
            let ready = match std::str::from_utf8(&pending) {
                Ok(s) => s.len(),
                Err(e) if e.error_len().is_none() => e.valid_up_to(),
                Err(_) => pending.len(), // invalid bytes: pass them on, lossily
            };
            if ready > 0 {
                let piece = String::from_utf8_lossy(&pending[..ready]).into_owned();
                pending.drain(..ready);
                text.push_str(&piece);
                // A stop string may straddle earlier text not yet released.
                let found = sampling
                    .stop
                    .iter()
                    .filter_map(|s| text[released..].find(s.as_str()).map(|i| i + released))
                    .min();
                if let Some(at) = found {
                    text.truncate(at);
                    finish_reason = "stop";
                    break;
                }
                let upto = releasable(&text, &sampling.stop);
                if upto > released {
                    let out = text[released..upto].to_string();
                    released = upto;
                    if !on_text(&out) {
                        finish_reason = "cancelled";
                        break;
                    }
                }
            }
            batch.clear();
            batch
                .add(token, position, &[0], true)
                .map_err(|e| engine_err(&e))?;
            position += 1;
            ctx.decode(&mut batch).map_err(|e| engine_err(&e))?;
        }
        if !pending.is_empty() && finish_reason == "length" {
            text.push_str(&String::from_utf8_lossy(&pending));
        }
        if released < text.len() && finish_reason != "cancelled" {
            on_text(&text[released..]);
        }
        Ok(Generation {
            text,
            prompt_tokens: tokens.len(),
            completion_tokens: produced,
            finish_reason,
        })
    }

    pub fn id(&self) -> &str {
        &self.spec.id
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
}
