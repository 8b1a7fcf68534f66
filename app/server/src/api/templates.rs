use crate::error::ApiResult;
use crate::extract::Auth;
use autocrea_core::templates::{Template, TEMPLATES};
use autocrea_wire::projects::TemplateList;
use axum::Json;

/// The templates a new project can start from.
#[utoipa::path(get, path = "/api/v1/templates", tag = "projects",
    responses((status = 200, body = TemplateList), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(_auth: Auth) -> ApiResult<Json<TemplateList>> {
    Ok(Json(TemplateList {
        templates: TEMPLATES.iter().map(Template::view).collect(),
    }))
}
