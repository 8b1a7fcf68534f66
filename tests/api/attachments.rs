//! Attachments on chat messages: uploads sniffed by their bytes with size
//! limits, text files inlined into the request, images sent as image parts
//! to a provider that accepts them and as a note to one that does not,
//! previews read back by the owner only, edits keeping them.

use crate::agent::{setup, wait_idle};
use autocrea_e2e::scripted::Script;
use autocrea_e2e::Client;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn png(size: usize) -> Vec<u8> {
    let mut data = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    data.resize(size, 7);
    data
}

async fn upload(c: &Client, project: &str, name: &str, data: Vec<u8>) -> autocrea_e2e::Reply {
    c.send(
        c.request(
            Method::POST,
            &format!("/api/v1/projects/{project}/attachments?name={name}"),
        )
        .header("content-type", "application/octet-stream")
        .body(data),
    )
    .await
}

/// The newest request's last user message.
fn last_user_message(script: &Script) -> Value {
    let requests = script.requests();
    let messages = requests.last().expect("the model was asked")["messages"]
        .as_array()
        .unwrap()
        .clone();
    messages
        .into_iter()
        .rev()
        .find(|m| m["role"] == "user")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_reach_the_model_as_text_and_images() {
    let script = Script::default();
    let (s, c, project, thread) = setup(&script).await;

    // Uploads: the type comes from the bytes, within the limits.
    let image = upload(&c, &project, "shot.png", png(2 * 1024 * 1024)).await;
    assert_eq!(
        image.status,
        StatusCode::CREATED,
        "an image over the API's 1 MiB body limit is still taken: {}",
        image.text
    );
    assert_eq!(
        (
            image.body["kind"].as_str(),
            image.body["media_type"].as_str()
        ),
        (Some("image"), Some("image/png"))
    );
    let image_id = image.body["id"].as_str().unwrap().to_string();
    let notes = upload(
        &c,
        &project,
        "notes.txt",
        b"Use the colour teal.\n```\nnot the end\n```\n".to_vec(),
    )
    .await;
    assert_eq!(notes.status, StatusCode::CREATED, "{}", notes.text);
    assert_eq!(notes.body["kind"], "text");
    let notes_id = notes.body["id"].as_str().unwrap().to_string();
    let r = upload(&c, &project, "big.png", png(5 * 1024 * 1024)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
        "{}",
        r.text
    );
    // The unread body ends the connection, and the answer says so: a client
    // that reused it would fail its next request with a broken pipe.
    assert_eq!(r.headers["connection"], "close");
    let r = upload(
        &c,
        &project,
        "tool.exe",
        b"MZ\x90\x00\x03\x00binary".to_vec(),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_type"),
        "{}",
        r.text
    );
    let r = upload(&c, &project, "empty.txt", Vec::new()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Read back by the owner only, never as something a browser would run.
    let r = c
        .get(&format!(
            "/api/v1/projects/{project}/attachments/{image_id}"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "image/png");
    assert!(r.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    let other = s.user("bob@example.com").await;
    assert_eq!(
        other
            .get(&format!(
                "/api/v1/projects/{project}/attachments/{image_id}"
            ))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // An id from another project is refused on a message.
    let elsewhere = c.new_project("Elsewhere").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let t = c
        .post(
            &format!("/api/v1/projects/{elsewhere}/threads"),
            json!({"title": "t"}),
        )
        .await;
    let r = c
        .post(
            &format!(
                "/api/v1/projects/{elsewhere}/threads/{}/messages",
                t.body["id"].as_str().unwrap()
            ),
            json!({"content": "Look", "model": "scripted/coder", "attachments": [image_id]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // A provider without images: text inlined, the image as a note.
    let base = format!("/api/v1/projects/{project}/threads/{thread}");
    let r = c.post(&format!("{base}/messages"), json!({"content": "Build it like the picture", "model": "scripted/coder", "attachments": [image_id, notes_id]})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let body = wait_idle(&c, &project, &thread).await;
    let asked = last_user_message(&script);
    let text = asked["content"]
        .as_str()
        .expect("plain text for a model without images");
    assert!(text.contains("Build it like the picture"), "{text}");
    assert!(
        text.contains(
            "Attached file `notes.txt`:\n````\nUse the colour teal.\n```\nnot the end\n```\n\n````"
        ),
        "{text}"
    );
    assert!(
        text.contains("attached the image `shot.png`, but the model in use cannot see images"),
        "{text}"
    );
    let request = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "user")
        .unwrap()
        .clone();
    let names: Vec<&str> = request["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["shot.png", "notes.txt"]);

    // The admin marks the provider as reading images: the image goes as an image part.
    let mut policy = c.get("/api/v1/admin/llm").await.body["policy"].clone();
    assert_eq!(
        policy["providers"][0]["images"], false,
        "off unless the admin says so"
    );
    policy["providers"][0]["images"] = json!(true);
    let r = c
        .send(
            c.request(Method::PUT, "/api/v1/admin/llm/policy")
                .json(&policy),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let small = upload(&c, &project, "small.png", png(64)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = c
        .post(
            &format!("{base}/messages"),
            json!({"content": "And this one", "model": "scripted/coder", "attachments": [small]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    wait_idle(&c, &project, &thread).await;
    let asked = last_user_message(&script);
    let parts = asked["content"]
        .as_array()
        .expect("content parts for a model with images");
    assert!(parts[0]["text"].as_str().unwrap().contains("And this one"));
    let url = parts[1]["image_url"]["url"].as_str().unwrap();
    assert!(
        url.starts_with("data:image/png;base64,iVBORw0KGgo"),
        "{}",
        &url[..40]
    );

    // An edit keeps the attachments unless it names others; too many are refused.
    let request_id = request["id"].as_str().unwrap();
    let r = c
        .post(
            &format!("{base}/messages/{request_id}/edit"),
            json!({"content": "Build it like the picture, in teal", "model": "scripted/coder"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let body = wait_idle(&c, &project, &thread).await;
    let edited = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["content"] == "Build it like the picture, in teal")
        .unwrap()
        .clone();
    assert_eq!(edited["attachments"].as_array().unwrap().len(), 2);
    let many: Vec<String> = vec![small.clone(); 6];
    let r = c
        .post(
            &format!("{base}/messages"),
            json!({"content": "Lots", "model": "scripted/coder", "attachments": many}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
}
