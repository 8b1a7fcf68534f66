//! Continuous batching: one llama.cpp context, several sequence slots, one
//! decode thread.
//!
//! Each step decodes the next token of every generating slot and as much
//! waiting prompt as fits (one decode call for the generating slots, one per
//! prompt chunk), and samples every slot from its own row of logits. On
//! CPU-only hosts those logits come from AUTOCREA's output head (head/),
//! not llama.cpp's last matrix product. A request that arrives while others
//! generate joins the next step. Jobs are admitted in arrival order (fair
//! order) when a slot is free.
//!
//! A slot keeps its sequence's KV cache after its job ends; the next job whose
//! prompt starts with the same tokens (the next turn of a conversation) is put
//! in that slot and only its new tokens are decoded. A job whose receiver is
//! dropped (the client went away) leaves its slot at the next step.
//!
//! Same text alone or in a batch: every slot has its own KV stream (cells
//! 0..n are its positions 0..n, whatever the others do), attention runs
//! without the flash-attention kernels (which pick a differently ordered
//! algorithm by the number of rows in the batch), ggml's tiled matrix kernel
//! is off (engine.rs), and so are weight repacking and llamafile's kernels
//! (.cargo/config.toml); the output head keeps one order per logit too.
//! What is left computes each row
//! of the batch on its own, in a fixed order, so greedy decoding of a request
//! does not depend on what else was decoded beside it.

use crate::engine::{backend, Engine, Generation, Sampling};
use crate::head::tap::{self, HiddenTap};
use crate::head::OutputHead;
use crate::text_stream::{Pushed, TextStream};
use crate::ModelError;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use llama_cpp_2::token::LlamaToken;
use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::Arc;
use tokio::sync::mpsc;

/// How the scheduler is sized.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Sequences decoded together.
    pub slots: usize,
    /// CPU threads for llama.cpp.
    pub threads: i32,
    /// Jobs that may wait for a slot; beyond it `submit` refuses.
    pub queue: usize,
    /// KV cache cells of each slot: the longest prompt plus answer
    /// (0: the model's context size; see `slot_context`).
    pub context: u32,
    /// Tokens decoded in one step at most (prompt chunks share it).
    pub batch: u32,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        Self {
            slots: 8,
            threads: 2,
            queue: 64,
            context: 0,
            batch: 512,
        }
    }
}

/// One generation to run.
pub struct Job {
    pub prompt: String,
    pub max_tokens: usize,
    pub sampling: Sampling,
    /// A GBNF grammar (root rule `root`) the output must follow.
    pub grammar: Option<String>,
}

/// What a job's receiver gets: text pieces, then one `Done` or `Failed`.
#[derive(Debug)]
pub enum Event {
    Text(String),
    Done(Generation),
    Failed(ModelError),
}

/// Why a job was not taken.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("{waiting} requests are already waiting for the model; retry shortly")]
    QueueFull { waiting: usize },
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// What the scheduler is doing, for health checks.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct SchedulerStatus {
    pub slots: usize,
    pub busy: usize,
    pub waiting: usize,
    /// Cache cells of each slot.
    pub context: u32,
    /// Bytes of the KV cache of all slots.
    pub kv_bytes: u64,
}

struct Counters {
    waiting: AtomicUsize,
    busy: AtomicUsize,
}

/// Handle to the decode thread; dropping it lets the thread finish its
/// running jobs and end.
pub struct Scheduler {
    engine: Arc<Engine>,
    tx: std_mpsc::Sender<Admitted>,
    counters: Arc<Counters>,
    opts: SchedulerOptions,
    context: u32,
}

/// A job checked and tokenized on the caller's thread.
struct Admitted {
    prompt: Vec<LlamaToken>,
    max_tokens: usize,
    sampling: Sampling,
    grammar: Option<LlamaSampler>,
    events: mpsc::UnboundedSender<Event>,
}

/// The context each request gets: the configured size (0: the model's
/// whole context), never more than the model has. Every slot gets all of it
/// rather than an even share of a fixed pool, so one agent request (a long
/// system prompt with tool schemas, then a whole file as the answer) fits
/// on any slot; memory grows with slots x context instead, which is why the
/// appliance's default is a few slots. The server computes the agent's
/// budget with this same function, so both sides agree.
pub fn slot_context(configured: u32, model_context: u32) -> u32 {
    match configured {
        0 => model_context,
        n => n.min(model_context),
    }
}

impl Scheduler {
    /// Creates the context (on the decode thread) and starts the thread.
    pub fn start(engine: Arc<Engine>, opts: SchedulerOptions) -> Result<Self, ModelError> {
        let slots = opts.slots.clamp(1, 64);
        let context = slot_context(opts.context, engine.spec.context);
        let counters = Arc::new(Counters {
            waiting: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
        });
        let (tx, rx) = std_mpsc::channel::<Admitted>();
        let (ready_tx, ready_rx) = std_mpsc::sync_channel::<Result<(), ModelError>>(1);
        let thread_engine = engine.clone();
        let thread_counters = counters.clone();
        let thread_opts = SchedulerOptions {
            slots,
            context,
            ..opts.clone()
        };
        std::thread::Builder::new()
            .name("llama-decode".into())
            .spawn(move || decode_thread(thread_engine, thread_opts, rx, thread_counters, ready_tx))
            .map_err(|e| ModelError::Engine(format!("cannot start the decode thread: {e}")))?;
        ready_rx
            .recv()
            .map_err(|_| ModelError::Engine("the decode thread ended while starting".into()))??;
        Ok(Self {
            engine,
            tx,
            counters,
            opts: SchedulerOptions { slots, ..opts },
            context,
        })
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Tokenizes and checks the job, then queues it. Errors that are the
    /// request's fault (too long, bad grammar) come back here, at once.
    pub fn submit(&self, job: Job) -> Result<mpsc::UnboundedReceiver<Event>, SubmitError> {
        let prompt = self.engine.tokenize(&job.prompt);
        let limit = self.context as usize;
        // The answer gets what the context leaves after the prompt, up to
        // the request's max_tokens (as llama.cpp's server does): a client
        // that counts the prompt a little wrong gets a shorter answer that
        // ends with "length", not an error.
        if prompt.is_empty() || prompt.len() >= limit {
            return Err(ModelError::PromptTooLong {
                tokens: prompt.len(),
                context: limit as u32,
            }
            .into());
        }
        let max_tokens = job.max_tokens.clamp(1, limit - prompt.len());
        let grammar = match &job.grammar {
            Some(g) => Some(self.engine.grammar_sampler(g)?),
            None => None,
        };
        let waiting = self.counters.waiting.fetch_add(1, Ordering::SeqCst);
        if waiting >= self.opts.queue {
            self.counters.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(SubmitError::QueueFull { waiting });
        }
        let (events, rx) = mpsc::unbounded_channel();
        let admitted = Admitted {
            prompt,
            max_tokens,
            sampling: job.sampling,
            grammar,
            events,
        };
        if self.tx.send(admitted).is_err() {
            self.counters.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(ModelError::Engine("the decode thread has stopped".into()).into());
        }
        Ok(rx)
    }

    /// Runs one job to its end on the calling thread (not inside an async
    /// runtime), handing each piece of text to `on_text`; `on_text` returning
    /// false cancels the job.
    pub fn run(
        &self,
        job: Job,
        mut on_text: impl FnMut(&str) -> bool,
    ) -> Result<Generation, ModelError> {
        let mut rx = self.submit(job).map_err(|e| match e {
            SubmitError::Model(m) => m,
            other => ModelError::Engine(other.to_string()),
        })?;
        while let Some(event) = rx.blocking_recv() {
            match event {
                Event::Text(t) => {
                    if !on_text(&t) {
                        drop(rx);
                        return Ok(Generation::cancelled());
                    }
                }
                Event::Done(g) => return Ok(g),
                Event::Failed(e) => return Err(e),
            }
        }
        Err(ModelError::Engine("the decode thread has stopped".into()))
    }

    pub fn status(&self) -> SchedulerStatus {
        SchedulerStatus {
            slots: self.opts.slots,
            busy: self.counters.busy.load(Ordering::SeqCst),
            waiting: self.counters.waiting.load(Ordering::SeqCst),
            context: self.context,
            kv_bytes: self.engine.kv_bytes_per_token()
                * self.context as u64
                * self.opts.slots as u64,
        }
    }
}

/// A job in a slot.
struct Active {
    prompt: Vec<LlamaToken>,
    /// Prompt tokens in the KV cache so far (reused ones included).
    fed: usize,
    reused: usize,
    max_tokens: usize,
    produced: usize,
    greedy: bool,
    /// Added to the logits row before sampling.
    biases: Vec<(i32, f32)>,
    chain: Option<LlamaSampler>,
    grammar: Option<LlamaSampler>,
    text: TextStream,
    events: mpsc::UnboundedSender<Event>,
    /// The token sampled last step, to be decoded this step.
    next: Option<LlamaToken>,
    /// Row of this slot's logits among the step's outputs.
    row: Option<usize>,
    order: u64,
}

struct Slot {
    seq: i32,
    /// Tokens whose keys and values are in the cache for this sequence,
    /// at positions 0..len.
    cached: Vec<LlamaToken>,
    last_used: u64,
    job: Option<Active>,
}

fn decode_thread(
    engine: Arc<Engine>,
    opts: SchedulerOptions,
    rx: std_mpsc::Receiver<Admitted>,
    counters: Arc<Counters>,
    ready: std_mpsc::SyncSender<Result<(), ModelError>>,
) {
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(opts.context * opts.slots as u32))
        .with_n_batch(opts.batch)
        .with_n_ubatch(opts.batch)
        .with_n_seq_max(opts.slots as u32)
        // One KV stream per slot (see the module comment).
        .with_kv_unified(false)
        .with_flash_attention_policy(0 /* LLAMA_FLASH_ATTN_TYPE_DISABLED */)
        // Sliding-window layers keep every position, so a prefix can be
        // trimmed and reused (Gemma 3 has them).
        .with_swa_full(true)
        .with_n_threads(opts.threads)
        .with_n_threads_batch(opts.threads);
    // The graph callback's target (head/tap.rs), only for a model that may
    // use the output head. Declared before the context, so dropped after it.
    let tap_owner = engine.may_use_output_head().then(|| {
        TapOwner(Box::into_raw(Box::new(HiddenTap::new(
            engine.model().n_embd() as usize,
        ))))
    });
    let tap_ptr = tap_owner.as_ref().map_or(std::ptr::null_mut(), |t| t.0);
    let params = if tap_ptr.is_null() {
        params
    } else {
        tap::install(params, tap_ptr)
    };
    let backend = match backend() {
        Ok(b) => b,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let mut ctx = match engine.model().new_context(backend, params) {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(ModelError::Engine(format!(
                "cannot create a context of {} tokens for each of {} slots: {e}",
                opts.context, opts.slots
            ))));
            return;
        }
    };
    let mut head = if tap_ptr.is_null() {
        None
    } else {
        engine.output_head(|h| check_output_head(&mut ctx, tap_ptr, h, &engine, opts.threads))
    };
    if head.is_some() {
        // SAFETY: no decode call runs; the tap outlives the context.
        unsafe { (*tap_ptr).stop = true };
    }
    let mut logits: Vec<f32> = Vec::new();
    let _ = ready.send(Ok(()));
    let mut slots: Vec<Slot> = (0..opts.slots)
        .map(|i| Slot {
            seq: i as i32,
            cached: Vec::new(),
            last_used: 0,
            job: None,
        })
        .collect();
    let mut pending: VecDeque<Admitted> = VecDeque::new();
    let mut batch = LlamaBatch::new(opts.batch as usize, opts.slots as i32);
    let mut clock: u64 = 0;
    let n_vocab = engine.model().n_vocab();
    loop {
        // Intake: block only when there is nothing to do.
        let idle = slots.iter().all(|s| s.job.is_none()) && pending.is_empty();
        if idle {
            match rx.recv() {
                Ok(job) => pending.push_back(job),
                Err(_) => return, // the scheduler was dropped
            }
        }
        while let Ok(job) = rx.try_recv() {
            pending.push_back(job);
        }
        // Clients that went away: waiting jobs are dropped, running ones end.
        pending.retain(|j| {
            let alive = !j.events.is_closed();
            if !alive {
                counters.waiting.fetch_sub(1, Ordering::SeqCst);
            }
            alive
        });
        for slot in slots.iter_mut() {
            if slot.job.as_ref().is_some_and(|a| a.events.is_closed()) {
                slot.job = None;
                counters.busy.fetch_sub(1, Ordering::SeqCst);
            }
        }
        admit(
            &mut ctx,
            &mut slots,
            &mut pending,
            &counters,
            &mut clock,
            n_vocab,
        );
        if slots.iter().all(|s| s.job.is_none()) {
            continue;
        }

        // Plan the step: one decode call with the next token of every
        // generating slot (in slot order), then one call per prompt chunk
        // in admission order. llama.cpp splits a call into micro-batches
        // of consecutive sequences with as many tokens each; calls of this
        // shape keep their output rows in batch order, which the output
        // head's hidden states rely on (head/tap.rs).
        let mut calls: Vec<Vec<(LlamaToken, i32, i32, bool)>> = Vec::new();
        let mut budget = opts.batch as usize;
        let mut outputs = 0usize;
        let mut generating = Vec::new();
        for slot in slots.iter_mut() {
            let Some(a) = slot.job.as_mut() else { continue };
            a.row = None;
            if let Some(token) = a.next.take() {
                generating.push((token, slot.cached.len() as i32, slot.seq, true));
                a.row = Some(outputs);
                outputs += 1;
                slot.cached.push(token);
                budget -= 1;
            }
        }
        if !generating.is_empty() {
            calls.push(generating);
        }
        let mut prompting: Vec<usize> = slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.job.as_ref().is_some_and(|a| a.fed < a.prompt.len()))
            .map(|(i, _)| i)
            .collect();
        prompting.sort_by_key(|i| slots[*i].job.as_ref().map(|a| a.order));
        for i in prompting {
            if budget == 0 {
                break;
            }
            let slot = &mut slots[i];
            let a = slot.job.as_mut().expect("prompting slot has a job");
            let take = budget.min(a.prompt.len() - a.fed);
            let mut chunk = Vec::with_capacity(take);
            for k in 0..take {
                let index = a.fed + k;
                let last = index + 1 == a.prompt.len();
                chunk.push((a.prompt[index], index as i32, slot.seq, last));
                if last {
                    a.row = Some(outputs);
                    outputs += 1;
                }
            }
            calls.push(chunk);
            slot.cached
                .extend_from_slice(&a.prompt[a.fed..a.fed + take]);
            a.fed += take;
            budget -= take;
        }
        let had_head = head.is_some();
        let result = decode_calls(
            &mut ctx,
            &mut batch,
            &calls,
            &mut head,
            tap_ptr,
            &mut logits,
            n_vocab as usize,
            opts.threads,
        );
        if had_head && head.is_none() {
            engine.turn_off_output_head();
        }
        if let Err(e) = result {
            // The cache state of these sequences is unknown now: drop it and
            // fail their jobs with the reason.
            for slot in slots.iter_mut() {
                if let Some(a) = slot.job.take() {
                    counters.busy.fetch_sub(1, Ordering::SeqCst);
                    let _ = a.events.send(Event::Failed(ModelError::Engine(format!(
                        "decoding failed: {e}"
                    ))));
                }
                let _ = ctx.clear_kv_cache_seq(Some(slot.seq as u32), None, None);
                slot.cached.clear();
            }
            continue;
        }

        // Sample every slot that has logits this step.
        for slot in slots.iter_mut() {
            let Some(a) = slot.job.as_mut() else { continue };
            let Some(row) = a.row else { continue };
            let row_logits = &mut logits[row * n_vocab as usize..(row + 1) * n_vocab as usize];
            let token = sample(row_logits, a);
            let vocab = engine.model().vocab();
            let finish = if vocab.is_eog(token) {
                Some("stop")
            } else {
                a.produced += 1;
                let bytes = vocab.token_to_piece(token, false, None);
                match a.text.push(&bytes) {
                    Pushed::More(piece) => {
                        if !piece.is_empty() {
                            let _ = a.events.send(Event::Text(piece));
                        }
                        if a.produced >= a.max_tokens {
                            Some("length")
                        } else {
                            a.next = Some(token);
                            None
                        }
                    }
                    Pushed::Stopped(piece) => {
                        if !piece.is_empty() {
                            let _ = a.events.send(Event::Text(piece));
                        }
                        Some("stop")
                    }
                }
            };
            if let Some(reason) = finish {
                let mut a = slot.job.take().expect("finishing slot has a job");
                // Counted free before the client hears it is done.
                counters.busy.fetch_sub(1, Ordering::SeqCst);
                if reason != "stop" {
                    let rest = a.text.finish();
                    if !rest.is_empty() {
                        let _ = a.events.send(Event::Text(rest));
                    }
                }
                let _ = a.events.send(Event::Done(Generation {
                    text: a.text.text().to_string(),
                    prompt_tokens: a.prompt.len(),
                    cached_tokens: a.reused,
                    completion_tokens: a.produced,
                    finish_reason: reason,
                }));
                clock += 1;
                slot.last_used = clock;
            }
        }
    }
}

/// Moves waiting jobs into free slots, oldest first, reusing the longest
/// cached prefix among the free slots.
fn admit(
    ctx: &mut LlamaContext<'_>,
    slots: &mut [Slot],
    pending: &mut VecDeque<Admitted>,
    counters: &Counters,
    clock: &mut u64,
    n_vocab: i32,
) {
    while let Some(job) = pending.front() {
        // The free slot sharing the longest prefix with this prompt; ties go
        // to the least recently used, so fresh conversations spread out.
        let Some(best) = (0..slots.len())
            .filter(|i| slots[*i].job.is_none())
            .max_by_key(|i| {
                let s = &slots[*i];
                (
                    common_prefix(&s.cached, &job.prompt),
                    std::cmp::Reverse(s.last_used),
                )
            })
        else {
            return;
        };
        let job = pending.pop_front().expect("front exists");
        counters.waiting.fetch_sub(1, Ordering::SeqCst);
        let slot = &mut slots[best];
        // The last prompt token is always decoded: its logits start the answer.
        let mut reuse = common_prefix(&slot.cached, &job.prompt).min(job.prompt.len() - 1);
        if reuse < slot.cached.len() {
            let trimmed = ctx
                .clear_kv_cache_seq(Some(slot.seq as u32), Some(reuse as u32), None)
                .unwrap_or(false);
            if !trimmed {
                let _ = ctx.clear_kv_cache_seq(Some(slot.seq as u32), None, None);
                reuse = 0;
            }
            slot.cached.truncate(reuse);
        }
        *clock += 1;
        slot.last_used = *clock;
        let biases: Vec<(i32, f32)> = job
            .sampling
            .logit_bias
            .iter()
            .filter(|(t, _)| (0..n_vocab).contains(t))
            .map(|(t, b)| (*t, if *b <= -100.0 { f32::NEG_INFINITY } else { *b }))
            .collect();
        let greedy = job.sampling.temperature.is_none_or(|t| t <= 0.0);
        slot.job = Some(Active {
            fed: reuse,
            reused: reuse,
            max_tokens: job.max_tokens,
            produced: 0,
            greedy,
            chain: (!greedy).then(|| job.sampling.random_chain()),
            biases,
            grammar: job.grammar,
            text: TextStream::new(job.sampling.stop.clone()),
            events: job.events,
            next: None,
            row: None,
            order: *clock,
            prompt: job.prompt,
        });
        counters.busy.fetch_add(1, Ordering::SeqCst);
    }
}

/// Owns the graph callback's target for the decode thread's lifetime.
struct TapOwner(*mut HiddenTap);

impl Drop for TapOwner {
    fn drop(&mut self) {
        // SAFETY: made by Box::into_raw; the context using it is gone.
        drop(unsafe { Box::from_raw(self.0) });
    }
}

/// Compares the output head with llama.cpp's own logits on a short prompt
/// before the head is trusted: the same arg-max, and every logit within a
/// small fraction of the largest (only the order of float additions and
/// the activations' rounding differ).
fn check_output_head(
    ctx: &mut LlamaContext<'_>,
    tap: *mut HiddenTap,
    head: &OutputHead,
    engine: &Engine,
    threads: i32,
) -> Result<(), String> {
    let tokens = engine.tokenize("The lighthouse keeper climbed the stairs and");
    let mut batch = LlamaBatch::new(tokens.len(), 1);
    for (i, t) in tokens.iter().enumerate() {
        batch
            .add(*t, i as i32, &[0], i + 1 == tokens.len())
            .map_err(|e| e.to_string())?;
    }
    // SAFETY: no decode call runs; the tap outlives the context.
    unsafe {
        (*tap).rows.clear();
        (*tap).stop = false;
        (*tap).fault = None;
    }
    let decoded = ctx.decode(&mut batch).map_err(|e| e.to_string());
    let _ = ctx.clear_kv_cache_seq(Some(0), None, None);
    decoded?;
    // SAFETY: as above.
    let tap = unsafe { &*tap };
    if let Some(fault) = &tap.fault {
        return Err(fault.clone());
    }
    if tap.taken() != 1 {
        return Err(format!(
            "the graph gave {} hidden states for one output (no result_norm node?)",
            tap.taken()
        ));
    }
    let reference = ctx.get_logits_ith(tokens.len() as i32 - 1);
    let mut ours = vec![0f32; head.n_vocab()];
    head.logits(&tap.rows, 1, &mut ours, threads.max(1) as usize);
    let scale = reference.iter().fold(0f32, |m, v| m.max(v.abs())).max(1.0);
    let worst = ours
        .iter()
        .zip(reference)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    // NaN anywhere makes `worst` NaN, which must fail too.
    let close = worst <= 1e-3 * scale;
    if argmax(&ours) != argmax(reference) || !close {
        return Err(format!(
            "its logits differ from llama.cpp's by up to {worst} (largest logit {scale})"
        ));
    }
    tracing::info!("output head checked against llama.cpp: largest difference {worst:.2e} for logits up to {scale:.1}");
    Ok(())
}

fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Picks the slot's next token from its logits row (which it may change:
/// the job's biases are added in place). Greedy without a grammar is an
/// arg-max; with a grammar the unconstrained choice is tried first and the
/// grammar is applied to the whole vocabulary only when that choice breaks
/// it (the vocabulary is large; most tokens of a well-prompted answer
/// already fit).
fn sample(logits: &mut [f32], a: &mut Active) -> LlamaToken {
    for (t, b) in &a.biases {
        if let Some(l) = logits.get_mut(*t as usize) {
            *l += *b;
        }
    }
    let choice = if a.greedy {
        argmax(logits)
    } else {
        pick_random(logits, a, None)
    };
    let Some(grammar) = a.grammar.as_mut() else {
        return choice;
    };
    let mut one = LlamaTokenDataArray::new(vec![LlamaTokenData::new(choice, 0.0, 0.0)], false);
    one.apply_sampler(grammar);
    let token = if one.data[0].logit().is_finite() {
        choice
    } else {
        let mut all = token_array(logits);
        all.apply_sampler(a.grammar.as_mut().expect("grammar present"));
        if a.greedy {
            all.data
                .iter()
                .filter(|d| d.logit().is_finite())
                .max_by(|x, y| x.logit().total_cmp(&y.logit()))
                .map(|d| d.id())
                .unwrap_or(choice)
        } else {
            pick_random(logits, a, Some(all))
        }
    };
    if let Some(g) = a.grammar.as_mut() {
        g.accept(token);
    }
    token
}

/// The first index of the largest logit, in two passes the compiler
/// vectorises (the maximum, then where it first is).
fn argmax(logits: &[f32]) -> LlamaToken {
    let mut lanes = [f32::NEG_INFINITY; 16];
    let chunks = logits.chunks_exact(16);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (lane, v) in lanes.iter_mut().zip(chunk) {
            if *v > *lane {
                *lane = *v;
            }
        }
    }
    let best = lanes
        .iter()
        .chain(tail)
        .fold(f32::NEG_INFINITY, |m, v| if *v > m { *v } else { m });
    let index = logits.iter().position(|v| *v == best).unwrap_or(0);
    LlamaToken::new(index as i32)
}

fn token_array(logits: &[f32]) -> LlamaTokenDataArray {
    let data: Vec<LlamaTokenData> = logits
        .iter()
        .enumerate()
        .map(|(i, l)| LlamaTokenData::new(LlamaToken::new(i as i32), *l, 0.0))
        .collect();
    LlamaTokenDataArray::new(data, false)
}

/// Temperature / top-p sampling with the job's seeded chain.
fn pick_random(
    logits: &[f32],
    a: &mut Active,
    prepared: Option<LlamaTokenDataArray>,
) -> LlamaToken {
    let mut array = prepared.unwrap_or_else(|| token_array(logits));
    let chain = a.chain.as_mut().expect("random sampling has a chain");
    array.apply_sampler(chain);
    array.selected_token().unwrap_or_else(|| argmax(logits))
}

/// Runs the step's decode calls and leaves one row of logits per output in
/// `logits`, in output order: from the output head when there is one (the
/// graph stops at the hidden state), else copied from llama.cpp after each
/// call (its buffer is overwritten by the next).
#[allow(clippy::too_many_arguments)]
fn decode_calls(
    ctx: &mut LlamaContext<'_>,
    batch: &mut LlamaBatch,
    calls: &[Vec<(LlamaToken, i32, i32, bool)>],
    head: &mut Option<Arc<OutputHead>>,
    tap: *mut HiddenTap,
    logits: &mut Vec<f32>,
    n_vocab: usize,
    threads: i32,
) -> Result<(), String> {
    let outputs: usize = calls.iter().map(|c| c.iter().filter(|t| t.3).count()).sum();
    if logits.len() < outputs * n_vocab {
        logits.resize(outputs * n_vocab, 0.0);
    }
    if !tap.is_null() {
        // SAFETY: the tap outlives the context; llama.cpp writes it only
        // inside decode calls, and none runs now.
        let tap = unsafe { &mut *tap };
        tap.rows.clear();
        tap.fault = None;
    }
    let mut row = 0;
    for call in calls {
        batch.clear();
        for &(token, pos, seq, output) in call {
            batch
                .add(token, pos, &[seq], output)
                .map_err(|e| e.to_string())?;
        }
        ctx.decode(batch).map_err(|e| e.to_string())?;
        let wanted: Vec<i32> = (0..call.len() as i32)
            .filter(|i| call[*i as usize].3)
            .collect();
        if head.is_some() {
            // SAFETY: as above, between decode calls.
            let tap = unsafe { &mut *tap };
            if tap.fault.is_some() || tap.taken() != row + wanted.len() {
                let why = tap.fault.clone().unwrap_or_else(|| {
                    format!(
                        "{} hidden states for {} outputs",
                        tap.taken(),
                        row + wanted.len()
                    )
                });
                tap.stop = false;
                *head = None;
                tracing::error!("output head turned off: {why}");
                return Err(format!("the output head lost track of the batch rows ({why}); llama.cpp's own output product is used from now on"));
            }
        } else {
            for (k, index) in wanted.iter().enumerate() {
                logits[(row + k) * n_vocab..][..n_vocab]
                    .copy_from_slice(ctx.get_logits_ith(*index));
            }
        }
        row += wanted.len();
    }
    if let Some(h) = head {
        // SAFETY: as above.
        let tap = unsafe { &*tap };
        h.logits(&tap.rows, outputs, logits, threads.max(1) as usize);
    }
    Ok(())
}

impl Generation {
    fn cancelled() -> Self {
        Generation {
            text: String::new(),
            prompt_tokens: 0,
            cached_tokens: 0,
            completion_tokens: 0,
            finish_reason: "cancelled",
        }
    }
}

/// One-off generation on a scheduler of one slot. Here rather than in
/// `engine.rs`: the scheduler drives an `Engine`, so the engine must not
/// depend on the scheduler.
impl Engine {
    /// Generates up to `max_tokens` after `prompt` on a context of its own
    /// (one slot); the worker shares one scheduler between requests instead.
    pub fn generate(
        self: &Arc<Self>,
        prompt: &str,
        max_tokens: usize,
        threads: i32,
        sampling: &Sampling,
    ) -> Result<Generation, ModelError> {
        self.generate_with(prompt, max_tokens, threads, sampling, |_| true)
    }

    /// Like [`Engine::generate`], handing each piece of text to `on_text` as
    /// it is decoded; `on_text` returning false stops at once.
    pub fn generate_with(
        self: &Arc<Self>,
        prompt: &str,
        max_tokens: usize,
        threads: i32,
        sampling: &Sampling,
        on_text: impl FnMut(&str) -> bool,
    ) -> Result<Generation, ModelError> {
        let scheduler = Scheduler::start(
            self.clone(),
            SchedulerOptions {
                slots: 1,
                threads,
                queue: 1,
                context: (self.tokenize(prompt).len() + max_tokens + 1) as u32,
                batch: 512,
            },
        )?;
        scheduler.run(
            Job {
                prompt: prompt.to_string(),
                max_tokens,
                sampling: sampling.clone(),
                grammar: None,
            },
            on_text,
        )
    }
}
