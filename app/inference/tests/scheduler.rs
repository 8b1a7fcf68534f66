//! The continuous-batching scheduler with the real small model.

use autocrea_inference::structured::{self, ToolChoice, ToolSpec};
use autocrea_inference::{
    Engine, Event, Job, Manifest, Sampling, Scheduler, SchedulerOptions, SubmitError,
};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn engine() -> Arc<Engine> {
    let path = Path::new(&manifest_dir()).join("../../models/models.toml");
    let m = Manifest::load(&path).expect("models/models.toml is valid");
    Arc::new(Engine::load(&m, m.default_model()).expect("run models/fetch.sh first"))
}

fn scheduler(engine: &Arc<Engine>, slots: usize) -> Scheduler {
    Scheduler::start(
        engine.clone(),
        SchedulerOptions {
            slots,
            threads: 2,
            queue: 32,
            context: 1024,
            batch: 512,
        },
    )
    .unwrap()
}

fn chat(engine: &Engine, text: &str) -> String {
    engine.chat_prompt(&[("user".into(), text.into())]).unwrap()
}

const QUESTIONS: [&str; 8] = [
    "Name three colours.",
    "What is the capital of France?",
    "Write a short poem about rain.",
    "List two animals that live in the sea.",
    "What is two plus two?",
    "Describe a cat in one sentence.",
    "Give me a name for a bakery.",
    "What do bees make?",
];

fn greedy_job(prompt: String, max_tokens: usize) -> Job {
    Job {
        prompt,
        max_tokens,
        sampling: Sampling::default(),
        grammar: None,
    }
}

#[test]
fn eight_parallel_requests_equal_their_sequential_greedy_outputs() {
    let engine = engine();
    let sched = scheduler(&engine, 8);
    // On a CPU with AVX-512 VNNI the logits come from AUTOCREA's output
    // head (checked against llama.cpp's when the scheduler started).
    assert_eq!(
        engine.uses_output_head(),
        autocrea_inference::head::available()
    );
    let sequential: Vec<String> = QUESTIONS
        .iter()
        .map(|q| {
            sched
                .run(greedy_job(chat(&engine, q), 24), |_| true)
                .unwrap()
                .text
        })
        .collect();
    // All eight at once: they are admitted together and decoded in one batch per step.
    let receivers: Vec<_> = QUESTIONS
        .iter()
        .map(|q| sched.submit(greedy_job(chat(&engine, q), 24)).unwrap())
        .collect();
    assert!(sched.status().busy + sched.status().waiting >= 1);
    let mut parallel = Vec::new();
    for mut rx in receivers {
        let mut streamed = String::new();
        loop {
            match rx.blocking_recv().expect("every job ends with Done") {
                Event::Text(t) => streamed.push_str(&t),
                Event::Done(g) => {
                    assert_eq!(streamed, g.text, "the stream adds up to the text");
                    parallel.push(g.text);
                    break;
                }
                Event::Failed(e) => panic!("{e}"),
            }
        }
    }
    assert_eq!(parallel, sequential);
    assert!(parallel.iter().all(|t| !t.trim().is_empty()));
}

#[test]
fn a_dropped_receiver_frees_its_slot_at_once() {
    let engine = engine();
    let sched = scheduler(&engine, 1);
    let banned = engine.sampling_without_end();
    let long = Job {
        prompt: chat(&engine, "Tell me a very long story."),
        max_tokens: 900,
        sampling: banned,
        grammar: None,
    };
    let mut rx = sched.submit(long).unwrap();
    match rx.blocking_recv() {
        Some(Event::Text(_)) => {}
        other => panic!("expected text, got {other:?}"),
    }
    assert_eq!(sched.status().busy, 1);
    drop(rx); // the client went away
              // The one slot serves the next request long before 900 tokens could be decoded.
    let started = Instant::now();
    let next = sched
        .run(greedy_job(chat(&engine, "Say hi."), 8), |_| true)
        .unwrap();
    assert!(next.completion_tokens > 0);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sched.status().busy, 0);
}

#[test]
fn the_next_turn_reuses_the_cached_prefix_and_the_queue_is_bounded() {
    let engine = engine();
    let sched = Scheduler::start(
        engine.clone(),
        SchedulerOptions {
            slots: 2,
            threads: 2,
            queue: 1,
            context: 1024,
            batch: 512,
        },
    )
    .unwrap();
    let first_turn = vec![("user".to_string(), "Name three colours.".to_string())];
    let first = sched
        .run(
            greedy_job(engine.chat_prompt(&first_turn).unwrap(), 16),
            |_| true,
        )
        .unwrap();
    assert_eq!(first.cached_tokens, 0);
    let mut second_turn = first_turn.clone();
    second_turn.push(("assistant".into(), first.text.clone()));
    second_turn.push(("user".into(), "And three more?".into()));
    let second = sched
        .run(
            greedy_job(engine.chat_prompt(&second_turn).unwrap(), 16),
            |_| true,
        )
        .unwrap();
    assert!(
        second.cached_tokens >= first.prompt_tokens - 1,
        "the first turn's prompt is reused: {} of {}",
        second.cached_tokens,
        second.prompt_tokens
    );

    // Two slots busy, one waiting: a fourth is refused.
    let banned = engine.sampling_without_end();
    let long = || Job {
        prompt: chat(&engine, "Count."),
        max_tokens: 400,
        sampling: banned.clone(),
        grammar: None,
    };
    // The queue holds one job not yet in a slot, so each waits to be admitted.
    let admitted = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while sched.status().busy < n {
            assert!(Instant::now() < deadline, "{n} slots fill");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let a = sched.submit(long()).unwrap();
    admitted(1);
    let b = sched.submit(long()).unwrap();
    admitted(2);
    let c = sched.submit(long()).unwrap();
    match sched.submit(long()) {
        Err(SubmitError::QueueFull { .. }) => {}
        other => panic!("expected QueueFull, got {:?}", other.map(|_| ())),
    }
    drop((a, b, c));
    // Too long for the context: refused at once with the numbers.
    let err = sched
        .submit(greedy_job("word ".repeat(2000), 10))
        .err()
        .unwrap();
    assert!(err.to_string().contains("does not fit"), "{err}");
    // A prompt that fits with an answer budget beyond the context is
    // admitted: the answer gets what the context leaves.
    // (The dropped jobs above leave the queue at the decode thread's next step.)
    let deadline = Instant::now() + Duration::from_secs(30);
    let rx = loop {
        match sched.submit(greedy_job("Hello".into(), 1_000_000)) {
            Err(SubmitError::QueueFull { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10))
            }
            other => break other,
        }
    };
    assert!(rx.is_ok(), "{:?}", rx.err());
}

#[test]
fn grammar_constrained_tool_calls_parse_greedy_and_sampled() {
    let engine = engine();
    // The grammar bounds every call's length (strings have a maxLength,
    // whitespace is bounded), so 600 tokens always suffice.
    let sched = Scheduler::start(
        engine.clone(),
        SchedulerOptions {
            slots: 8,
            threads: 2,
            queue: 32,
            context: 1024,
            batch: 512,
        },
    )
    .unwrap();
    let tools = vec![
        ToolSpec {
            name: "create_file".into(),
            description: "Create a file in the project".into(),
            parameters: json!({ "type": "object", "properties": {
                "path": { "type": "string", "maxLength": 20 },
                "content": { "type": "string", "maxLength": 30 } },
                "required": ["path", "content"], "additionalProperties": false }),
        },
        ToolSpec {
            name: "delete_file".into(),
            description: "Delete a file".into(),
            parameters: json!({ "type": "object", "properties": { "path": { "type": "string", "maxLength": 20 } },
                "required": ["path"], "additionalProperties": false }),
        },
    ];
    let grammar = structured::tools_grammar(&tools, &ToolChoice::Required)
        .unwrap()
        .unwrap();
    let system = structured::tools_prompt(&tools, &ToolChoice::Required);
    let asks = [
        "Create index.html with a heading.",
        "Delete old.css.",
        "Make a README.",
        "Remove the logo.",
    ];
    let mut receivers = Vec::new();
    for i in 0..16 {
        let prompt = engine
            .chat_prompt(&[
                ("system".into(), system.clone()),
                ("user".into(), asks[i % asks.len()].into()),
            ])
            .unwrap();
        let sampling = if i % 2 == 0 {
            Sampling::default()
        } else {
            Sampling {
                temperature: Some(0.9),
                seed: Some(i as u32),
                ..Default::default()
            }
        };
        let job = Job {
            prompt,
            max_tokens: 600,
            sampling,
            grammar: Some(grammar.clone()),
        };
        // Keep the queue within its bound: wait for earlier ones as needed.
        loop {
            match sched.submit(job_clone(&job)) {
                Ok(rx) => {
                    receivers.push(rx);
                    break;
                }
                Err(SubmitError::QueueFull { .. }) => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => panic!("{e}"),
            }
        }
    }
    let mut parsed = 0;
    for mut rx in receivers {
        let text = loop {
            match rx.blocking_recv().unwrap() {
                Event::Done(g) => break g.text,
                Event::Text(_) => {}
                Event::Failed(e) => panic!("{e}"),
            }
        };
        let call = structured::parse_tool_call(&text, &tools);
        assert!(call.is_some(), "not a tool call: {text:?}");
        parsed += 1;
    }
    assert_eq!(parsed, 16);
}

fn job_clone(j: &Job) -> Job {
    Job {
        prompt: j.prompt.clone(),
        max_tokens: j.max_tokens,
        sampling: j.sampling.clone(),
        grammar: j.grammar.clone(),
    }
}

#[test]
fn how_a_prompt_is_split_into_batches_does_not_change_the_text() {
    let engine = engine();
    let mut texts = Vec::new();
    for batch in [512u32, 13, 9, 5, 2] {
        let sched = Scheduler::start(
            engine.clone(),
            SchedulerOptions {
                slots: 2,
                threads: 2,
                queue: 4,
                context: 1024,
                batch,
            },
        )
        .unwrap();
        let g = sched
            .run(greedy_job(chat(&engine, QUESTIONS[0]), 24), |_| true)
            .unwrap();
        texts.push((batch, g.text));
    }
    for (batch, text) in &texts[1..] {
        assert_eq!(text, &texts[0].1, "batch size {batch}");
    }
}

#[test]
fn waiting_requests_are_served_in_arrival_order() {
    let engine = engine();
    let sched = Scheduler::start(
        engine.clone(),
        SchedulerOptions {
            slots: 1,
            threads: 2,
            queue: 8,
            context: 1024,
            batch: 512,
        },
    )
    .unwrap();
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let waiters: Vec<_> = (0..4)
        .map(|i| {
            let mut rx = sched
                .submit(greedy_job(chat(&engine, QUESTIONS[i]), 12))
                .unwrap();
            let order = order.clone();
            std::thread::spawn(move || {
                while let Some(e) = rx.blocking_recv() {
                    if let Event::Done(_) = e {
                        order.lock().unwrap().push(i);
                        return;
                    }
                }
            })
        })
        .collect();
    for w in waiters {
        w.join().unwrap();
    }
    assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3]);
}

/// The package folder of this checkout, read when the test runs: the build
/// cache is shared between checkouts, so a path baked in at compile time may
/// name another one.
fn manifest_dir() -> String {
    std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")
}
