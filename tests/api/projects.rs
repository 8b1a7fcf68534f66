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
