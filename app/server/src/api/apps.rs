//! The apps portal (the published apps a person may open) and the way
//! into a non-public app: the console signs the person in, checks the
//! app's access and hands the app's origin a one-time ticket.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Auth;
use crate::state::AppState;
use autocrea_core::clock::rfc3339;
use autocrea_core::publish::store;
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
    Ok(Json(AppList {
        apps: rows
            .into_iter()
            .map(|r| App {
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
    let target = state
        .publisher
        .target(&label)
        .await?
        .ok_or_else(|| ApiError::not_found("app"))?;
    if !state
        .publisher
        .may_open(&target, Some(auth.user.id))
        .await?
    {
        return Err(ApiError::forbidden(
            "you may not open this app; ask its owner to let you in",
        ));
    }
    let ticket = state.apps.mint_ticket(auth.user.id, &label);
    let url = state.apps.entry_url(&label, &ticket, &next);
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response())
}
