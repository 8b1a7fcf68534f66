//! The published OpenAPI document matches the router and the contract.

use autocrea_e2e::TestServer;
use reqwest::StatusCode;

#[tokio::test]
async fn document_is_served_and_lists_the_contract() {
    let s = TestServer::start().await;
    let r = s.browser().get("/api/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = r.body["paths"].as_object().unwrap();
    let contract = [
        ("post", "/api/v1/auth/signup"),
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/auth/logout"),
        ("get", "/api/v1/me"),
        ("post", "/api/v1/me/tokens"),
        ("get", "/api/v1/me/tokens"),
        ("delete", "/api/v1/me/tokens/{id}"),
        ("get", "/api/v1/projects"),
        ("post", "/api/v1/projects"),
        ("get", "/api/v1/projects/{id}"),
        ("patch", "/api/v1/projects/{id}"),
        ("delete", "/api/v1/projects/{id}"),
        ("post", "/api/v1/projects/{id}/duplicate"),
        ("get", "/api/v1/templates"),
        ("get", "/healthz"),
        ("get", "/readyz"),
    ];
    for (method, path) in contract {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the document"
        );
    }
    // Every schema a path refers to exists.
    let schemas = r.body["components"]["schemas"].as_object().unwrap();
    for reference in find_refs(&r.body) {
        let name = reference.trim_start_matches("#/components/schemas/");
        assert!(schemas.contains_key(name), "dangling $ref {reference}");
    }
    assert!(r.body["components"]["securitySchemes"]["token"].is_object());
    s.stop().await;
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let s = TestServer::start().await;
    let c = s.user("ada@example.com").await;
    let doc = c.get("/api/openapi.json").await.body;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let concrete = path.replace("{id}", "0");
            let r = c
                .send(
                    c.request(method.to_uppercase().parse().unwrap(), &concrete)
                        .header("content-type", "application/json")
                        .body("{}"),
                )
                .await;
            assert!(
                r.code() != "no_such_route" && r.code() != "method_not_allowed",
                "{method} {path} is documented but not routed: {}",
                r.text
            );
        }
    }
    s.stop().await;
}

fn find_refs(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Object(m) => m
            .iter()
            .flat_map(|(k, v)| {
                if k == "$ref" {
                    vec![v.as_str().unwrap_or_default().to_string()]
                } else {
                    find_refs(v)
                }
            })
            .collect(),
        serde_json::Value::Array(a) => a.iter().flat_map(find_refs).collect(),
        _ => vec![],
    }
}
