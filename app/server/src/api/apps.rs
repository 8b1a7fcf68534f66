//! The apps portal (the published apps a person may open) and the way
//! into a non-public app: the console signs the person in, checks the
//! app's access and hands the app's origin a one-time ticket.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Auth;
use crate::state::AppState;
use autocrea_core::clock::rfc3339;
use autocrea_core::publish::{store, Target};
use autocrea_wire::publish::{App, AppList};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PortalParams {
    /// Words in the app's name or description.
    pub q: Option<String>,
}

/// The published apps the caller may open, most recently published first.
#[utoipa::path(get, path = "/api/v1/apps", tag = "publish", params(PortalParams),
    responses((status = 200, body = AppList), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<PortalParams>,
) -> ApiResult<Json<AppList>> {
    let q = p.q.unwrap_or_default();
    let rows = store::portal(&state.pool, auth.user.id, q.trim()).await?;
    let mut icons = Vec::with_capacity(rows.len());
    for r in &rows {
        let icon = match state.publisher.target(&r.name).await? {
            Some(t) => app_icon(&t.root)
                .await
                .map(|_| format!("/api/v1/apps/{}/icon?d={}", r.name, &t.deployment_id[..8])),
            None => None,
        };
        icons.push(icon);
    }
    Ok(Json(AppList {
        apps: rows
            .into_iter()
            .zip(icons)
            .map(|(r, icon_url)| App {
                icon_url,
                url: state.apps.origin(&r.name),
                project_id: r.project_id,
                name: r.name,
                title: r.title,
                description: r.description,
                template: r.template,
                owner: r.owner,
                access: r.access,
                published_at: r.live_since.map(rfc3339),
            })
            .collect(),
    }))
}

/// What the address label serves, when `user` may open it (404 when
/// nothing is served there, 403 when they may not).
async fn openable(state: &AppState, label: &str, user: i64) -> ApiResult<Target> {
    let target = state
        .publisher
        .target(label)
        .await?
        .ok_or_else(|| ApiError::not_found("app"))?;
    if !state.publisher.may_open(&target, Some(user)).await? {
        return Err(ApiError::forbidden(
            "you may not open this app; ask its owner to let you in",
        ));
    }
    Ok(target)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OpenParams {
    /// The path to land on in the app.
    pub next: Option<String>,
}

/// Opens an app in the browser: a signed-out visitor goes to sign in and
/// comes back here; someone the app lets in is sent to it with a one-time
/// ticket; anyone else gets 403.
#[utoipa::path(get, path = "/api/v1/apps/{label}/open", tag = "publish",
    params(("label" = String, Path, description = "the app's address name, or `<name>-<short id>` for one deployment"), OpenParams),
    responses((status = 303, description = "to the app, or to sign in"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn open(
    State(state): State<AppState>,
    auth: Result<Auth, ApiError>,
    Path(label): Path<String>,
    Query(p): Query<OpenParams>,
) -> ApiResult<Response> {
    let next = p
        .next
        .filter(|n| crate::preview::is_local_path(n))
        .unwrap_or_else(|| "/".into());
    let auth = match auth {
        Ok(a) => a,
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            let back = format!(
                "/api/v1/apps/{}/open?next={}",
                crate::preview::encode_component(&label),
                crate::preview::encode_component(&next)
            );
            let to = format!("/login?next={}", crate::preview::encode_component(&back));
            return Ok((StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response());
        }
        Err(e) => return Err(e),
    };
    openable(&state, &label, auth.user.id).await?;
    let ticket = state.apps.mint_ticket(auth.user.id, &label);
    let url = state.apps.entry_url(&label, &ticket, &next);
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response())
}

/// Where apps keep their icon, most specific first (static and vite output
/// at the root; Next.js in public/ or app/).
const ICONS: &[&str] = &[
    "favicon.svg",
    "favicon.png",
    "favicon.ico",
    "icon.svg",
    "icon.png",
    "apple-touch-icon.png",
    "public/favicon.svg",
    "public/favicon.png",
    "public/favicon.ico",
    "app/icon.svg",
    "app/icon.png",
    "app/favicon.ico",
];

/// Largest icon served.
const ICON_MAX: u64 = 256 * 1024;

/// The deployment's icon file and its content type. Plain files only (a
/// deployment holds no links; checked anyway).
async fn app_icon(root: &std::path::Path) -> Option<(std::path::PathBuf, &'static str)> {
    for name in ICONS {
        let path = root.join(name);
        let Ok(meta) = tokio::fs::symlink_metadata(&path).await else {
            continue;
        };
        if meta.is_file() && meta.len() <= ICON_MAX {
            let mime = match name.rsplit('.').next() {
                Some("svg") => "image/svg+xml",
                Some("png") => "image/png",
                _ => "image/x-icon",
            };
            return Some((path, mime));
        }
    }
    None
}

/// The icon of an app the caller may open, for the portal. Served from
/// the console's origin, so it is locked down: a sandboxing CSP (an SVG's
/// script never runs, even opened on its own) and no type sniffing.
#[utoipa::path(get, path = "/api/v1/apps/{label}/icon", tag = "publish",
    params(("label" = String, Path, description = "the app's address name")),
    responses((status = 200, description = "the icon (SVG, PNG or ICO)"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn icon(
    State(state): State<AppState>,
    auth: Auth,
    Path(label): Path<String>,
) -> ApiResult<Response> {
    let target = openable(&state, &label, auth.user.id).await?;
    let (path, mime) = app_icon(&target.root)
        .await
        .ok_or_else(|| ApiError::not_found("icon"))?;
    let bytes = tokio::fs::read(&path).await.map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; sandbox",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            // The URL names the deployment, whose files never change.
            (header::CACHE_CONTROL, "private, max-age=86400"),
        ],
        bytes,
    )
        .into_response())
}
