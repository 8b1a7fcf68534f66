//! A project's site: its address name, who may open it, how many old
//! deployments it keeps.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use autocrea_core::audit;
use autocrea_core::projects;
use autocrea_core::publish::{store, SiteRow};
use autocrea_wire::publish::{Site, SiteUpdate};
use axum::extract::{Path, State};
use axum::Json;

async fn view(state: &AppState, s: SiteRow) -> ApiResult<Site> {
    Ok(Site {
        url: state.apps.origin(&s.name),
        people: store::people(&state.pool, &s.project_id).await?,
        project_id: s.project_id,
        name: s.name,
        access: s.access,
        retention: s.retention,
        live: s.live_id,
        auto_deploy: s.auto_deploy,
    })
}

/// The project's site (made, private, on first use).
#[utoipa::path(get, path = "/api/v1/projects/{id}/site", tag = "publish",
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = Site), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Site>> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    let site = state.publisher.site(&project).await?;
    Ok(Json(view(&state, site).await?))
}

/// Changes the address name, the access, the people, the retention or auto-deploy.
#[utoipa::path(put, path = "/api/v1/projects/{id}/site", tag = "publish", request_body = SiteUpdate,
    params(("id" = String, Path, description = "project id")),
    responses((status = 200, body = Site), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the name is taken")))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SiteUpdate>,
) -> ApiResult<Json<Site>> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    let site = state.publisher.site(&project).await?;
    let name = body.name.as_deref().map(|n| n.trim().to_ascii_lowercase());
    let changes = store::SiteChanges {
        name: name.as_deref().filter(|n| *n != site.name),
        access: body.access,
        people: body.people.as_deref(),
        retention: body.retention,
        auto_deploy: body.auto_deploy,
    };
    store::update_site(&state.pool, &project.id, &changes).await?;
    if changes.retention.is_some() {
        state.publisher.prune(&project.id).await?;
    }
    state.publisher.site_changed();
    let site = state.publisher.site(&project).await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "project.site_update",
        Some(&format!("project:{id}")),
        Some(&format!(
            "name {} access {} auto-deploy {}",
            site.name, site.access, site.auto_deploy
        )),
    )
    .await;
    Ok(Json(view(&state, site).await?))
}
