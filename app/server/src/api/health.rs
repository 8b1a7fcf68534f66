use super::Status;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Status)))]
pub async fn healthz() -> Json<Status> {
    Json(Status {
        status: "ok",
        version: VERSION,
    })
}

/// Readiness: the database answers too.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, body = Status), (status = 503, body = Status)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Status>) {
    if autocrea_core::db::is_ready(&state.pool).await {
        (
            StatusCode::OK,
            Json(Status {
                status: "ok",
                version: VERSION,
            }),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Status {
                status: "database unavailable",
                version: VERSION,
            }),
        )
    }
}
