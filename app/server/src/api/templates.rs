use crate::error::ApiResult;
use crate::extract::Auth;
use autocrea_core::templates::{Template, TEMPLATES};
use axum::Json;
use serde::Serialize;

#[derive(Serialize, utoipa::ToSchema)]
pub struct TemplateList {
    pub templates: Vec<Template>,
}

/// The templates a new project can start from.
#[utoipa::path(get, path = "/api/v1/templates", tag = "projects",
    responses((status = 200, body = TemplateList), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(_auth: Auth) -> ApiResult<Json<TemplateList>> {
    Ok(Json(TemplateList {
        templates: TEMPLATES.to_vec(),
    }))
}
