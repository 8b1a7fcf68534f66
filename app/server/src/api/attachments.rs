//! Files attached to chat messages: uploaded one at a time (the raw bytes,
//! the type found from them, never from the name or a header), then named
//! by the message that carries them; read back for the chat's previews.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiBytes, Auth};
use crate::state::AppState;
use autocrea_core::agent::attachments::{self, Attachment, Refusal};
use autocrea_core::projects;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

/// The request body limit of an upload: the largest image, and room to say it is too large.
pub const BODY_MAX: usize = attachments::IMAGE_MAX + 64 * 1024;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The file's name, as shown in the chat.
    pub name: String,
}

/// Uploads a file to attach to a message: PNG, JPEG, GIF or WebP images up
/// to 4 MiB, UTF-8 text files up to 256 KiB. The body is the file itself.
/// Send the returned id in a message's `attachments`.
#[utoipa::path(post, path = "/api/v1/projects/{id}/attachments", tag = "agent",
    params(("id" = String, Path, description = "project id"), UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Attachment), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(p): Query<UploadParams>,
    ApiBytes(body): ApiBytes,
) -> ApiResult<(StatusCode, Json<Attachment>)> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    let (kind, media_type) = attachments::classify(&p.name, &body).map_err(|r| match r {
        Refusal::TooLarge(m) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", m),
        Refusal::Unsupported(m) => {
            ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_type", m)
        }
        Refusal::Invalid(m) => ApiError::invalid(m),
    })?;
    let a = attachments::create(
        &state.pool,
        &project.id,
        auth.user.id,
        &p.name,
        kind,
        media_type,
        &body,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// One attachment's bytes (for the chat's previews and downloads).
#[utoipa::path(get, path = "/api/v1/projects/{id}/attachments/{attachment}", tag = "agent",
    params(("id" = String, Path, description = "project id"), ("attachment" = String, Path, description = "attachment id")),
    responses((status = 200, description = "the file", content_type = "application/octet-stream"), (status = 404, body = ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, attachment)): Path<(String, String)>,
) -> ApiResult<Response> {
    let project = projects::get(&state.pool, auth.user.id, &id).await?;
    let (a, data) = attachments::read(&state.pool, &project.id, &attachment).await?;
    let mut res = data.into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&a.media_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    // Shown, never run: a text file is plain text, and nothing in it may load or script.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src 'self'; sandbox"),
    );
    // RFC 5987: the name percent-encoded as UTF-8, so no quote or newline in it can break the header.
    let name = percent_encoding::utf8_percent_encode(&a.name, percent_encoding::NON_ALPHANUMERIC);
    let disposition = format!("inline; filename*=UTF-8''{name}");
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
