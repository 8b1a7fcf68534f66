use autocrea_e2e::TestServer;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn create_list_search_sort_update_duplicate_delete() {
    let s = TestServer::start().await;
    let c = s.user("ada@example.com").await;
    let templates = c.get("/api/v1/templates").await;
    let ids: Vec<&str> = templates.body["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["static", "vite-react", "nextjs"]);

    let r = c.post("/api/v1/projects", json!({"name": "Lunch planner", "description": "Team lunches", "template": "vite-react"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        (r.body["slug"].as_str(), r.body["template"].as_str()),
        (Some("lunch-planner"), Some("vite-react"))
    );
    let lunch = r.body["id"].as_str().unwrap().to_string();
    assert!(
        lunch
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "ids are DNS-label safe"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let budget = c.new_project("Budget tracker").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = c
        .post(
            "/api/v1/projects",
            json!({"name": "x", "template": "cobol"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "unknown_template")
    );

    let names = |r: &autocrea_e2e::Reply| -> Vec<String> {
        r.body["projects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(&c.get("/api/v1/projects").await),
        ["Budget tracker", "Lunch planner"],
        "newest update first"
    );
    assert_eq!(
        names(&c.get("/api/v1/projects?sort=name&order=asc").await),
        ["Budget tracker", "Lunch planner"]
    );
    assert_eq!(
        names(&c.get("/api/v1/projects?sort=created&order=asc").await),
        ["Lunch planner", "Budget tracker"]
    );
    assert_eq!(
        names(&c.get("/api/v1/projects?q=LUNCH").await),
        ["Lunch planner"]
    );
    assert_eq!(
        names(&c.get("/api/v1/projects?q=team").await),
        ["Lunch planner"],
        "search covers descriptions"
    );
    let r = c.get("/api/v1/projects?sort=size").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = c
        .patch(
            &format!("/api/v1/projects/{lunch}"),
            json!({"name": "Lunch & dinner"}),
        )
        .await;
    assert_eq!(
        (
            r.body["name"].as_str(),
            r.body["slug"].as_str(),
            r.body["description"].as_str()
        ),
        (
            Some("Lunch & dinner"),
            Some("lunch-dinner"),
            Some("Team lunches")
        )
    );
    assert_eq!(
        names(&c.get("/api/v1/projects").await)[0],
        "Lunch & dinner",
        "an update moves it to the top"
    );

    let r = c
        .post_empty(&format!("/api/v1/projects/{budget}/duplicate"))
        .await;
    assert_eq!(
        (r.status, r.body["name"].as_str()),
        (StatusCode::CREATED, Some("Budget tracker (copy)"))
    );
    assert_eq!(
        c.get("/api/v1/projects").await.body["projects"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    assert_eq!(
        c.delete(&format!("/api/v1/projects/{budget}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        c.get(&format!("/api/v1/projects/{budget}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.delete(&format!("/api/v1/projects/{budget}")).await.status,
        StatusCode::NOT_FOUND
    );
    s.stop().await;
}

#[tokio::test]
async fn another_users_project_is_not_found_on_every_route() {
    let s = TestServer::start().await;
    let owner = s.user("owner@example.com").await;
    let other = s.user("other@example.com").await;
    let id = owner.new_project("Secret plans").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/projects/{id}");

    for r in [
        other.get(&path).await,
        other.patch(&path, json!({"name": "pwned"})).await,
        other.delete(&path).await,
        other.post_empty(&format!("{path}/duplicate")).await,
    ] {
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{}",
            r.text
        );
        assert!(!r.text.contains("Secret"), "nothing leaks");
    }
    assert!(other.get("/api/v1/projects").await.body["projects"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(
        other.get("/api/v1/projects?q=Secret").await.body["projects"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        owner.get(&path).await.body["name"],
        "Secret plans",
        "untouched"
    );
    s.stop().await;
}

/// A prompt at creation: the project (named from the prompt when no name is
/// given), a thread and the first turn with the prompt, in one request. A
/// turn that cannot start keeps the project and says why; bad input makes
/// nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_creates_the_project_and_starts_its_first_turn() {
    use autocrea_e2e::scripted::{scripted_model, Script};
    let script = Script::default();
    script.replies.lock().unwrap().push_back((
        0,
        json!({"role": "assistant", "content": "Planned the todo list."}),
    ));
    let base = scripted_model(script.clone()).await;
    let s = TestServer::start().await;
    let c = s.user("ada@example.com").await;
    let r = c
        .send(c.request(reqwest::Method::PUT, "/api/v1/admin/llm/policy").json(&json!({"local": true, "providers": [
            {"id": "scripted", "kind": "openai", "base_url": base, "enabled": true, "models": ["coder"]}]})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = c
        .send(
            c.request(reqwest::Method::PUT, "/api/v1/me/provider-keys/scripted")
                .json(&json!({"key": "sk-scripted-1234"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let count = |c: &autocrea_e2e::Client| {
        let c = c.clone();
        async move {
            c.get("/api/v1/projects").await.body["projects"]
                .as_array()
                .unwrap()
                .len()
        }
    };

    // Bad input is refused before anything is made.
    for (body, code, field) in [
        (json!({"prompt": "   "}), "invalid_input", "prompt:"),
        (
            json!({"prompt": "x".repeat(32_001)}),
            "invalid_input",
            "prompt:",
        ),
        (json!({"prompt": "a\u{0007}b"}), "invalid_input", "prompt:"),
        (
            json!({"prompt": "Build it", "model": "nobody/none"}),
            "model_unavailable",
            "model:",
        ),
        (
            json!({"description": "no name and no prompt"}),
            "invalid_input",
            "name:",
        ),
    ] {
        let r = c.post("/api/v1/projects", body.clone()).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, code),
            "{body}: {}",
            r.text
        );
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(field),
            "{}",
            r.text
        );
    }
    assert_eq!(count(&c).await, 0, "nothing was made");

    let prompt = "Build a todo list app with add and delete";
    let r = c
        .post(
            "/api/v1/projects",
            json!({"prompt": prompt, "template": "static", "model": "scripted/coder"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        (
            r.body["name"].as_str(),
            r.body["slug"].as_str(),
            r.body["description"].as_str()
        ),
        (Some("Todo list app"), Some("todo-list-app"), Some(prompt))
    );
    assert!(r.body["turn_error"].is_null(), "{}", r.text);
    let (project, thread, turn) = (
        r.body["id"].as_str().unwrap().to_string(),
        r.body["thread_id"].as_str().expect("a thread").to_string(),
        r.body["turn_id"].as_str().expect("a turn").to_string(),
    );
    let agent = c.get(&format!("/api/v1/projects/{project}/agent")).await;
    assert_eq!(agent.body["model"], "scripted/coder", "{}", agent.text);
    let mut messages = json!(null);
    for _ in 0..300 {
        messages = c
            .get(&format!(
                "/api/v1/projects/{project}/threads/{thread}/messages"
            ))
            .await
            .body;
        if messages["running"] == false {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(messages["running"], false, "the turn ended");
    let list = messages["messages"].as_array().unwrap();
    assert_eq!(list[0]["role"], "user");
    assert_eq!(list[0]["content"], prompt);
    assert!(
        list.iter()
            .any(|m| m["role"] == "assistant" && m["content"] == "Planned the todo list."),
        "{messages}"
    );
    let turns = c
        .get(&format!(
            "/api/v1/projects/{project}/threads/{thread}/turns"
        ))
        .await;
    assert_eq!(
        turns.body["turns"][0]["id"],
        turn.as_str(),
        "{}",
        turns.text
    );
    let asked = script.requests.lock().unwrap().clone();
    assert!(
        asked.iter().any(|req| req["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["role"] == "user" && m["content"].as_str().unwrap_or("").contains(prompt))),
        "the model was asked the prompt"
    );

    // Usage names the project and the person (the server joins them in).
    let usage = c.get("/api/v1/admin/usage").await;
    assert!(
        usage
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["project_id"] == project.as_str()
                && u["project_name"] == "Todo list app"
                && u["user_name"].as_str().is_some_and(|n| !n.is_empty())),
        "{}",
        usage.text
    );

    // A given name stays; the same derived name twice gets the next free slug.
    let r = c
        .post(
            "/api/v1/projects",
            json!({"name": "Chores", "prompt": "Build a chores board", "model": "scripted/coder"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["name"].as_str()),
        (StatusCode::CREATED, Some("Chores")),
        "{}",
        r.text
    );

    // The default model is the local one, and no worker runs here: the
    // project and its thread are kept, and the answer says why no turn started.
    let r = c.post("/api/v1/projects", json!({"prompt": prompt})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["slug"], "todo-list-app-2", "{}", r.text);
    assert_eq!(
        r.body["turn_error"]["code"], "model_unavailable",
        "{}",
        r.text
    );
    assert!(!r.body["turn_error"]["message"].as_str().unwrap().is_empty());
    assert!(r.body["turn_id"].is_null());
    let kept = r.body["id"].as_str().unwrap();
    assert_eq!(
        c.get(&format!("/api/v1/projects/{kept}")).await.status,
        StatusCode::OK
    );
    let threads = c.get(&format!("/api/v1/projects/{kept}/threads")).await;
    assert_eq!(
        threads.body["threads"][0]["id"], r.body["thread_id"],
        "{}",
        threads.text
    );
    assert_eq!(count(&c).await, 3);

    // Without a prompt: no thread, no turn, as before.
    let r = c.post("/api/v1/projects", json!({"name": "Plain"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(
        r.body["thread_id"].is_null()
            && r.body["turn_id"].is_null()
            && r.body["turn_error"].is_null()
    );
    s.stop().await;
}
