//! What every request handler can reach.

use crate::llm::supervisor::Supervisor;
use autocrea_core::accounts::{tokens::UsageClock, LoginThrottle};
use autocrea_core::env_vars::EnvVars;
use autocrea_core::gitstore::{Git, GitStore};
use autocrea_core::llm::master_key::MasterKey;
use autocrea_core::publish::Publisher;
use autocrea_core::remote::Remotes;
use autocrea_core::sandbox::Sandboxes;
use autocrea_core::Config;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::SqlitePool;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub pool: SqlitePool,
    pub config: Arc<Config>,
    pub throttle: Arc<LoginThrottle>,
    pub token_usage: Arc<UsageClock>,
    /// The git store, async (see `gitstore::Git`).
    pub git: Git,
    pub leptos: LeptosOptions,
    pub llm: Arc<LlmRuntime>,
    pub sandboxes: Arc<Sandboxes>,
    pub preview: Arc<crate::preview::previews::Previews>,
    pub agents: Arc<crate::agent::Agents>,
    /// Deployments and what app addresses serve (core `publish`).
    pub publisher: Arc<Publisher>,
    /// Projects' environment variables and secrets (core `env_vars`).
    pub env: EnvVars,
    /// The apps origins' sign-ins.
    pub apps: Arc<crate::apps::origin::Apps>,
    /// Links to external git remotes (core `remote`).
    pub remotes: Arc<Remotes>,
}

/// The model side of the server: the supervised local worker, the key that
/// encrypts users' provider keys, and the local model's id.
pub struct LlmRuntime {
    pub worker: Supervisor,
    pub master_key: MasterKey,
    /// The id the local model answers to (from the manifest), when known.
    pub local_model: Option<String>,
    /// The context each request gets on the worker, in tokens (the
    /// manifest's `context`, or `[llm] context` when smaller).
    pub local_context: Option<u32>,
    /// The manifest marks it `purpose = "test"`: it cannot build apps.
    pub local_test_model: bool,
}

impl AppState {
    /// `addr` is where the server listens: previews are served on its port.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        pool: SqlitePool,
        config: Config,
        git: Arc<GitStore>,
        llm: LlmRuntime,
        sandboxes: Arc<Sandboxes>,
        publisher: Arc<Publisher>,
        env: EnvVars,
        addr: std::net::SocketAddr,
    ) -> Self {
        let throttle = Arc::new(LoginThrottle::new(config.login_throttle.clone()));
        let preview = Arc::new(crate::preview::previews::Previews::new(&config, addr));
        let git = Git::new(git);
        // Remotes send webhooks to the console's public address.
        let console = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let remotes = Remotes::new(
            pool.clone(),
            git.clone(),
            llm.master_key.clone(),
            config.remote.clone(),
            &console,
        );
        Self {
            remotes,
            apps: Arc::new(crate::apps::origin::Apps::new(&config, &preview)),
            preview,
            publisher,
            env,
            agents: Arc::default(),
            sandboxes,
            llm: Arc::new(llm),
            pool,
            config: Arc::new(config),
            throttle,
            token_usage: Arc::new(UsageClock::default()),
            git,
            leptos: leptos_options(),
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// Where the UI bundle is (`installer/build-frontend.sh` writes
/// `site/pkg/autocrea.*`), for rendering and hydration.
fn leptos_options() -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("autocrea")
        .site_pkg_dir("pkg")
        .site_root("site")
        .build()
}
