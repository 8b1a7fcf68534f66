//! `autocrea llm-worker` with the real small model (models/fetch.sh).

use autocrea_core::sync::lock;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_autocrea");

struct Worker {
    child: Child,
    url: String,
    // One worker at a time: on two cores, six workers decoding at once slow
    // every test several times over.
    _serial: std::sync::MutexGuard<'static, ()>,
}

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Worker {
    start_with(&[])
}

fn start_with(extra: &[&str]) -> Worker {
    let serial = lock(&SERIAL);
    let models = &format!("{}/../../models/models.toml", manifest_dir());
    let mut child = Command::new(BIN)
        .args([
            "llm-worker",
            "--listen",
            "127.0.0.1:0",
            "--threads",
            "2",
            "--models",
            models,
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split("listening on ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("worker prints its address")
        .to_string();
    Worker {
        child,
        url,
        _serial: serial,
    }
}

fn ask(max_tokens: u32, stream: bool) -> Value {
    json!({ "model": "gemma-3-270m", "messages": [{ "role": "user", "content": "Name three colours." }],
            "max_tokens": max_tokens, "temperature": 0, "stream": stream })
}

/// A long answer that cannot end early: Gemma's end-of-generation tokens
/// (<eos> 1, <end_of_turn> 106) are banned.
fn ask_long(max_tokens: u32) -> Value {
    let mut body = ask(max_tokens, true);
    body["logit_bias"] = json!({ "1": -100, "106": -100 });
    body
}

async fn complete(http: &reqwest::Client, url: &str, body: Value) -> Value {
    let r = http
        .post(format!("{url}/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    r.json().await.unwrap()
}

async fn health(http: &reqwest::Client, url: &str) -> Value {
    http.get(format!("{url}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Polls /health until `field` equals `want`, for at most 20 s.
async fn wait_health(http: &reqwest::Client, url: &str, field: &str, want: u64, failure: &str) {
    let started = Instant::now();
    while health(http, url).await[field] != want {
        assert!(started.elapsed() < Duration::from_secs(20), "{failure}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn stream_text(http: &reqwest::Client, url: &str, body: Value) -> (String, Vec<Value>, bool) {
    let text = http
        .post(format!("{url}/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut content = String::new();
    let mut chunks = Vec::new();
    let mut done = false;
    for line in text.lines().filter_map(|l| l.strip_prefix("data: ")) {
        if line == "[DONE]" {
            done = true;
            continue;
        }
        let v: Value = serde_json::from_str(line).unwrap();
        content.push_str(v["choices"][0]["delta"]["content"].as_str().unwrap_or(""));
        chunks.push(v);
    }
    (content, chunks, done)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_completions_streaming_and_not() {
    let w = start();
    let http = reqwest::Client::new();
    let models: Value = http
        .get(format!("{}/v1/models", w.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["data"][0]["id"], "gemma-3-270m");

    let a: Value = complete(&http, &w.url, ask(20, false)).await;
    let b: Value = complete(&http, &w.url, ask(20, false)).await;
    assert_eq!(a["object"], "chat.completion");
    assert_eq!(a["choices"][0]["message"]["role"], "assistant");
    let text = a["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!text.is_empty());
    assert_eq!(
        text,
        b["choices"][0]["message"]["content"].as_str().unwrap(),
        "greedy is deterministic"
    );
    assert!(a["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    assert_eq!(
        a["usage"]["total_tokens"].as_u64(),
        Some(
            a["usage"]["prompt_tokens"].as_u64().unwrap()
                + a["usage"]["completion_tokens"].as_u64().unwrap()
        )
    );

    let (streamed, chunks, done) = stream_text(&http, &w.url, ask(20, true)).await;
    assert!(done, "the stream ends with data: [DONE]");
    assert_eq!(streamed, text, "streaming gives the same text");
    assert!(
        chunks.len() > 2
            && chunks
                .iter()
                .all(|c| c["object"] == "chat.completion.chunk")
    );
    assert!(chunks.last().unwrap()["choices"][0]["finish_reason"].is_string());

    let r = http
        .post(format!("{}/v1/chat/completions", w.url))
        .json(&json!({ "model": "gpt-9", "messages": [{ "role": "user", "content": "x" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "model_not_found");
    let r = http
        .post(format!("{}/v1/chat/completions", w.url))
        .json(&json!({ "messages": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnected_stream_frees_the_model() {
    let w = start();
    let http = reqwest::Client::new();
    let mut response = http
        .post(format!("{}/v1/chat/completions", w.url))
        .json(&ask_long(3000))
        .send()
        .await
        .unwrap();
    let first = response.chunk().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: "));
    assert_eq!(
        health(&http, &w.url).await["busy"],
        1,
        "decoding the long answer"
    );
    drop(response); // the client goes away

    // 3000 tokens would take the small model most of a minute; freed, it is idle at once.
    wait_health(
        &http,
        &w.url,
        "busy",
        0,
        "the slot was not freed after the disconnect",
    )
    .await;
    let r: Value = complete(&http, &w.url, ask(5, false)).await;
    assert_eq!(r["object"], "chat.completion");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_completions_stop_strings_and_logit_bias() {
    let w = start();
    let http = reqwest::Client::new();
    let body = json!({ "prompt": "def add(a, b):\n", "max_tokens": 24, "temperature": 0 });
    let r: Value = http
        .post(format!("{}/v1/completions", w.url))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["object"], "text_completion");
    let text = r["choices"][0]["text"].as_str().unwrap().to_string();
    assert!(!text.is_empty());
    let streamed = http.post(format!("{}/v1/completions", w.url)).json(&json!({ "prompt": "def add(a, b):\n", "max_tokens": 24, "temperature": 0, "stream": true }))
        .send().await.unwrap().text().await.unwrap();
    let pieces: String = streamed
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|l| *l != "[DONE]")
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["choices"][0]["text"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(pieces, text, "streamed raw completion equals the whole one");

    // stop: the answer ends before the stop string.
    let cut: String = text
        .chars()
        .skip(text.chars().count() / 2)
        .take(2)
        .collect();
    let r: Value = http.post(format!("{}/v1/completions", w.url))
        .json(&json!({ "prompt": "def add(a, b):\n", "max_tokens": 24, "temperature": 0, "stop": [cut] }))
        .send().await.unwrap().json().await.unwrap();
    assert_eq!(r["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        r["choices"][0]["text"].as_str().unwrap(),
        &text[..text.find(&cut).unwrap()]
    );

    // logit_bias: +100 on one token makes greedy decoding repeat it to max_tokens.
    let r: Value = http.post(format!("{}/v1/completions", w.url))
        .json(&json!({ "prompt": "Hello", "max_tokens": 6, "temperature": 0, "logit_bias": { "1000": 100 } }))
        .send().await.unwrap().json().await.unwrap();
    let repeated = r["choices"][0]["text"].as_str().unwrap();
    assert_eq!(
        (
            r["usage"]["completion_tokens"].as_u64(),
            r["choices"][0]["finish_reason"].as_str()
        ),
        (Some(6), Some("length"))
    );
    let unit = &repeated[..repeated.len() / 6];
    assert!(
        !unit.is_empty() && repeated == unit.repeat(6),
        "one token six times: {repeated:?}"
    );
    let r: Value = http.post(format!("{}/v1/chat/completions", w.url))
        .json(&json!({ "messages": [{ "role": "user", "content": "Say yes." }], "max_tokens": 8, "temperature": 0, "logit_bias": { "not-a-number": 1 } }))
        .send().await.unwrap().json().await.unwrap();
    assert_eq!(r["error"]["code"], "invalid_request");
    assert!(r["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not-a-number"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_queue_requests_get_429_with_retry_after() {
    let w = start_with(&["--queue", "1", "--slots", "1"]);
    let http = reqwest::Client::new();
    let mut busy = http
        .post(format!("{}/v1/chat/completions", w.url))
        .json(&ask_long(3000))
        .send()
        .await
        .unwrap();
    busy.chunk().await.unwrap();
    // One request may wait...
    let waiting = {
        let (http, url) = (http.clone(), w.url.clone());
        tokio::spawn(async move { complete(&http, &url, ask(3, false)).await })
    };
    wait_health(
        &http,
        &w.url,
        "waiting",
        1,
        "the second request never queued",
    )
    .await;
    // ...the next is turned away at once.
    let r = http
        .post(format!("{}/v1/chat/completions", w.url))
        .json(&ask(3, false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "queue_full");
    drop(busy);
    assert_eq!(
        waiting.await.unwrap()["object"],
        "chat.completion",
        "the queued request is served"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_requests_equal_their_sequential_answers() {
    let w = start();
    let http = reqwest::Client::new();
    let questions = [
        "Name three colours.",
        "What is the capital of France?",
        "Write a short poem about rain.",
        "List two animals that live in the sea.",
        "What is two plus two?",
        "Describe a cat in one sentence.",
        "Give me a name for a bakery.",
        "What do bees make?",
    ];
    let body = |q: &str| json!({ "messages": [{ "role": "user", "content": q }], "max_tokens": 24, "temperature": 0 });
    let mut sequential = Vec::new();
    for q in questions {
        sequential.push(
            complete(&http, &w.url, body(q)).await["choices"][0]["message"]["content"].clone(),
        );
    }
    let tasks: Vec<_> = questions
        .iter()
        .map(|q| {
            let mut b = body(q);
            b["stream"] = json!(true);
            let (http, url) = (http.clone(), w.url.clone());
            tokio::spawn(async move { stream_text(&http, &url, b).await })
        })
        .collect();
    let mut parallel = Vec::new();
    for t in tasks {
        let (text, chunks, done) = t.await.unwrap();
        assert!(done, "{text:?} {:?}", chunks.last());
        parallel.push(Value::String(text));
    }
    assert_eq!(parallel, sequential);
    // Where the CPU allows it the logits came from AUTOCREA's output head.
    assert_eq!(
        health(&http, &w.url).await["output_head"],
        autocrea_inference::head::available()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_constrained_tool_calls_parse_and_json_schema_is_followed() {
    let w = start();
    let http = reqwest::Client::new();
    let tools = json!([
        { "type": "function", "function": { "name": "create_file", "description": "Create a file in the project",
            "parameters": { "type": "object", "properties": { "path": { "type": "string", "maxLength": 20 },
                "content": { "type": "string", "maxLength": 30 } }, "required": ["path", "content"], "additionalProperties": false } } },
        { "type": "function", "function": { "name": "delete_file", "description": "Delete a file",
            "parameters": { "type": "object", "properties": { "path": { "type": "string", "maxLength": 20 } },
                "required": ["path"], "additionalProperties": false } } }
    ]);
    let asks = [
        "Create index.html with a heading.",
        "Delete old.css.",
        "Make a README.",
        "Remove the logo.",
    ];
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
    let mut tasks = Vec::new();
    for i in 0..100 {
        let choice = if i % 3 == 0 {
            json!({ "type": "function", "function": { "name": "delete_file" } })
        } else {
            json!("required")
        };
        let body = json!({ "messages": [{ "role": "user", "content": asks[i % 4] }], "tools": tools, "tool_choice": choice,
            "max_tokens": 600, "temperature": if i % 2 == 0 { 0.0 } else { 0.9 }, "seed": i });
        let (http, url, sem) = (http.clone(), w.url.clone(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire().await.unwrap();
            (i, complete(&http, &url, body).await)
        }));
    }
    for t in tasks {
        let (i, r) = t.await.unwrap();
        let choice = &r["choices"][0];
        assert_eq!(choice["finish_reason"], "tool_calls", "call {i}: {r}");
        let call = &choice["message"]["tool_calls"][0];
        assert_eq!(call["type"], "function");
        let name = call["function"]["name"].as_str().unwrap();
        if i % 3 == 0 {
            assert_eq!(name, "delete_file");
        }
        let args: Value = serde_json::from_str(call["function"]["arguments"].as_str().unwrap())
            .unwrap_or_else(|e| panic!("call {i}: arguments do not parse: {e}: {r}"));
        assert!(args["path"].is_string(), "call {i}: {args}");
    }

    // response_format with a JSON schema: the content parses and follows it.
    let r = complete(&http, &w.url, json!({ "messages": [{ "role": "user", "content": "Pick a colour." }],
        "max_tokens": 100, "temperature": 0, "response_format": { "type": "json_schema", "json_schema": { "name": "pick",
            "schema": { "type": "object", "properties": { "colour": { "enum": ["red", "green", "blue"] } },
                "required": ["colour"], "additionalProperties": false } } } })).await;
    let content: Value =
        serde_json::from_str(r["choices"][0]["message"]["content"].as_str().unwrap()).unwrap();
    assert!(
        ["red", "green", "blue"].contains(&content["colour"].as_str().unwrap()),
        "{content}"
    );
    // A schema llama.cpp cannot turn into a grammar is a clear 400.
    let r = http.post(format!("{}/v1/chat/completions", w.url))
        .json(&json!({ "messages": [{ "role": "user", "content": "x" }], "tool_choice": { "type": "function", "function": { "name": "nope" } }, "tools": tools }))
        .send().await.unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]["message"].as_str().unwrap().contains("nope"),
        "{e}"
    );
}

/// The package folder of this checkout, read when the test runs: the build
/// cache is shared between checkouts, so a path baked in at compile time may
/// name another one.
fn manifest_dir() -> String {
    std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")
}
