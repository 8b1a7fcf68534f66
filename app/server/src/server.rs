//! Starting and stopping the HTTP server.

use crate::llm::supervisor::Supervisor;
use crate::state::{AppState, LlmRuntime};
use autocrea_core::gitstore::{Author, GitStore};
use autocrea_core::llm::master_key::MasterKey;
use autocrea_core::sandbox::Sandboxes;
use autocrea_core::{accounts::sessions, db, Config};
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server running in this process.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = self.task.await;
    }
}

/// Opens and migrates the database, binds `config.listen` and serves in the background.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    // Apps need origins of their own: a shared domain would hand an app's
    // name to the previews (or the reverse).
    let (apps, previews) = (&config.publish.apps_domain, &config.sandbox.preview_domain);
    let under = |host: &str| host == apps || host.ends_with(&format!(".{apps}"));
    if apps.is_empty() || under(previews) {
        anyhow::bail!(
            "[publish] apps_domain ({apps:?}) must be set, and [sandbox] preview_domain ({previews:?}) may not be it or under it; the default is apps.localhost"
        );
    }
    // Every host under the apps domain is an app's: the console there would
    // be served to (and share its origin with) an app of that name.
    let console_host = config
        .public_url
        .as_deref()
        .and_then(|u| u.split("://").nth(1))
        .and_then(|rest| rest.split(['/', ':']).next())
        .map(str::to_ascii_lowercase);
    if let Some(host) = console_host.filter(|h| under(h)) {
        anyhow::bail!(
            "[publish] apps_domain ({apps:?}) contains the console's host {host:?} (public_url): give apps a domain of their own"
        );
    }
    let pool = db::open_and_migrate(&config.database_path()).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr()?;
    if !crate::assets::bundle_present() {
        tracing::warn!("the UI bundle is not embedded in this binary (run installer/build-frontend.sh, then rebuild); pages will not hydrate");
    }
    let git = GitStore::new(&config.data_dir)?;
    let projects = autocrea_core::projects::all_ids_and_templates(&pool).await?;
    let system = Author {
        name: "AUTOCREA".into(),
        email: "system@autocrea.local".into(),
    };
    // The sandboxes below need the same list (project -> template).
    let known: std::collections::HashMap<String, String> = projects.iter().cloned().collect();
    let git = tokio::task::spawn_blocking(move || {
        // Before any git process runs on a project: nothing but our own settings in its config.
        for (project, keys) in git.audit_configs()? {
            tracing::warn!(project, ?keys, "a repository's git config carried settings the appliance did not write; they were removed");
        }
        let done = git.reconcile(&projects, &system)?;
        if !done.created.is_empty() || !done.removed.is_empty() {
            tracing::warn!(created = ?done.created, removed = ?done.removed, "git store reconciled with the database");
        }
        let restored = git.restore_pinned_trees()?;
        if !restored.is_empty() {
            tracing::warn!(projects = ?restored, "working trees left on a previewed version went back to their branch heads");
        }
        Ok::<_, autocrea_core::gitstore::GitError>(git)
    })
    .await??;
    let master_key = MasterKey::load_or_create(
        &config.data_dir,
        config.master_key.as_ref().map(|k| k.0.as_str()),
    )?;
    // The manifest names the local model; a broken manifest is the worker's
    // error to report (it keeps restarting with the reason), not a reason
    // for the console to stay down.
    let (local_model, local_context, local_test_model) =
        match autocrea_inference::Manifest::load(&config.llm.models) {
            Ok(m) => {
                let id = match &config.llm.model {
                    Some(id) => id.clone(),
                    None => m.default_model().id.clone(),
                };
                // What each request gets on the worker, computed as the worker does.
                let context = m
                    .get(&id)
                    .map(|spec| autocrea_inference::slot_context(config.llm.context, spec.context));
                let test_model = m
                    .get(&id)
                    .is_some_and(|spec| spec.purpose == autocrea_inference::Purpose::Test);
                (Some(id), context, test_model)
            }
            Err(e) => {
                if config.llm.worker {
                    tracing::warn!(error = %e, "the model manifest cannot be read");
                }
                (None, None, false)
            }
        };
    let llm = LlmRuntime {
        worker: Supervisor::start(&config.llm),
        master_key,
        local_model,
        local_context,
        local_test_model,
    };
    // A key that cannot be read fails the start before anything is written.
    let configured: Result<Vec<_>, _> = config.providers.iter().map(|p| p.configured()).collect();
    let applied = match configured {
        Ok(providers) => {
            autocrea_core::llm::policy::apply_config(&pool, &llm.master_key, &providers).await
        }
        Err(e) => Err(autocrea_core::llm::LlmStoreError::Invalid(e)),
    };
    applied.map_err(|e| anyhow::anyhow!("[[providers]] in the configuration: {e}"))?;
    let git = std::sync::Arc::new(git);
    // Agent turns cut off by a crash: marked failed, their half-written
    // changes gone from the working tree (the repository never had them).
    for turn in autocrea_core::agent::store::fail_interrupted_turns(&pool).await? {
        tracing::warn!(turn = %turn.id, project = %turn.project_id, "an agent turn was interrupted; marked failed");
        let git = git.clone();
        let project = turn.project_id.clone();
        tokio::task::spawn_blocking(move || git.discard_worktree_changes(&project)).await??;
    }
    let env = autocrea_core::env_vars::EnvVars::new(pool.clone(), llm.master_key.clone());
    let sandboxes = Sandboxes::new(config.sandbox.clone(), &config.data_dir, git.clone());
    // Before recovery: adopted sandboxes mask their project's secrets too.
    sandboxes.use_env(env.clone());
    if config.sandbox.enabled {
        // Adopt what still runs from before a restart, remove the rest; a
        // missing Docker engine only disables previews, not the console.
        match sandboxes.recover(&known).await {
            Ok(()) => sandboxes.spawn_background(),
            Err(e) => {
                tracing::warn!(error = %e, "sandboxes are unavailable until the Docker engine answers")
            }
        }
    }
    let publisher = autocrea_core::publish::Publisher::new(
        pool.clone(),
        autocrea_core::gitstore::Git::new(git.clone()),
        sandboxes.clone(),
        config.publish.clone(),
        &config.data_dir,
        env.clone(),
    );
    // Static sites publish without the engine, so auto-deploy always listens.
    publisher.spawn_auto_deploy();
    // Static apps serve from their files at once; server apps need the engine.
    if let Err(e) = publisher.recover().await {
        tracing::warn!(error = %e, "published apps were not all brought back");
    }
    if config.sandbox.enabled {
        publisher.spawn_background();
    }
    let state = AppState::new(
        pool.clone(),
        config,
        git,
        llm,
        sandboxes,
        publisher,
        env,
        addr,
    );
    // Pushes follow every change of a mirrored project's default branch.
    state.remotes.spawn_mirror();
    let app = crate::router::build(state.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        use axum::serve::ListenerExt;
        // Small answers (the preview proxy's, the API's) go out at once rather
        // than waiting on Nagle's algorithm for the client's ACK.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.await;
        })
        .await
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match sessions::purge_expired(&pool).await {
                Ok(n) if n > 0 => tracing::info!(removed = n, "expired sessions removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not purge expired sessions"),
            }
        }
    });
    Ok(Running {
        addr,
        state,
        shutdown: Some(tx),
        task,
    })
}

/// `autocrea serve`: runs until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let running = start(config).await?;
    // Plain stdout line: scripts and tests read the bound address from it.
    println!(
        "autocrea {} listening on http://{}",
        env!("CARGO_PKG_VERSION"),
        running.addr
    );
    tracing::info!(addr = %running.addr, "serving");
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
