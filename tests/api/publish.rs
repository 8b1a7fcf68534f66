//! Publishing a static project end to end against the real server: the
//! build (an export of the version), the app's own origin, rollback,
//! access for each kind of visitor, and bad input. Templates with a build
//! step run in the real engine (tests/sandbox/publish.rs).

use autocrea_e2e::apps::{publish, save, site_name, AppVisitor};
use autocrea_e2e::{Client, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn a_static_project_is_published_served_rolled_back_and_kept_apart() {
    let s = TestServer::start().await;
    let owner = s.user("owner@example.com").await;
    let project = owner.new_project("Team Calendar").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let first = save(&owner, &project, "index.html", "<h1>First</h1>\n").await;
    let d1 = publish(&owner, &project, None, WAIT).await;
    assert_eq!(d1["status"], "ready", "{d1}");
    assert_eq!(d1["version"], first);
    assert_eq!(d1["live"], true);
    assert!(d1["size_bytes"].as_i64().unwrap() > 0);
    let name = site_name(&owner, &project).await;
    assert_eq!(name, "team-calendar");

    // Private by default: a signed-out page load goes to the console's
    // open route; other requests get 401; the owner gets in.
    let anon = AppVisitor::anonymous(&s, &name);
    let r = anon.get("/").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let location = r.headers["location"].to_str().unwrap();
    assert!(
        location.ends_with(&format!("/api/v1/apps/{name}/open?next=/")),
        "{location}"
    );
    assert_eq!(
        anon.request("/app.js", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    let as_owner = AppVisitor::enter(&s, &owner, &name).await;
    let page = as_owner.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.text, "<h1>First</h1>\n");
    assert!(page.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let etag = page.headers["etag"].to_str().unwrap().to_string();
    let again = as_owner.request("/", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let js = as_owner
        .request("/app.js", &[("accept-encoding", "gzip")])
        .await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.headers["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    assert_eq!(
        js.headers
            .get("content-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("gzip")
    );
    assert_eq!(
        as_owner.request("/missing.js", &[]).await.status,
        StatusCode::NOT_FOUND
    );
    // The console's session never reaches the app: its cookie is host-only
    // on the console, and the app's own cookie is another name.
    assert!(!as_owner.cookie.starts_with("autocrea_session"));

    // A second version goes live; the first keeps its own address.
    save(&owner, &project, "index.html", "<h1>Second</h1>\n").await;
    let d2 = publish(&owner, &project, None, WAIT).await;
    assert_eq!(d2["status"], "ready");
    assert_eq!(as_owner.get("/").await.text, "<h1>Second</h1>\n");
    let list = owner
        .get(&format!("/api/v1/projects/{project}/deployments"))
        .await;
    let statuses: Vec<_> = list.body["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["status"].as_str().unwrap(), d["live"].as_bool().unwrap()))
        .collect();
    assert_eq!(statuses, [("ready", true), ("superseded", false)]);
    let own_label = format!("{name}-{}", &d1["id"].as_str().unwrap()[..8]);
    assert_eq!(
        d1["url"].as_str().unwrap(),
        format!("http://{own_label}.apps.localhost:{}", s.addr().port())
    );
    let old = AppVisitor::enter(&s, &owner, &own_label).await;
    assert_eq!(old.get("/").await.text, "<h1>First</h1>\n");

    // Rollback: promote the first, no rebuild.
    let d1_id = d1["id"].as_str().unwrap();
    let r = owner
        .post_empty(&format!(
            "/api/v1/projects/{project}/deployments/{d1_id}/promote"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["live"], true);
    assert_eq!(as_owner.get("/").await.text, "<h1>First</h1>\n");
    // A browser that holds the newer page asks with its validators: the
    // older files are not "unmodified since" it (dates are no validator here).
    let second_tag = format!("\"{}\"", d2["id"].as_str().unwrap());
    let revalidated = as_owner
        .request(
            "/",
            &[
                ("if-none-match", &second_tag),
                ("if-modified-since", "Wed, 01 Dec 2100 00:00:00 GMT"),
            ],
        )
        .await;
    assert_eq!(
        (revalidated.status, revalidated.text.as_str()),
        (StatusCode::OK, "<h1>First</h1>\n")
    );
    assert!(revalidated.headers.get("last-modified").is_none());
    // The live one cannot be deleted; the other can.
    let r = owner
        .delete(&format!("/api/v1/projects/{project}/deployments/{d1_id}"))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "conflict"),
        "{}",
        r.text
    );
    let d2_id = d2["id"].as_str().unwrap();
    let r = owner
        .delete(&format!("/api/v1/projects/{project}/deployments/{d2_id}"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let left = owner
        .get(&format!("/api/v1/projects/{project}/deployments"))
        .await;
    assert_eq!(left.body["deployments"].as_array().unwrap().len(), 1);
    let gone = format!("{name}-{}", &d2_id[..8]);
    assert_eq!(
        AppVisitor::anonymous(&s, &gone).get("/").await.status,
        StatusCode::NOT_FOUND
    );

    // The build log was kept.
    let log = owner
        .get(&format!(
            "/api/v1/projects/{project}/deployments/{d1_id}/logs?follow=false"
        ))
        .await;
    let lines: Vec<_> = log.body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap().to_string())
        .collect();
    assert!(
        lines.iter().any(|l| l.contains("exporting version")),
        "{lines:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn each_access_level_lets_in_whom_it_says() {
    let s = TestServer::start().await;
    let owner = s.user("owner@example.com").await;
    let listed = s.user("listed@example.com").await;
    let other = s.user("other@example.com").await;
    let project = owner.new_project("Handbook").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        publish(&owner, &project, None, WAIT).await["status"],
        "ready"
    );
    let name = site_name(&owner, &project).await;
    let set = |body: serde_json::Value| {
        let owner = &owner;
        let project = project.clone();
        async move {
            let r = owner
                .send(
                    owner
                        .request(Method::PUT, &format!("/api/v1/projects/{project}/site"))
                        .json(&body),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            r.body
        }
    };
    // Who gets through the console's open route.
    let opens = |c: &Client| {
        let name = name.clone();
        let c = c.clone();
        async move { c.get(&format!("/api/v1/apps/{name}/open")).await.status }
    };
    // private: the owner only.
    assert_eq!(opens(&owner).await, StatusCode::SEE_OTHER);
    assert_eq!(opens(&listed).await, StatusCode::FORBIDDEN);
    // people: the owner and the listed.
    let site = set(json!({"access": "people", "people": ["listed@example.com"]})).await;
    assert_eq!(site["people"], json!(["listed@example.com"]));
    assert_eq!(opens(&listed).await, StatusCode::SEE_OTHER);
    assert_eq!(opens(&other).await, StatusCode::FORBIDDEN);
    let inside = AppVisitor::enter(&s, &listed, &name).await;
    assert_eq!(inside.get("/").await.status, StatusCode::OK);
    // Taken off the list: the sign-in stops working within its recheck time.
    set(json!({"people": []})).await;
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert_eq!(inside.get("/").await.status, StatusCode::FORBIDDEN);
    // signed_in: any account.
    set(json!({"access": "signed_in"})).await;
    assert_eq!(opens(&other).await, StatusCode::SEE_OTHER);
    assert_eq!(
        AppVisitor::anonymous(&s, &name).get("/").await.status,
        StatusCode::SEE_OTHER
    );
    // public: anyone, no sign-in.
    set(json!({"access": "public"})).await;
    let anon = AppVisitor::anonymous(&s, &name).get("/").await;
    assert_eq!(anon.status, StatusCode::OK, "{}", anon.text);
    // The portal lists what each may open.
    let portal = other.get("/api/v1/apps?q=hand").await;
    assert_eq!(
        portal.body["apps"][0]["name"],
        name.as_str(),
        "{}",
        portal.text
    );
    assert_eq!(portal.body["apps"][0]["title"], "Handbook");
    set(json!({"access": "private"})).await;
    assert_eq!(other.get("/api/v1/apps").await.body["apps"], json!([]));
    assert_eq!(
        owner.get("/api/v1/apps").await.body["apps"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    s.stop().await;
}

#[tokio::test]
async fn bad_publishes_and_names_get_clear_errors() {
    let s = TestServer::start().await;
    let owner = s.user("owner@example.com").await;
    let other = s.user("other@example.com").await;
    let project = owner.new_project("Tool").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let deployments = format!("/api/v1/projects/{project}/deployments");
    let r = owner
        .post(&deployments, json!({"version": "not-a-sha"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_input"),
        "{}",
        r.text
    );
    let r = owner
        .post(
            &deployments,
            json!({"version": "0123456789012345678901234567890123456789"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = other.post(&deployments, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A build of the project that runs (stored as such): a second publish is refused.
    let user: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'owner@example.com'")
        .fetch_one(s.pool())
        .await
        .unwrap();
    let head = owner
        .get(&format!("/api/v1/projects/{project}/versions"))
        .await
        .body["versions"][0]["sha"]
        .as_str()
        .unwrap()
        .to_string();
    autocrea_core::publish::store::insert_deployment(
        s.pool(),
        "00000000aaaaaaaa",
        &project,
        &head,
        "",
        "static",
        user,
    )
    .await
    .unwrap();
    let r = owner.post(&deployments, json!({})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "conflict"),
        "{}",
        r.text
    );
    assert!(
        r.message().contains("build of this project is running"),
        "{}",
        r.text
    );
    autocrea_core::publish::store::mark_failed(s.pool(), "00000000aaaaaaaa", "test")
        .await
        .unwrap();
    let r = owner.post(&deployments, json!({"versoin": "x"})).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "unknown fields are refused: {}",
        r.text
    );

    // A site without index.html fails its check and nothing goes live.
    let files = owner
        .get(&format!("/api/v1/projects/{project}/file?path=index.html"))
        .await;
    let sha = files.body["sha"].as_str().unwrap();
    let r = owner
        .send(owner.request(
            Method::DELETE,
            &format!("/api/v1/projects/{project}/file?path=index.html&sha={sha}"),
        ))
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let failed = publish(&owner, &project, None, WAIT).await;
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["error"].as_str().unwrap().contains("index.html"),
        "{failed}"
    );
    let site = owner.get(&format!("/api/v1/projects/{project}/site")).await;
    assert_eq!(site.body["live"], serde_json::Value::Null);

    // Names: invalid, the deployment form, taken.
    let put = |body: serde_json::Value| {
        let owner = &owner;
        let project = project.clone();
        async move {
            owner
                .send(
                    owner
                        .request(Method::PUT, &format!("/api/v1/projects/{project}/site"))
                        .json(&body),
                )
                .await
        }
    };
    for bad in ["Bad_Name", "-x", "tool-0a1b2c3d", ""] {
        let r = put(json!({"name": bad})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
    }
    let theirs = other.new_project("Theirs").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let taken = site_name(&other, &theirs).await;
    let r = put(json!({"name": taken})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "name_taken"),
        "{}",
        r.text
    );
    let r = put(json!({"name": "tool-box", "retention": 0})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = put(json!({"access": "everyone"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    s.stop().await;
}

/// What a deleted project's build left (the appliance stopped before the
/// build ended) is removed at the next start; live sites stay.
#[tokio::test]
async fn a_deleted_projects_deployments_are_swept_at_start() {
    let s = TestServer::start().await;
    let owner = s.user("owner@example.com").await;
    let project = owner.new_project("Kept").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let d = publish(&owner, &project, None, WAIT).await;
    assert_eq!(d["status"], "ready", "{d}");
    let root = s.data_dir().join("deployments");
    let stray = root
        .join("gone0project")
        .join("0123456789abcdef")
        .join("site");
    std::fs::create_dir_all(&stray).unwrap();
    std::fs::write(stray.join("index.html"), "left behind").unwrap();
    let s = s.restart().await;
    assert!(!root.join("gone0project").exists());
    assert!(root
        .join(&project)
        .join(d["id"].as_str().unwrap())
        .join("site")
        .exists());
    s.stop().await;
}

/// The portal shows an app's own icon, served locked down from the console.
#[tokio::test]
async fn the_portal_serves_an_apps_icon_to_whom_may_open_it() {
    let s = TestServer::start().await;
    let owner = s.user("owner@example.com").await;
    let other = s.user("other@example.com").await;
    let project = owner.new_project("Icon App").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script><circle r=\"4\"/></svg>\n";
    save(&owner, &project, "favicon.svg", svg).await;
    let d = publish(&owner, &project, None, WAIT).await;
    assert_eq!(d["status"], "ready", "{d}");
    let name = site_name(&owner, &project).await;
    let icon = format!("/api/v1/apps/{name}/icon");

    // Private: the owner sees it, another person may not.
    let r = owner.get(&icon).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "image/svg+xml");
    assert!(r.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert_eq!(r.text, svg);
    assert_eq!(other.get(&icon).await.status, StatusCode::FORBIDDEN);

    let r = owner
        .send(
            owner
                .request(Method::PUT, &format!("/api/v1/projects/{project}/site"))
                .json(&json!({"access": "signed_in"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let portal = other.get("/api/v1/apps").await;
    let url = portal.body["apps"][0]["icon_url"].as_str().unwrap();
    assert!(url.starts_with(&icon), "{url}");
    assert_eq!(other.get(url).await.status, StatusCode::OK);
    // An app without an icon has none in the portal.
    let plain = owner.new_project("Plain App").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    publish(&owner, &plain, None, WAIT).await;
    let mine = owner.get("/api/v1/apps?q=plain").await;
    assert_eq!(mine.body["apps"][0]["icon_url"], serde_json::Value::Null);
}

/// A small file system mounted over one project's deployments folder
/// (needs root, as the test command has): unmounted lazily even when the
/// test fails.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(at: &std::path::Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(at).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| SmallDisk(at.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Disk full during a build: that deployment fails and says so; the live
/// apps keep serving and the next publish, with room, works.
#[tokio::test]
async fn a_full_disk_fails_the_build_and_breaks_nothing_else() {
    let s = TestServer::start().await;
    let owner = s.user("owner@example.com").await;
    let live = owner.new_project("Still Here").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    save(&owner, &live, "index.html", "<h1>Still here</h1>\n").await;
    assert_eq!(publish(&owner, &live, None, WAIT).await["status"], "ready");
    let big = owner.new_project("Too Big").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let page = format!("<h1>Big</h1>\n<!-- {} -->\n", "x".repeat(300 * 1024));
    save(&owner, &big, "index.html", &page).await;

    let folder = s.data_dir().join("deployments").join(&big);
    let Some(disk) = SmallDisk::mount(&folder, "64k") else {
        assert_ne!(
            unsafe { libc_geteuid() },
            0,
            "root could not mount a tmpfs: the disk-full case is not tested"
        );
        eprintln!("skipped: mounting a small file system needs root");
        return;
    };
    let d = publish(&owner, &big, None, WAIT).await;
    assert_eq!(d["status"], "failed", "{d}");
    assert!(
        d["error"].as_str().unwrap().contains("the disk is full"),
        "{d}"
    );
    let site = owner.get(&format!("/api/v1/projects/{big}/site")).await;
    assert_eq!(site.body["live"], serde_json::Value::Null);
    // The other app and the console are unaffected.
    let name = site_name(&owner, &live).await;
    let visitor = AppVisitor::enter(&s, &owner, &name).await;
    assert_eq!(visitor.get("/").await.text, "<h1>Still here</h1>\n");
    assert_eq!(owner.get("/readyz").await.status, StatusCode::OK);
    drop(disk);
    let d = publish(&owner, &big, None, WAIT).await;
    assert_eq!(d["status"], "ready", "with room again: {d}");
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}
