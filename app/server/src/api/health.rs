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

/// Readiness: the database answers too. The server serves no request
/// before its start-up work is done (repository audit and reconcile,
/// interrupted turns failed and their changes discarded, sandboxes
/// adopted; `server::start`), so a 200 here means that work is over: tests,
/// `autocrea healthcheck` and a container health check wait for it.
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
