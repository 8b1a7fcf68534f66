//! Managing models: users' own provider keys and usage; for admins the
//! local worker's state and which providers and models users may pick.

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Admin, ApiJson, Auth};
use crate::state::AppState;
use autocrea_core::audit;
use autocrea_core::llm::keys::{self, ProviderKeyInfo};
use autocrea_core::llm::local_status::{self, LocalStatus};
use autocrea_core::llm::policy::{self, LlmPolicy};
use autocrea_core::llm::shared_keys::{self, SharedKeyInfo};
use autocrea_core::llm::usage::{self, UsageTotal};
use autocrea_wire::llm::{AdminLlmView, ProviderView, ProvidersView, PutKey};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

/// The providers the admin allows, and whether the caller has a key for each.
#[utoipa::path(get, path = "/api/v1/llm/providers", tag = "models",
    responses((status = 200, body = ProvidersView), (status = 401, body = ErrorBody)))]
pub async fn providers(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<ProvidersView>> {
    let policy = policy::load(&state.pool).await?;
    let mine = keys::list(&state.pool, auth.user.id).await?;
    let shared = shared_keys::list(&state.pool).await?;
    Ok(Json(ProvidersView {
        local: policy.local,
        local_model: state.llm.local_model.clone(),
        local_status: local_status(&state, &policy),
        providers: policy
            .providers
            .into_iter()
            .filter(|p| p.enabled)
            .map(|p| ProviderView {
                has_key: mine.iter().any(|k| k.provider == p.id),
                shared_key: shared.iter().any(|k| k.provider == p.id),
                images: p.images,
                id: p.id,
                kind: p.kind,
                models: p.models,
            })
            .collect(),
    }))
}

/// The caller's provider keys: provider and last four characters only.
#[utoipa::path(get, path = "/api/v1/me/provider-keys", tag = "models",
    responses((status = 200, body = [ProviderKeyInfo]), (status = 401, body = ErrorBody)))]
pub async fn list_keys(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<ProviderKeyInfo>>> {
    Ok(Json(keys::list(&state.pool, auth.user.id).await?))
}

/// Stores (or replaces) the caller's key for a provider the admin lists.
/// The key is encrypted at rest and never sent back.
#[utoipa::path(put, path = "/api/v1/me/provider-keys/{provider}", tag = "models", request_body = PutKey,
    params(("provider" = String, Path, description = "provider id from /api/v1/llm/providers")),
    responses((status = 200, body = ProviderKeyInfo), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_key(
    State(state): State<AppState>,
    auth: Auth,
    Path(provider): Path<String>,
    ApiJson(body): ApiJson<PutKey>,
) -> ApiResult<Json<ProviderKeyInfo>> {
    let policy = policy::load(&state.pool).await?;
    if policy.provider(&provider).is_none() {
        return Err(crate::error::ApiError::not_found("provider"));
    }
    let info = keys::put(
        &state.pool,
        &state.llm.master_key,
        auth.user.id,
        &provider,
        body.key.trim(),
    )
    .await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "provider_key.stored",
        Some(&provider),
        None,
    )
    .await;
    Ok(Json(info))
}

/// Deletes the caller's key for a provider.
#[utoipa::path(delete, path = "/api/v1/me/provider-keys/{provider}", tag = "models",
    params(("provider" = String, Path, description = "provider id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_key(
    State(state): State<AppState>,
    auth: Auth,
    Path(provider): Path<String>,
) -> ApiResult<StatusCode> {
    keys::delete(&state.pool, auth.user.id, &provider).await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "provider_key.deleted",
        Some(&provider),
        None,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's model usage, per project and model.
#[utoipa::path(get, path = "/api/v1/me/usage", tag = "models",
    responses((status = 200, body = [UsageTotal]), (status = 401, body = ErrorBody)))]
pub async fn my_usage(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<UsageTotal>>> {
    Ok(Json(usage::totals(&state.pool, Some(auth.user.id)).await?))
}

/// The local worker's state (with its last stderr lines) and the policy.
#[utoipa::path(get, path = "/api/v1/admin/llm", tag = "admin",
    responses((status = 200, body = AdminLlmView), (status = 403, body = ErrorBody)))]
pub async fn admin_view(
    State(state): State<AppState>,
    _admin: Admin,
) -> ApiResult<Json<AdminLlmView>> {
    let policy = policy::load(&state.pool).await?;
    Ok(Json(AdminLlmView {
        worker: state.llm.worker.status(),
        local_status: local_status(&state, &policy),
        policy,
        shared_keys: shared_keys::list(&state.pool).await?,
    }))
}

/// Sets the key every user calls a provider with (a user's own key wins).
/// Encrypted at rest, never sent back; with this, a provider added to the
/// policy at run time is usable at once.
#[utoipa::path(put, path = "/api/v1/admin/llm/providers/{provider}/key", tag = "admin", request_body = PutKey,
    params(("provider" = String, Path, description = "provider id from the policy")),
    responses((status = 200, body = SharedKeyInfo), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_shared_key(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Path(provider): Path<String>,
    ApiJson(body): ApiJson<PutKey>,
) -> ApiResult<Json<SharedKeyInfo>> {
    if policy::load(&state.pool)
        .await?
        .provider(&provider)
        .is_none()
    {
        return Err(crate::error::ApiError::not_found("provider"));
    }
    let info = shared_keys::put(
        &state.pool,
        &state.llm.master_key,
        &provider,
        body.key.trim(),
    )
    .await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "provider_shared_key.stored",
        Some(&provider),
        None,
    )
    .await;
    Ok(Json(info))
}

/// Removes the shared key of a provider.
#[utoipa::path(delete, path = "/api/v1/admin/llm/providers/{provider}/key", tag = "admin",
    params(("provider" = String, Path, description = "provider id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_shared_key(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Path(provider): Path<String>,
) -> ApiResult<StatusCode> {
    shared_keys::delete(&state.pool, &provider).await?;
    audit::record(
        &state.pool,
        &auth.actor(),
        "provider_shared_key.deleted",
        Some(&provider),
        None,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces which providers and models users may pick.
#[utoipa::path(put, path = "/api/v1/admin/llm/policy", tag = "admin", request_body = LlmPolicy,
    responses((status = 200, body = LlmPolicy), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn update_policy(
    State(state): State<AppState>,
    Admin(auth): Admin,
    ApiJson(body): ApiJson<LlmPolicy>,
) -> ApiResult<Json<LlmPolicy>> {
    policy::save(&state.pool, &body).await?;
    audit::record(&state.pool, &auth.actor(), "llm.policy_changed", None, None).await;
    Ok(Json(body))
}

/// Everyone's model usage, per user, project and model.
#[utoipa::path(get, path = "/api/v1/admin/usage", tag = "admin",
    responses((status = 200, body = [UsageTotal]), (status = 403, body = ErrorBody)))]
pub async fn all_usage(
    State(state): State<AppState>,
    _admin: Admin,
) -> ApiResult<Json<Vec<UsageTotal>>> {
    Ok(Json(usage::totals(&state.pool, None).await?))
}

/// The one verdict on the local model that every page shows.
pub(crate) fn local_status(state: &AppState, policy: &LlmPolicy) -> LocalStatus {
    let worker = &state.llm.worker;
    local_status::status(local_status::Facts {
        allowed: policy.local,
        model: state.llm.local_model.as_deref(),
        context: state.llm.local_context,
        test_model: state.llm.local_test_model,
        worker: if worker.base_url().is_some() {
            Ok(())
        } else {
            Err(worker.unavailable_reason())
        },
        // The worker takes native tool calls (a grammar), so the text format's instructions are not in its prompt.
        smallest_prompt: autocrea_core::agent::pipeline::smallest_prompt_anywhere(false),
        max_answer: state.config.agent.max_tokens as usize,
    })
}
