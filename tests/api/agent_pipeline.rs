//! The agent's full pipeline, branches and model choice, driven by a
//! scripted OpenAI-compatible model: the Architect's plan waits for the
//! user, each role reports its step; an edit or a regeneration starts a new
//! branch from the old code; providers come from autocrea.toml or are added
//! by an admin at run time with a shared key; text-format tool calls.

use super::agent::{events, setup, setup_with, wait_idle};
use autocrea_e2e::scripted::{calls, say, scripted_model, Script};
use autocrea_e2e::Client;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

async fn turns(c: &Client, project: &str, thread: &str) -> Vec<Value> {
    c.get(&format!(
        "/api/v1/projects/{project}/threads/{thread}/turns"
    ))
    .await
    .body["turns"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_pipeline_waits_for_the_plan_and_every_role_reports() {
    let script = Script::default();
    script.push(say("1. Add app2.js that greets the visitor"));
    script.push(calls(&[("d1", "create_file", json!({"path": "app2.js", "content": "document.body.innerHTML = location.hash;\neval(location.hash);\n"}))]));
    script.push(say("Added a greeting script"));
    script.push(say("No dependencies are needed."));
    script.push(calls(&[("t1", "check_for_errors", json!({}))]));
    script.push(say("The checks pass."));
    script.push(calls(&[(
        "s1",
        "full_file_rewrite",
        json!({"path": "app2.js", "content": "document.body.textContent = location.hash;\n"}),
    )]));
    script.push(say("Removed eval and innerHTML."));
    let (s, c, project, thread) = setup(&script).await;
    let r = c
        .send(
            c.request(Method::PUT, &format!("/api/v1/projects/{project}/agent"))
                .json(&json!({"model": "scripted/coder", "mode": "full"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let base = format!("/api/v1/projects/{project}/threads/{thread}");
    let r = c
        .post(
            &format!("{base}/messages"),
            json!({"content": "Greet the visitor"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(
        (r.body["mode"].as_str(), r.body["model"].as_str()),
        (Some("full"), Some("scripted/coder")),
        "the project's settings"
    );
    let turn = r.body["id"].as_str().unwrap().to_string();

    // The plan waits; nothing is written meanwhile.
    let mut waiting = false;
    for _ in 0..100 {
        if events(&c, &project, &thread)
            .await
            .iter()
            .any(|e| e["type"] == "plan")
        {
            waiting = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(waiting, "a plan event");
    let t = &turns(&c, &project, &thread).await[0];
    assert_eq!(t["plan_waiting"], true);
    assert_eq!(
        (
            t["steps"][0]["role"].as_str(),
            t["steps"][0]["status"].as_str()
        ),
        (Some("Architect"), Some("waiting"))
    );
    assert_eq!(
        t["steps"][0]["output"],
        "1. Add app2.js that greets the visitor"
    );
    assert_eq!(script.requests().len(), 1, "only the Architect was asked");
    let r = c
        .post(
            &format!("{base}/turns/{turn}/plan"),
            json!({"approve": true, "plan": "1. Add app2.js (edited by Ada)"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let r = c
        .post(
            &format!("{base}/turns/{turn}/plan"),
            json!({"approve": true}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "no_plan_waiting")
    );
    wait_idle(&c, &project, &thread).await;

    let ev = events(&c, &project, &thread).await;
    let end = ev.iter().rev().find(|e| e["type"] == "turn:end").unwrap();
    assert_eq!(end["data"]["status"], "done", "{end}");
    assert_eq!(
        end["data"]["findings"],
        json!([]),
        "the auditor's fix removed every finding"
    );
    let t = &turns(&c, &project, &thread).await[0];
    let steps: Vec<(&str, &str)> = t["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["role"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("Architect", "done"),
            ("Developer", "done"),
            ("DevOps", "done"),
            ("Tester", "done"),
            ("Security Auditor", "done")
        ]
    );
    assert_eq!(t["steps"][0]["output"], "1. Add app2.js (edited by Ada)");
    assert_eq!(
        t["steps"][1]["prompt_tokens"], 400,
        "two model calls of 200 prompt tokens"
    );
    assert!(t["steps"][1]["duration_ms"].as_i64().is_some());
    let audit = t["steps"][4]["output"].as_str().unwrap();
    assert!(
        audit.contains("found 2 finding(s) (1 high)") && audit.contains("0 remain"),
        "{audit}"
    );
    let step_events = ev.iter().filter(|e| e["type"] == "step").count();
    assert!(
        step_events >= 11,
        "running and ended for each role, and the wait: {step_events}"
    );
    assert!(
        ev.iter().any(|e| e["type"] == "token"),
        "model text streams as tokens"
    );

    // Each role saw its part: the Developer the edited plan, the auditor the diff and the findings.
    let requests = script.requests();
    let last_user = |i: usize| {
        requests[i]["messages"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|m| m["role"] == "user")
            .unwrap()["content"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(requests[0]["messages"][0]["content"]
        .as_str()
        .unwrap()
        .starts_with("You are the Architect"));
    let architect_tools: Vec<&str> = requests[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        architect_tools,
        ["read_file", "list_files", "search_files", "finish"]
    );
    assert!(last_user(1).contains("edited by Ada"), "{}", last_user(1));
    assert!(
        last_user(6).contains("+eval(location.hash);") && last_user(6).contains("[high] app2.js:2"),
        "{}",
        last_user(6)
    );

    // One commit for the whole turn.
    let versions = c
        .get(&format!("/api/v1/projects/{project}/versions"))
        .await
        .body;
    assert_eq!(versions["total"], 2);
    assert!(versions["versions"][0]["message"]
        .as_str()
        .unwrap()
        .contains("full mode: Architect, Developer, DevOps, Tester, Security Auditor"));
    let wt = s.state().git.worktree_path(&project);
    assert_eq!(
        std::fs::read_to_string(wt.join("app2.js")).unwrap(),
        "document.body.textContent = location.hash;\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_plan_changes_nothing() {
    let script = Script::default();
    script.push(say("1. Delete every page"));
    let (_s, c, project, thread) = setup(&script).await;
    let base = format!("/api/v1/projects/{project}/threads/{thread}");
    let r = c
        .post(
            &format!("{base}/messages"),
            json!({"content": "Tidy up", "model": "scripted/coder", "mode": "full"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let turn = r.body["id"].as_str().unwrap().to_string();
    let mut answered = false;
    for _ in 0..100 {
        let r = c
            .post(
                &format!("{base}/turns/{turn}/plan"),
                json!({"approve": false, "reason": "too much"}),
            )
            .await;
        if r.status == StatusCode::ACCEPTED {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(answered);
    wait_idle(&c, &project, &thread).await;
    let t = &turns(&c, &project, &thread).await[0];
    assert_eq!(
        (t["status"].as_str(), t["error"].as_str()),
        (Some("failed"), Some("the plan was rejected: too much"))
    );
    assert_eq!(
        c.get(&format!("/api/v1/projects/{project}/versions"))
            .await
            .body["total"],
        1
    );
    let bad = c
        .post(
            &format!("{base}/messages"),
            json!({"content": "x", "mode": "slow"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

fn branch_contents(body: &Value) -> Vec<String> {
    let by_id: std::collections::HashMap<&str, &Value> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap(), m))
        .collect();
    body["branch"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| by_id[id.as_str().unwrap()])
        .filter(|m| m["role"] != "tool" && !m["content"].as_str().unwrap().is_empty())
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_and_regenerate_start_a_branch_from_the_old_code() {
    let script = Script::default();
    for (file, answer) in [
        ("a.html", "Made a"),
        ("b.html", "Made b"),
        ("c.html", "Made c"),
        ("d.html", "Made d"),
    ] {
        script.push(calls(&[(
            "x",
            "create_file",
            json!({"path": file, "content": format!("<p>{file}</p>\n")}),
        )]));
        script.push(say(answer));
    }
    let (s, c, project, thread) = setup(&script).await;
    let base = format!("/api/v1/projects/{project}/threads/{thread}");
    for ask in ["Make a", "Make b"] {
        let r = c
            .post(
                &format!("{base}/messages"),
                json!({"content": ask, "model": "scripted/coder"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
        wait_idle(&c, &project, &thread).await;
    }
    let body = c.get(&format!("{base}/messages")).await.body;
    assert_eq!(
        branch_contents(&body),
        ["Make a", "Made a", "Make b", "Made b"]
    );
    let first = body["messages"][0]["id"].as_str().unwrap().to_string();
    let answer = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "assistant")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = c
        .post(&format!("{base}/messages/{answer}/regenerate"), json!({}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "only user messages: {}",
        r.text
    );

    // Regenerate "Make a": a new answer beside the old, from the first version's code.
    let r = c
        .post(
            &format!("{base}/messages/{first}/regenerate"),
            json!({"model": "scripted/coder"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    wait_idle(&c, &project, &thread).await;
    let body = c.get(&format!("{base}/messages")).await.body;
    assert_eq!(branch_contents(&body), ["Make a", "Made c"]);
    let all: Vec<&str> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert!(
        all.contains(&"Made a") && all.contains(&"Made b"),
        "the old branch stays"
    );
    let wt = s.state().git.worktree_path(&project);
    assert!(
        wt.join("c.html").exists() && !wt.join("a.html").exists() && !wt.join("b.html").exists()
    );
    // The model saw the history of the branch only: nothing of b.
    let seen = script.requests()[4]["messages"].to_string();
    assert!(!seen.contains("Make b"), "{seen}");

    // Edit "Make a" into "Make d": a new first message, its own branch.
    let r = c
        .post(
            &format!("{base}/messages/{first}/edit"),
            json!({"content": "Make d", "model": "scripted/coder"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    wait_idle(&c, &project, &thread).await;
    let body = c.get(&format!("{base}/messages")).await.body;
    assert_eq!(branch_contents(&body), ["Make d", "Made d"]);
    assert!(wt.join("d.html").exists() && !wt.join("c.html").exists());
    let versions = c
        .get(&format!("/api/v1/projects/{project}/versions"))
        .await
        .body;
    assert_eq!(
        versions["total"], 5,
        "every turn is a version; history is never rewritten"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_from_the_config_file_and_from_the_admin_at_run_time() {
    let script = Script::default();
    // A text-only model: calls written as blocks, one unreadable, then repaired.
    script.push(say("I will write the page.\n<tool_call>\n{\"name\": \"create_file\", \"arguments\": {\"path\": \"t.html\", \"content\": \"<p>t</p>\"\n</tool_call>"));
    script.push(say("<tool_call>\n{\"name\": \"create_file\", \"arguments\": {\"path\": \"t.html\", \"content\": \"<p>t</p>\\n\"}}\n</tool_call>"));
    script.push(say("Wrote t.html."));
    let url = scripted_model(script.clone()).await;
    let (s, admin, _project, _thread) = setup_with(&Script::default(), move |c| {
        c.providers.push(autocrea_core::config::ProviderConfig {
            id: "textual".into(),
            kind: autocrea_core::llm::policy::ProviderKind::Openai,
            base_url: url,
            models: vec!["plain".into()],
            key: Some("sk-from-config-9876".into()),
            key_env: None,
            tools: autocrea_core::llm::policy::ToolFormat::Text,
            context: Some(16384),
            images: false,
        })
    })
    .await;
    // The admin's policy edit in setup replaced the list; the file's provider comes back at each start.
    let s = s.restart().await;
    let view = admin.get("/api/v1/admin/llm").await;
    assert!(
        view.body["policy"]["providers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == "textual" && p["tools"] == "text"),
        "{}",
        view.text
    );
    assert_eq!(view.body["shared_keys"][0]["last4"], "9876");
    assert!(
        !view.text.contains("sk-from-config"),
        "the key never leaves the server"
    );

    // Another user, without a key of their own, uses it.
    let bob = s.user("bob@example.com").await;
    let providers = bob.get("/api/v1/llm/providers").await.body;
    let textual = providers["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "textual")
        .unwrap()
        .clone();
    assert_eq!(
        (
            textual["has_key"].as_bool(),
            textual["shared_key"].as_bool()
        ),
        (Some(false), Some(true))
    );
    let project = bob.new_project("Bob's").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let thread = bob
        .post(&format!("/api/v1/projects/{project}/threads"), json!({}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = bob
        .post(
            &format!("/api/v1/projects/{project}/threads/{thread}/messages"),
            json!({"content": "A page", "model": "textual/plain"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    wait_idle(&bob, &project, &thread).await;
    let ev = events(&bob, &project, &thread).await;
    assert_eq!(
        ev.iter().rev().find(|e| e["type"] == "turn:end").unwrap()["data"]["status"],
        "done"
    );
    assert!(s
        .state()
        .git
        .worktree_path(&project)
        .join("t.html")
        .exists());
    let requests = script.requests();
    assert!(
        requests[0]
            .get("tools")
            .is_none_or(|t| t.as_array().is_none_or(|a| a.is_empty())),
        "no native tools"
    );
    assert!(
        requests[0]["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("<tool_call>"),
        "the format is explained"
    );
    assert!(
        requests[1]["messages"]
            .to_string()
            .contains("could not be read"),
        "a repair prompt"
    );

    // At run time: the admin adds a provider; usable once the admin sets its key.
    let policy = admin.get("/api/v1/admin/llm").await.body["policy"].clone();
    let mut policy = policy;
    policy["providers"].as_array_mut().unwrap().push(json!({"id": "team", "kind": "openai", "base_url": "http://127.0.0.1:9/v1", "enabled": true, "models": ["big"]}));
    let r = admin
        .send(
            admin
                .request(Method::PUT, "/api/v1/admin/llm/policy")
                .json(&policy),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let pick = |c: &Client| {
        c.request(Method::PUT, &format!("/api/v1/projects/{project}/agent"))
            .json(&json!({"model": "team/big"}))
    };
    let r = bob.send(pick(&bob)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "model_unavailable"),
        "no key yet: {}",
        r.text
    );
    let r = bob
        .send(
            bob.request(Method::PUT, "/api/v1/admin/llm/providers/team/key")
                .json(&json!({"key": "sk-team-key-0001"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "admins only");
    let r = admin
        .send(
            admin
                .request(Method::PUT, "/api/v1/admin/llm/providers/team/key")
                .json(&json!({"key": "sk-team-key-0001"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["last4"], "0001");
    let r = bob.send(pick(&bob)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        bob.get(&format!("/api/v1/projects/{project}/agent"))
            .await
            .body["model"],
        "team/big"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_thread_is_summarised_to_fit_the_models_context() {
    let script = Script::default();
    let long = "a detail of the shop ".repeat(60); // ~1300 characters, ~320 tokens
    script.push(say(&format!("First answer: {long}")));
    script.push(say(
        "The user is building a shop; one long answer was given.",
    ));
    script.push(say("Second answer."));
    script.push(say("Third answer."));
    let (_s, c, project, thread) = setup(&script).await;
    // A small context: a quarter of the prompt's room ((4096 - 1024) / 4 = 768
    // tokens) is the history's budget; the first exchange alone is more.
    // (1024 tokens would not hold a turn at all: refused before it starts.)
    let mut policy = c.get("/api/v1/admin/llm").await.body["policy"].clone();
    policy["providers"][0]["context"] = json!(4096);
    let r = c
        .send(
            c.request(Method::PUT, "/api/v1/admin/llm/policy")
                .json(&policy),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let base = format!("/api/v1/projects/{project}/threads/{thread}");
    for ask in [
        format!("First: {long}"),
        "Second".to_string(),
        "Third".to_string(),
    ] {
        let r = c
            .post(
                &format!("{base}/messages"),
                json!({"content": ask, "model": "scripted/coder"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
        wait_idle(&c, &project, &thread).await;
    }
    let requests = script.requests();
    assert_eq!(requests.len(), 4, "three turns and one summary");
    let summary_request = requests[1]["messages"].to_string();
    assert!(
        summary_request.contains("Summarise this conversation")
            && summary_request.contains("First answer"),
        "{summary_request}"
    );
    for later in [&requests[2], &requests[3]] {
        let seen = later["messages"].to_string();
        assert!(
            seen.contains("A summary of the earlier conversation: The user is building a shop"),
            "{seen}"
        );
        assert!(
            !seen.contains("First answer"),
            "the summarised messages are left out: {seen}"
        );
    }
    assert!(
        requests[3]["messages"]
            .to_string()
            .contains("Second answer."),
        "the kept summary is reused, newer messages follow it"
    );
    let threads = c
        .get(&format!("/api/v1/projects/{project}/threads"))
        .await
        .body;
    assert_eq!(
        threads["threads"][0]["summary"],
        "The user is building a shop; one long answer was given."
    );
}
