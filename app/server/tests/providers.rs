//! Each provider adapter against a local HTTP server that checks the exact
//! request of that vendor's API (path, headers, body) and answers in the
//! vendor's format, whole and streamed.

use autocrea::llm::providers::{adapter, ProviderKind};
use autocrea::llm::wire::{
    ChatMessage, ChatRequest, FunctionCall, FunctionDef, Options, Tool, ToolCall, Usage,
};
use autocrea::llm::{ChatEvent, LlmError};
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// What the vendor server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: Option<String>,
    headers: axum::http::HeaderMap,
    body: Value,
}

#[derive(Clone)]
struct Vendor {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// (status, content type, body) to answer with.
    reply: Arc<Mutex<(u16, &'static str, String)>>,
}

async fn record(State(v): State<Vendor>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes: Bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    v.seen.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    });
    let (status, ctype, body) = v.reply.lock().unwrap().clone();
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", ctype)],
        body,
    )
        .into_response()
}

async fn vendor() -> (Vendor, String) {
    let v = Vendor {
        seen: Default::default(),
        reply: Arc::new(Mutex::new((200, "application/json", "{}".into()))),
    };
    let app = axum::Router::new().fallback(record).with_state(v.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (v, url)
}

impl Vendor {
    fn answer(&self, status: u16, ctype: &'static str, body: impl Into<String>) {
        *self.reply.lock().unwrap() = (status, ctype, body.into());
    }
    fn last(&self) -> Seen {
        self.seen
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a request arrived")
    }
}

fn header(s: &Seen, name: &str) -> String {
    s.headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

fn sse(events: &[(Option<&str>, Value)]) -> String {
    events
        .iter()
        .map(|(event, data)| match event {
            Some(e) => format!("event: {e}\ndata: {data}\n\n"),
            None => format!("data: {data}\n\n"),
        })
        .collect()
}

/// A conversation with every kind of message: system, user, an assistant
/// tool call, its result; one tool; options.
fn request(stream: bool) -> ChatRequest {
    ChatRequest {
        model: None,
        messages: vec![
            ChatMessage::text("system", "You build web apps."),
            ChatMessage::text("user", "Create index.html"),
            ChatMessage {
                role: "assistant".into(),
                content: None,
                tool_calls: Some(vec![ToolCall {
                    id: "call_1".into(),
                    kind: "function".into(),
                    function: FunctionCall {
                        name: "create_file".into(),
                        arguments: r#"{"path":"a.html"}"#.into(),
                    },
                }]),
                ..Default::default()
            },
            ChatMessage {
                role: "tool".into(),
                tool_call_id: Some("call_1".into()),
                ..ChatMessage::text("tool", "created")
            },
        ],
        options: Options {
            max_tokens: Some(100),
            temperature: Some(0.2),
            stream,
            ..Default::default()
        },
        tools: vec![Tool {
            kind: "function".into(),
            function: FunctionDef {
                name: "create_file".into(),
                description: Some("Create a file".into()),
                parameters: Some(
                    json!({ "type": "object", "properties": { "path": { "type": "string" } }, "required": ["path"] }),
                ),
            },
        }],
        tool_choice: Some(json!("required")),
        response_format: None,
    }
}

async fn collect(stream: autocrea::llm::EventStream) -> Vec<Result<ChatEvent, LlmError>> {
    stream.collect().await
}

fn call(id: &str, name: &str, args: &str) -> ChatEvent {
    ChatEvent::ToolCall(ToolCall {
        id: id.into(),
        kind: "function".into(),
        function: FunctionCall {
            name: name.into(),
            arguments: args.into(),
        },
    })
}

#[tokio::test]
async fn openai_compatible_request_shape_whole_and_streamed() {
    let (v, url) = vendor().await;
    let p = adapter(
        ProviderKind::Openai,
        "openai",
        &format!("{url}/v1"),
        Some("sk-test-1234".into()),
    );
    v.answer(200, "application/json", json!({
        "id": "x", "object": "chat.completion", "created": 1, "model": "gpt-x",
        "choices": [{ "index": 0, "finish_reason": "tool_calls", "message": { "role": "assistant", "content": null,
            "tool_calls": [{ "id": "call_9", "type": "function", "function": { "name": "create_file", "arguments": "{\"path\":\"b.html\"}" } }] } }],
        "usage": { "prompt_tokens": 31, "completion_tokens": 9, "total_tokens": 40 } }).to_string());
    let events = collect(p.chat("gpt-x", request(false)).await.unwrap()).await;
    let seen = v.last();
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(header(&seen, "authorization"), "Bearer sk-test-1234");
    assert_eq!(header(&seen, "content-type"), "application/json");
    assert_eq!(
        seen.body,
        json!({
            "model": "gpt-x",
            "messages": [
                { "role": "system", "content": "You build web apps." },
                { "role": "user", "content": "Create index.html" },
                { "role": "assistant", "tool_calls": [{ "id": "call_1", "type": "function", "function": { "name": "create_file", "arguments": "{\"path\":\"a.html\"}" } }] },
                { "role": "tool", "content": "created", "tool_call_id": "call_1" }
            ],
            "max_tokens": 100, "temperature": 0.2,
            "tools": [{ "type": "function", "function": { "name": "create_file", "description": "Create a file",
                "parameters": { "type": "object", "properties": { "path": { "type": "string" } }, "required": ["path"] } } }],
            "tool_choice": "required"
        })
    );
    assert_eq!(
        events.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        vec![
            call("call_9", "create_file", "{\"path\":\"b.html\"}"),
            ChatEvent::Finish {
                reason: "tool_calls".into(),
                usage: Usage {
                    prompt_tokens: 31,
                    completion_tokens: 9
                }
            },
        ]
    );

    let chunk = |delta: Value, finish: Value| {
        json!({ "id": "x", "object": "chat.completion.chunk", "created": 1, "model": "gpt-x",
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }] })
    };
    let mut body = sse(&[
        (
            None,
            chunk(json!({ "role": "assistant", "content": "" }), Value::Null),
        ),
        (None, chunk(json!({ "content": "Sure" }), Value::Null)),
        (
            None,
            chunk(
                json!({ "tool_calls": [{ "index": 0, "id": "call_7", "type": "function", "function": { "name": "create_file", "arguments": "" } }] }),
                Value::Null,
            ),
        ),
        (
            None,
            chunk(
                json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "{\"path\":" } }] }),
                Value::Null,
            ),
        ),
        (
            None,
            chunk(
                json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "\"c.html\"}" } }] }),
                Value::Null,
            ),
        ),
        (None, chunk(json!({}), json!("tool_calls"))),
        (
            None,
            json!({ "id": "x", "object": "chat.completion.chunk", "created": 1, "model": "gpt-x", "choices": [],
            "usage": { "prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11 } }),
        ),
    ]);
    body.push_str("data: [DONE]\n\n");
    v.answer(200, "text/event-stream", body);
    let events = collect(p.chat("gpt-x", request(true)).await.unwrap()).await;
    let seen = v.last();
    assert_eq!(seen.body["stream"], json!(true));
    assert_eq!(
        seen.body["stream_options"],
        json!({ "include_usage": true })
    );
    // The call's pieces come as progress while it is written, then the whole call.
    let delta = |id: Option<&str>, name: Option<&str>, arguments: &str| ChatEvent::ToolCallDelta {
        index: 0,
        id: id.map(str::to_string),
        name: name.map(str::to_string),
        arguments: arguments.into(),
    };
    assert_eq!(
        events.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        vec![
            ChatEvent::Text("Sure".into()),
            delta(Some("call_7"), Some("create_file"), ""),
            delta(None, None, "{\"path\":"),
            delta(None, None, "\"c.html\"}"),
            call("call_7", "create_file", "{\"path\":\"c.html\"}"),
            ChatEvent::Finish {
                reason: "tool_calls".into(),
                usage: Usage {
                    prompt_tokens: 5,
                    completion_tokens: 6
                }
            },
        ]
    );

    // A cut stream is an error, not a short answer.
    v.answer(
        200,
        "text/event-stream",
        sse(&[(None, chunk(json!({ "content": "Hal" }), Value::Null))]),
    );
    let events = collect(p.chat("gpt-x", request(true)).await.unwrap()).await;
    assert!(
        matches!(events.last(), Some(Err(LlmError::Unavailable(m))) if m.contains("before the end")),
        "{events:?}"
    );

    // The vendor's refusal carries its status and message.
    v.answer(
        401,
        "application/json",
        json!({ "error": { "message": "Incorrect API key provided" } }).to_string(),
    );
    match p.chat("gpt-x", request(false)).await.err().unwrap() {
        LlmError::Upstream {
            provider,
            status,
            message,
        } => {
            assert_eq!(
                (provider.as_str(), status, message.as_str()),
                ("openai", 401, "Incorrect API key provided")
            )
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn anthropic_messages_request_shape_whole_and_streamed() {
    let (v, url) = vendor().await;
    let p = adapter(
        ProviderKind::Anthropic,
        "anthropic",
        &url,
        Some("sk-ant-test-5678".into()),
    );
    v.answer(200, "application/json", json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
        "content": [{ "type": "text", "text": "Done." }, { "type": "tool_use", "id": "toolu_1", "name": "create_file", "input": { "path": "b.html" } }],
        "stop_reason": "tool_use", "stop_sequence": null, "usage": { "input_tokens": 40, "output_tokens": 12 } }).to_string());
    let events = collect(p.chat("claude-x", request(false)).await.unwrap()).await;
    let seen = v.last();
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("POST", "/v1/messages")
    );
    assert_eq!(header(&seen, "x-api-key"), "sk-ant-test-5678");
    assert_eq!(header(&seen, "anthropic-version"), "2023-06-01");
    assert_eq!(
        header(&seen, "authorization"),
        "",
        "Anthropic keys go in x-api-key only"
    );
    assert_eq!(
        seen.body,
        json!({
            "model": "claude-x",
            "max_tokens": 100,
            "system": "You build web apps.",
            "messages": [
                { "role": "user", "content": "Create index.html" },
                { "role": "assistant", "content": [{ "type": "tool_use", "id": "call_1", "name": "create_file", "input": { "path": "a.html" } }] },
                { "role": "user", "content": [{ "type": "tool_result", "tool_use_id": "call_1", "content": "created" }] }
            ],
            "temperature": 0.2,
            "tools": [{ "name": "create_file", "description": "Create a file",
                "input_schema": { "type": "object", "properties": { "path": { "type": "string" } }, "required": ["path"] } }],
            "tool_choice": { "type": "any" }
        })
    );
    assert_eq!(
        events.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        vec![
            ChatEvent::Text("Done.".into()),
            call("toolu_1", "create_file", "{\"path\":\"b.html\"}"),
            ChatEvent::Finish {
                reason: "tool_calls".into(),
                usage: Usage {
                    prompt_tokens: 40,
                    completion_tokens: 12
                }
            },
        ]
    );

    v.answer(200, "text/event-stream", sse(&[
        (Some("message_start"), json!({ "type": "message_start", "message": { "id": "msg_2", "type": "message", "role": "assistant",
            "content": [], "model": "claude-x", "usage": { "input_tokens": 25, "output_tokens": 1 } } })),
        (Some("content_block_start"), json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "text", "text": "" } })),
        (Some("ping"), json!({ "type": "ping" })),
        (Some("content_block_delta"), json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "text_delta", "text": "Hello" } })),
        (Some("content_block_delta"), json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "text_delta", "text": " there" } })),
        (Some("content_block_stop"), json!({ "type": "content_block_stop", "index": 0 })),
        (Some("content_block_start"), json!({ "type": "content_block_start", "index": 1, "content_block": { "type": "tool_use", "id": "toolu_2", "name": "create_file", "input": {} } })),
        (Some("content_block_delta"), json!({ "type": "content_block_delta", "index": 1, "delta": { "type": "input_json_delta", "partial_json": "{\"path\": " } })),
        (Some("content_block_delta"), json!({ "type": "content_block_delta", "index": 1, "delta": { "type": "input_json_delta", "partial_json": "\"d.html\"}" } })),
        (Some("content_block_stop"), json!({ "type": "content_block_stop", "index": 1 })),
        (Some("message_delta"), json!({ "type": "message_delta", "delta": { "stop_reason": "tool_use", "stop_sequence": null }, "usage": { "output_tokens": 17 } })),
        (Some("message_stop"), json!({ "type": "message_stop" })),
    ]));
    let events = collect(p.chat("claude-x", request(true)).await.unwrap()).await;
    assert_eq!(v.last().body["stream"], json!(true));
    assert_eq!(
        events.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        vec![
            ChatEvent::Text("Hello".into()),
            ChatEvent::Text(" there".into()),
            call("toolu_2", "create_file", "{\"path\": \"d.html\"}"),
            ChatEvent::Finish {
                reason: "tool_calls".into(),
                usage: Usage {
                    prompt_tokens: 25,
                    completion_tokens: 17
                }
            },
        ]
    );

    // An error event mid-stream becomes an error.
    v.answer(200, "text/event-stream", sse(&[(Some("error"), json!({ "type": "error", "error": { "type": "overloaded_error", "message": "Overloaded" } }))]));
    let events = collect(p.chat("claude-x", request(true)).await.unwrap()).await;
    assert!(
        matches!(events.last(), Some(Err(LlmError::Upstream { message, .. })) if message == "Overloaded"),
        "{events:?}"
    );
}

#[tokio::test]
async fn gemini_request_shape_whole_and_streamed() {
    let (v, url) = vendor().await;
    let p = adapter(
        ProviderKind::Gemini,
        "gemini",
        &url,
        Some("AIza-test-9012".into()),
    );
    v.answer(200, "application/json", json!({
        "candidates": [{ "content": { "role": "model", "parts": [{ "functionCall": { "name": "create_file", "args": { "path": "b.html" } } }] },
            "finishReason": "STOP", "index": 0 }],
        "usageMetadata": { "promptTokenCount": 33, "candidatesTokenCount": 7, "totalTokenCount": 40 } }).to_string());
    let mut req = request(false);
    req.options.seed = Some(7);
    let events = collect(p.chat("gemini-x", req).await.unwrap()).await;
    let seen = v.last();
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("POST", "/v1beta/models/gemini-x:generateContent")
    );
    assert_eq!(seen.query, None);
    assert_eq!(header(&seen, "x-goog-api-key"), "AIza-test-9012");
    assert_eq!(
        seen.body,
        json!({
            "contents": [
                { "role": "user", "parts": [{ "text": "Create index.html" }] },
                { "role": "model", "parts": [{ "functionCall": { "name": "create_file", "args": { "path": "a.html" } } }] },
                { "role": "user", "parts": [{ "functionResponse": { "name": "create_file", "response": { "content": "created" } } }] }
            ],
            "systemInstruction": { "parts": [{ "text": "You build web apps." }] },
            "generationConfig": { "maxOutputTokens": 100, "temperature": 0.2, "seed": 7 },
            "tools": [{ "functionDeclarations": [{ "name": "create_file", "description": "Create a file",
                "parameters": { "type": "object", "properties": { "path": { "type": "string" } }, "required": ["path"] } }] }],
            "toolConfig": { "functionCallingConfig": { "mode": "ANY" } }
        })
    );
    let events: Vec<ChatEvent> = events.into_iter().map(Result::unwrap).collect();
    assert_eq!(events.len(), 2);
    match &events[0] {
        ChatEvent::ToolCall(c) => assert_eq!(
            (c.function.name.as_str(), c.function.arguments.as_str()),
            ("create_file", "{\"path\":\"b.html\"}")
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        events[1],
        ChatEvent::Finish {
            reason: "tool_calls".into(),
            usage: Usage {
                prompt_tokens: 33,
                completion_tokens: 7
            }
        }
    );

    v.answer(200, "text/event-stream", sse(&[
        (None, json!({ "candidates": [{ "content": { "role": "model", "parts": [{ "text": "Hel" }] }, "index": 0 }] })),
        (None, json!({ "candidates": [{ "content": { "role": "model", "parts": [{ "text": "lo" }] }, "finishReason": "MAX_TOKENS", "index": 0 }],
            "usageMetadata": { "promptTokenCount": 12, "candidatesTokenCount": 2, "totalTokenCount": 14 } })),
    ]));
    let mut req = request(true);
    req.tools.clear();
    req.tool_choice = None;
    req.response_format = Some(
        json!({ "type": "json_schema", "json_schema": { "name": "x", "schema": { "type": "object" } } }),
    );
    let events = collect(p.chat("gemini-x", req).await.unwrap()).await;
    let seen = v.last();
    assert_eq!(seen.path, "/v1beta/models/gemini-x:streamGenerateContent");
    assert_eq!(seen.query.as_deref(), Some("alt=sse"));
    assert_eq!(
        seen.body["generationConfig"],
        json!({ "maxOutputTokens": 100, "temperature": 0.2,
        "responseMimeType": "application/json", "responseJsonSchema": { "type": "object" } })
    );
    assert!(seen.body.get("tools").is_none());
    assert_eq!(
        events.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        vec![
            ChatEvent::Text("Hel".into()),
            ChatEvent::Text("lo".into()),
            ChatEvent::Finish {
                reason: "length".into(),
                usage: Usage {
                    prompt_tokens: 12,
                    completion_tokens: 2
                }
            },
        ]
    );

    v.answer(400, "application/json", json!({ "error": { "code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT" } }).to_string());
    match p.chat("gemini-x", request(false)).await.err().unwrap() {
        LlmError::Upstream {
            status: 400,
            message,
            ..
        } => assert_eq!(message, "API key not valid."),
        other => panic!("{other:?}"),
    }
}
