//! Which provider and model a name stands for, for one caller: the local
//! worker or a provider of the admin's policy with the caller's key. Used
//! by the `/v1` gateway and by agent turns alike.

use crate::llm::providers::{self, Provider};
use crate::llm::LlmError;
use crate::state::AppState;
use autocrea_core::llm::{policy, shared_keys};

/// A model a request resolved to.
pub struct Target {
    /// `local` or the provider id.
    pub provider_id: String,
    /// The name the provider knows the model by.
    pub model: String,
    /// The name the caller used, echoed in answers.
    pub public_name: String,
    pub adapter: Box<dyn Provider>,
    /// How the agent passes tools to this model.
    pub tools: policy::ToolFormat,
    /// The model's context window, in tokens.
    pub context_tokens: usize,
    /// The model accepts images in messages.
    pub images: bool,
}

/// The context of a provider's models when its policy does not say.
const DEFAULT_CONTEXT: usize = 32_768;

/// Which provider and model a request's `model` means, for this caller.
/// The provider and model a name (`local`, the local id, or `<provider>/<model>`)
/// stands for, for `user_id` (whose own key a provider needs).
pub async fn resolve(
    state: &AppState,
    user_id: i64,
    model: Option<&str>,
) -> Result<Target, LlmError> {
    let internal = |e: autocrea_core::llm::LlmStoreError| LlmError::Internal(e.to_string());
    let policy = policy::load(&state.pool).await.map_err(internal)?;
    let local_id = state.llm.local_model.clone();
    let name = model.filter(|m| !m.is_empty());
    let is_local = match name {
        None => true,
        Some("local") => true,
        Some(m) => local_id
            .as_deref()
            .is_some_and(|id| m == id || m.strip_prefix("local/") == Some(id)),
    };
    if is_local {
        if !policy.local {
            return Err(LlmError::ModelNotFound(name.unwrap_or("local").to_string()));
        }
        let Some(base) = state.llm.worker.base_url() else {
            return Err(LlmError::Unavailable(state.llm.worker.unavailable_reason()));
        };
        let id = local_id.unwrap_or_else(|| "local".into());
        return Ok(Target {
            provider_id: "local".into(),
            model: id.clone(),
            public_name: id,
            adapter: providers::adapter(
                policy::ProviderKind::Openai,
                "the local model worker",
                &base,
                None,
            ),
            tools: policy::ToolFormat::Native,
            context_tokens: state.llm.local_context.unwrap_or(8192) as usize,
            // The worker runs text models (no multimodal projector is loaded).
            images: false,
        });
    }
    let name = name.expect("not local, so named");
    let (provider_id, model) = name
        .split_once('/')
        .ok_or_else(|| LlmError::ModelNotFound(name.to_string()))?;
    let provider = policy
        .provider(provider_id)
        .filter(|p| p.enabled && p.models.iter().any(|m| m == model))
        .ok_or_else(|| LlmError::ModelNotFound(name.to_string()))?;
    let key = shared_keys::key_for(&state.pool, &state.llm.master_key, user_id, provider_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| LlmError::NoKey {
            provider: provider_id.to_string(),
        })?;
    Ok(Target {
        provider_id: provider_id.to_string(),
        model: model.to_string(),
        public_name: name.to_string(),
        adapter: providers::adapter(provider.kind, provider_id, &provider.base_url, Some(key)),
        tools: provider.tools,
        context_tokens: provider
            .context
            .map(|c| c as usize)
            .unwrap_or(DEFAULT_CONTEXT),
        images: provider.images,
    })
}
