//! The publish flow, in one place: publish a version (queue, export,
//! build, unpack, check, go live), promote an earlier deployment, delete,
//! prune, bring everything back after a restart, and find what a request
//! to an app's address should get. The server is only the HTTP edge.

use super::apps::{self, AppSpec, Runtime, ServerApp};
use super::build::{self, BuildJob};
use super::store::{self, DeploymentRow, SiteRow};
use super::unpack;
use super::PublishError;
use crate::config::{PublishConfig, SandboxConfig};
use crate::env_vars::{EnvScope, EnvVars};
use crate::gitstore::Git;
use crate::projects::Project;
use crate::sandbox::devserver::{Backlog, LogBuffer, LogLine};
use crate::sandbox::manifest::{self, PublishRecipe, ServeKind};
use crate::sandbox::Sandboxes;
use crate::sync::lock;
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What an app's address serves.
#[derive(Debug, Clone)]
pub struct Target {
    pub project_id: String,
    pub owner_id: i64,
    pub site: String,
    pub access: store::Access,
    pub deployment_id: String,
    /// The deployment's files.
    pub root: PathBuf,
    pub serve: ServeKind,
    pub spa: bool,
    pub template: String,
}

/// A server app the publisher runs, and when it was last asked for.
struct Tracked {
    app: ServerApp,
    project_id: String,
    last_use: Instant,
}

pub struct Publisher {
    pub(super) pool: SqlitePool,
    /// The projects' `production` variables, for builds and app containers.
    env: EnvVars,
    pub(super) git: Git,
    sandboxes: Arc<Sandboxes>,
    config: PublishConfig,
    /// `<data>/deployments/<project>/<deployment>/`.
    root: PathBuf,
    /// Logs of the builds that run now, by deployment id.
    builds: Mutex<HashMap<String, Arc<LogBuffer>>>,
    /// Server apps with a container, by deployment id.
    servers: Mutex<HashMap<String, Tracked>>,
    /// Serialises starting one deployment's container.
    starting: tokio::sync::Mutex<()>,
    /// Address name -> what it serves; emptied on every change.
    targets: Mutex<Targets>,
    /// Projects whose default branch moved while a build ran (auto-deploy).
    pub(super) auto_gate: tokio::sync::Mutex<std::collections::HashSet<String>>,
}

/// The cache of what address names serve. `generation` moves on every
/// change, so an answer read from the database before a change is never
/// stored after it (it would keep serving an old access level).
#[derive(Default)]
struct Targets {
    generation: u64,
    by_label: HashMap<String, Option<Target>>,
}

/// A server app that is not live is stopped after this long without requests.
const IDLE_STOP: Duration = Duration::from_secs(15 * 60);

impl Publisher {
    pub fn new(
        pool: SqlitePool,
        git: Git,
        sandboxes: Arc<Sandboxes>,
        config: PublishConfig,
        data_dir: &Path,
        env: EnvVars,
    ) -> Arc<Self> {
        Arc::new(Self {
            pool,
            env,
            git,
            sandboxes,
            config,
            root: data_dir.join("deployments"),
            builds: Mutex::default(),
            servers: Mutex::default(),
            starting: tokio::sync::Mutex::new(()),
            targets: Mutex::default(),
            auto_gate: tokio::sync::Mutex::default(),
        })
    }

    pub fn config(&self) -> &PublishConfig {
        &self.config
    }

    /// The Docker instance label of our app and build containers: apart
    /// from the sandboxes', whose start-up clean-up removes every container
    /// of its own label it does not adopt.
    fn instance(&self) -> String {
        format!("{}-apps", self.sandboxes.instance())
    }

    fn container_name(&self, kind: &str, deployment_id: &str) -> String {
        format!(
            "autocrea-{}-{kind}-{deployment_id}",
            self.sandboxes.instance()
        )
    }

    fn dir(&self, project_id: &str, deployment_id: &str) -> PathBuf {
        self.root.join(project_id).join(deployment_id)
    }

    fn files(&self, project_id: &str, deployment_id: &str) -> PathBuf {
        self.dir(project_id, deployment_id).join("site")
    }

    fn forget_targets(&self) {
        let mut t = lock(&self.targets);
        t.generation += 1;
        t.by_label.clear();
    }

    fn recipe(template: &str) -> Result<&'static PublishRecipe, PublishError> {
        manifest::for_template(template)
            .map(|m| &m.publish)
            .ok_or_else(|| PublishError::Unsupported(template.to_string()))
    }

    /// The project's site, made on first use.
    pub async fn site(&self, project: &Project) -> Result<SiteRow, PublishError> {
        store::ensure_site(
            &self.pool,
            &project.id,
            &project.slug,
            self.config.retention,
        )
        .await
    }

    /// Starts publishing `version` (the latest when `None`) of `project`:
    /// the deployment is queued now and built in the background; its log
    /// and status tell how it goes. The live deployment keeps serving
    /// until the new one has passed its checks.
    pub async fn publish(
        self: &Arc<Self>,
        project: &Project,
        author_id: i64,
        version: Option<&str>,
    ) -> Result<DeploymentRow, PublishError> {
        let recipe = Self::recipe(&project.template)?;
        let project_id = project.id.clone();
        let wanted = version.map(crate::gitstore::parse_sha).transpose()?;
        let (sha, message) = self
            .git
            .run(move |g| {
                let repo = g.open(&project_id)?;
                let commit = match wanted {
                    Some(oid) => repo
                        .find_commit(oid)
                        .map_err(|_| crate::gitstore::GitError::NotFound("version"))?,
                    None => repo
                        .head()
                        .and_then(|h| h.peel_to_commit())
                        .map_err(|_| crate::gitstore::GitError::NotFound("version"))?,
                };
                Ok((
                    commit.id().to_string(),
                    String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default())
                        .into_owned(),
                ))
            })
            .await?;
        self.site(project).await?;
        // Read now, so a value that cannot be opened refuses the publish
        // instead of failing its build later.
        let (build_env, redactor) = self.env.values(&project.id, EnvScope::Production).await?;
        let id = hex::encode(rand_bytes());
        store::insert_deployment(
            &self.pool,
            &id,
            &project.id,
            &sha,
            &message,
            &project.template,
            author_id,
        )
        .await?;
        let row = store::deployment(&self.pool, &project.id, &id).await?;
        let log = Arc::new(LogBuffer::redacting(redactor));
        lock(&self.builds).insert(id.clone(), log.clone());
        let me = self.clone();
        let project = project.clone();
        let task = tokio::spawn(async move {
            me.build_and_release(&project, &id, recipe, &log, &build_env)
                .await;
        });
        let (me, id, pid) = (self.clone(), row.id.clone(), row.project_id.clone());
        tokio::spawn(async move {
            if task.await.is_err() {
                // A bug, not the project's: the project must not stay "building".
                tracing::error!(deployment = id, "a build task panicked");
                lock(&me.builds).remove(&id);
                let failed = store::mark_failed(
                    &me.pool,
                    &id,
                    "the build stopped on an internal error; the server log has the details",
                );
                let _ = me.end_build(&pid, failed).await;
            }
        });
        Ok(row)
    }

    async fn build_and_release(
        self: &Arc<Self>,
        project: &Project,
        id: &str,
        recipe: &'static PublishRecipe,
        log: &Arc<LogBuffer>,
        env: &[String],
    ) {
        let started = Instant::now();
        let outcome = self.build(project, id, recipe, log, env).await;
        let pid = project.id.clone();
        let result = match outcome {
            Ok(size) => {
                build::note(
                    log,
                    &format!("live after {:.1} s", started.elapsed().as_secs_f64()),
                );
                let r = self
                    .end_build(
                        &pid,
                        store::mark_ready(&self.pool, &pid, id, size as i64, true),
                    )
                    .await;
                self.forget_targets();
                r
            }
            Err(why) => {
                build::note(log, &format!("failed: {why}"));
                self.stop_server(id).await;
                let _ = std::fs::remove_dir_all(self.files(&project.id, id));
                self.end_build(&pid, store::mark_failed(&self.pool, id, &why))
                    .await
            }
        };
        if let Err(e) = result {
            tracing::error!(deployment = id, error = %e, "a deployment's end was not recorded");
        }
        self.keep_log(&project.id, id, log);
        lock(&self.builds).remove(id);
        // The project was deleted while this built: what it left goes too.
        if matches!(
            crate::projects::by_id(&self.pool, &project.id).await,
            Err(crate::projects::ProjectError::NotFound)
        ) {
            self.forget_project(&project.id).await;
            return;
        }
        if let Err(e) = self.prune(&project.id).await {
            tracing::warn!(project = project.id, error = %e, "old deployments were not pruned");
        }
    }

    /// Export, build, unpack and check; the size of what is served, or why not.
    async fn build(
        &self,
        project: &Project,
        id: &str,
        recipe: &PublishRecipe,
        log: &LogBuffer,
        env: &[String],
    ) -> Result<u64, String> {
        store::mark_building(&self.pool, id)
            .await
            .map_err(|e| e.to_string())?;
        let dir = self.dir(&project.id, id);
        let files = self.files(&project.id, id);
        let work = dir.join("work");
        std::fs::create_dir_all(&work).map_err(|e| disk("prepare the build", &e))?;
        let max = self.config.output_max_mb * 1024 * 1024;
        let row = store::deployment(&self.pool, &project.id, id)
            .await
            .map_err(|e| e.to_string())?;
        // Static sites without a build serve the version's files; every
        // other build reads them from a folder of their own.
        let sources = match (recipe.serve, &recipe.build) {
            (ServeKind::Static, Some(_)) => work.join("src"),
            _ => files.clone(),
        };
        build::note(log, &format!("exporting version {}", &row.commit_sha[..12]));
        let (pid, sha, dest) = (project.id.clone(), row.commit_sha.clone(), sources.clone());
        let exported = self
            .git
            .run(move |g| g.export(&pid, &sha, &dest, max))
            .await
            .map_err(|e| format!("the version's files could not be written out: {e}"))?;
        for skipped in &exported.skipped {
            build::note(log, &format!("left out (a link or submodule): {skipped}"));
        }
        if let Some(into) = &recipe.output_into {
            // The build's own output wins over a copy committed by mistake.
            let committed = sources.join(into);
            let _ =
                std::fs::remove_dir_all(&committed).or_else(|_| std::fs::remove_file(&committed));
        }
        if recipe.build.is_some() {
            self.run_build(project, id, recipe, &sources, &files, &work, log, env)
                .await?;
        }
        let _ = std::fs::remove_dir_all(&work);
        for dir in &recipe.scratch {
            crate::sandbox::scratch::make_scratch_dir(&files, dir)
                .map_err(|e| e.public_message())?;
        }
        let size = folder_size(&files);
        match recipe.serve {
            ServeKind::Static => {
                if !files.join("index.html").is_file() {
                    return Err("the site has no index.html at its root".into());
                }
            }
            ServeKind::Server => {
                build::note(log, "starting the app and waiting for its health check");
                let app = self
                    .start_server(&project.id, id, &project.template)
                    .await
                    .map_err(|e| format!("the app did not start: {}", e.public_message()))?;
                apps::wait_healthy(
                    app.addr,
                    Duration::from_secs(self.config.health_timeout_secs),
                )
                .await?;
            }
        }
        Ok(size)
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_build(
        &self,
        project: &Project,
        id: &str,
        recipe: &PublishRecipe,
        sources: &Path,
        files: &Path,
        work: &Path,
        log: &LogBuffer,
        env: &[String],
    ) -> Result<(), String> {
        let engine = self
            .sandboxes
            .engine()
            .await
            .map_err(|e| e.public_message())?;
        let image = self.sandboxes.image_for(&project.template);
        let archive = work.join("output.tar");
        let limits = SandboxConfig {
            tmpfs_mb: self.sandboxes.config().tmpfs_mb.max(768),
            ..self.sandboxes.config().clone()
        };
        let container = self.container_name("build", id);
        let network = self.sandboxes.network_for(&project.template);
        let instance = self.instance();
        build::run(&BuildJob {
            engine: &*engine,
            container: &container,
            image: &image,
            template: &project.template,
            instance: &instance,
            network: &network,
            workspace: sources,
            recipe,
            limits: &limits,
            log,
            timeout: Duration::from_secs(self.config.build_timeout_secs),
            archive: &archive,
            max_bytes: self.config.output_max_mb * 1024 * 1024,
            env,
        })
        .await?;
        let into = match &recipe.output_into {
            Some(sub) => files.join(sub),
            None => files.to_path_buf(),
        };
        let (exclude, max) = (
            recipe.exclude.clone(),
            self.config.output_max_mb * 1024 * 1024,
        );
        let unpacked = tokio::task::spawn_blocking(move || {
            let f = std::fs::File::open(&archive)?;
            unpack::unpack(std::io::BufReader::new(f), &into, &exclude, max)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| match e {
            PublishError::Io(io) => disk("unpack the build output", &io),
            e => e.to_string(),
        })?;
        for skipped in &unpacked.skipped {
            build::note(
                log,
                &format!("left out of the output (not a plain file): {skipped}"),
            );
        }
        build::note(
            log,
            &format!(
                "output: {} files, {} KiB",
                unpacked.files,
                unpacked.bytes / 1024
            ),
        );
        Ok(())
    }

    /// Starts (or replaces) the container of a server deployment.
    async fn start_server(
        &self,
        project_id: &str,
        id: &str,
        template: &str,
    ) -> Result<ServerApp, crate::sandbox::SandboxError> {
        let recipe = manifest::for_template(template)
            .map(|m| &m.publish)
            .ok_or_else(|| crate::sandbox::SandboxError::NoSandbox(template.into()))?;
        let engine = self.sandboxes.engine().await?;
        let limits = SandboxConfig {
            memory_mb: self.config.app_memory_mb,
            cpus: self.config.app_cpus,
            ..self.sandboxes.config().clone()
        };
        let container = self.container_name("app", id);
        let files = self.files(project_id, id);
        // Run-time values are read when the container starts.
        let (env, _) = self
            .env
            .values(project_id, EnvScope::Production)
            .await
            .map_err(|e| {
                crate::sandbox::SandboxError::Invalid(format!(
                    "the project's production variables: {e}"
                ))
            })?;
        let app = apps::start(
            &*engine,
            &AppSpec {
                container: &container,
                image: &self.sandboxes.image_for(template),
                template,
                instance: &self.instance(),
                network: &self.sandboxes.network_for(template),
                files: &files,
                recipe,
                limits: &limits,
                env: &env,
            },
        )
        .await?;
        lock(&self.servers).insert(
            id.to_string(),
            Tracked {
                app: app.clone(),
                project_id: project_id.to_string(),
                last_use: Instant::now(),
            },
        );
        Ok(app)
    }

    async fn stop_server(&self, id: &str) {
        let tracked = lock(&self.servers).remove(id);
        let name = tracked
            .map(|t| t.app.container)
            .unwrap_or_else(|| self.container_name("app", id));
        if let Ok(engine) = self.sandboxes.engine().await {
            let _ = engine.remove(&name).await;
        }
    }

    /// Where a server deployment answers, starting its container when none
    /// runs (a deployment's own address, or a live one after a crash).
    pub async fn server_addr(&self, t: &Target) -> Result<std::net::SocketAddr, String> {
        if let Some(tr) = lock(&self.servers).get_mut(&t.deployment_id) {
            tr.last_use = Instant::now();
            return Ok(tr.app.addr);
        }
        let _one = self.starting.lock().await;
        if let Some(tr) = lock(&self.servers).get(&t.deployment_id) {
            return Ok(tr.app.addr);
        }
        let app = self
            .start_server(&t.project_id, &t.deployment_id, &t.template)
            .await
            .map_err(|e| e.public_message())?;
        apps::wait_healthy(
            app.addr,
            Duration::from_secs(self.config.health_timeout_secs),
        )
        .await?;
        Ok(app.addr)
    }

    /// Makes an earlier deployment live again, without building it.
    pub async fn promote(&self, project_id: &str, id: &str) -> Result<DeploymentRow, PublishError> {
        let d = store::deployment(&self.pool, project_id, id).await?;
        if !d.status.servable() {
            return Err(PublishError::Conflict(format!(
                "only a built deployment can go live; this one is {}",
                d.status
            )));
        }
        if Self::recipe(&d.template)?.serve == ServeKind::Server {
            let target = self
                .target_of(project_id, &d)
                .await?
                .ok_or(PublishError::NotFound("deployment"))?;
            self.server_addr(&target)
                .await
                .map_err(PublishError::Conflict)?;
        }
        if !store::set_live(&self.pool, project_id, id).await? {
            return Err(PublishError::Conflict(
                "the deployment was deleted meanwhile".into(),
            ));
        }
        self.forget_targets();
        store::deployment(&self.pool, project_id, id).await
    }

    /// Removes a deployment that is neither live nor building.
    pub async fn delete(&self, project_id: &str, id: &str) -> Result<(), PublishError> {
        let d = store::deployment(&self.pool, project_id, id).await?;
        let site = store::site(&self.pool, project_id).await?;
        if site.and_then(|s| s.live_id).as_deref() == Some(id) {
            return Err(PublishError::Conflict(
                "the live deployment cannot be deleted; promote another one first".into(),
            ));
        }
        if d.status.in_progress() {
            return Err(PublishError::Conflict(
                "the deployment is still building".into(),
            ));
        }
        self.remove(project_id, id).await
    }

    async fn remove(&self, project_id: &str, id: &str) -> Result<(), PublishError> {
        // The database refuses to delete the live one, whatever moved since the check.
        if !store::delete_deployment(&self.pool, id).await? {
            return Err(PublishError::Conflict(
                "the deployment went live meanwhile; it was not deleted".into(),
            ));
        }
        self.stop_server(id).await;
        self.forget_targets();
        let dir = self.dir(project_id, id);
        tokio::task::spawn_blocking(move || std::fs::remove_dir_all(&dir))
            .await
            .ok();
        Ok(())
    }

    /// Keeps the site's newest `retention` deployments besides the live one.
    pub async fn prune(&self, project_id: &str) -> Result<(), PublishError> {
        let Some(site) = store::site(&self.pool, project_id).await? else {
            return Ok(());
        };
        let old: Vec<String> = store::deployments(&self.pool, project_id)
            .await?
            .into_iter()
            .filter(|d| Some(&d.id) != site.live_id.as_ref() && !d.status.in_progress())
            .skip(site.retention.max(1) as usize)
            .map(|d| d.id)
            .collect();
        for id in old {
            match self.remove(project_id, &id).await {
                Ok(()) | Err(PublishError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Everything of a deleted project: containers and files.
    pub async fn forget_project(&self, project_id: &str) {
        let ids: Vec<String> = lock(&self.servers)
            .iter()
            .filter(|(_, t)| t.project_id == project_id)
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            self.stop_server(&id).await;
        }
        self.forget_targets();
        let dir = self.root.join(project_id);
        let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(dir)).await;
    }

    /// The build log: kept lines after `after`, and (while it builds) a
    /// receiver for what comes; `None` when the build has ended.
    pub fn live_log(&self, id: &str, after: u64) -> Option<Backlog> {
        lock(&self.builds).get(id).map(|l| l.since(after))
    }

    /// A finished build's log, from its file.
    pub async fn kept_log(&self, project_id: &str, id: &str, after: u64) -> Vec<LogLine> {
        let path = self.dir(project_id, id).join("build.log");
        let text = tokio::fs::read_to_string(&path).await.unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<LogLine>(l).ok())
            .filter(|l| l.seq > after)
            .collect()
    }

    fn keep_log(&self, project_id: &str, id: &str, log: &LogBuffer) {
        let dir = self.dir(project_id, id);
        let mut text = String::new();
        for (_, line) in log.since(0).0 {
            if let Ok(j) = serde_json::to_string(&line) {
                text.push_str(&j);
                text.push('\n');
            }
        }
        if std::fs::create_dir_all(&dir).is_ok() {
            if let Err(e) = write_atomic(&dir.join("build.log"), text.as_bytes()) {
                tracing::warn!(deployment = id, error = %e, "the build log was not kept");
            }
        }
    }

    /// How a server deployment's container stands (`None` for static ones).
    pub async fn runtime(&self, d: &DeploymentRow) -> Option<Runtime> {
        if Self::recipe(&d.template).ok()?.serve != ServeKind::Server || !d.status.servable() {
            return None;
        }
        let name = lock(&self.servers)
            .get(&d.id)
            .map(|t| t.app.container.clone());
        let Some(name) = name else {
            return Some(Runtime::Stopped);
        };
        let engine = self.sandboxes.engine().await.ok()?;
        Some(apps::runtime(&*engine, &name).await)
    }

    /// What the address label `label` (`<site>` or `<site>-<short id>`) serves.
    pub async fn target(&self, label: &str) -> Result<Option<Target>, PublishError> {
        let generation = {
            let cache = lock(&self.targets);
            if let Some(t) = cache.by_label.get(label) {
                return Ok(t.clone());
            }
            cache.generation
        };
        let found = self.find_target(label).await?;
        let mut cache = lock(&self.targets);
        if cache.generation == generation {
            if cache.by_label.len() > 10_000 {
                cache.by_label.clear();
            }
            cache.by_label.insert(label.to_string(), found.clone());
        }
        Ok(found)
    }

    async fn find_target(&self, label: &str) -> Result<Option<Target>, PublishError> {
        if let Some(site) = store::site_by_name(&self.pool, label).await? {
            let Some(live) = &site.live_id else {
                return Ok(None);
            };
            let d = store::deployment(&self.pool, &site.project_id, live).await?;
            return self.target_of(&site.project_id, &d).await;
        }
        let Some((name, short)) = super::names::deployment_suffix(label) else {
            return Ok(None);
        };
        let Some(site) = store::site_by_name(&self.pool, name).await? else {
            return Ok(None);
        };
        match store::deployment_by_short(&self.pool, &site.project_id, short).await? {
            Some(d) => self.target_of(&site.project_id, &d).await,
            None => Ok(None),
        }
    }

    async fn target_of(
        &self,
        project_id: &str,
        d: &DeploymentRow,
    ) -> Result<Option<Target>, PublishError> {
        if !d.status.servable() {
            return Ok(None);
        }
        let Some(site) = store::site(&self.pool, project_id).await? else {
            return Ok(None);
        };
        let owner_id: i64 = sqlx::query_scalar("SELECT owner_id FROM projects WHERE id = ?")
            .bind(project_id)
            .fetch_one(&self.pool)
            .await?;
        let recipe = Self::recipe(&d.template)?;
        Ok(Some(Target {
            project_id: project_id.to_string(),
            owner_id,
            site: site.name,
            access: site.access,
            deployment_id: d.id.clone(),
            root: self.files(project_id, &d.id),
            serve: recipe.serve,
            spa: recipe.spa,
            template: d.template.clone(),
        }))
    }

    /// Whether `user` (`None`: signed out) may open the app `t`.
    pub async fn may_open(&self, t: &Target, user: Option<i64>) -> Result<bool, PublishError> {
        use store::Access;
        Ok(match (t.access, user) {
            (Access::Public, _) => true,
            (_, None) => false,
            (_, Some(u)) if u == t.owner_id => true,
            (Access::SignedIn, Some(_)) => true,
            (Access::People, Some(u)) => store::is_listed(&self.pool, &t.project_id, u).await?,
            (Access::Private, Some(_)) => false,
        })
    }

    /// Access and people changed: what is cached about the site goes.
    pub fn site_changed(&self) {
        self.forget_targets();
    }

    /// After a (re)start: builds that were cut off are failed and their
    /// leftovers removed, live server apps are adopted or started again,
    /// and the containers of ours nobody needs are removed. Static sites
    /// need nothing: they are served from their files at once.
    pub async fn recover(self: &Arc<Self>) -> Result<(), PublishError> {
        for (project_id, id) in store::fail_interrupted(&self.pool).await? {
            tracing::warn!(deployment = id, "a build was cut off by a restart");
            let _ = std::fs::remove_dir_all(self.dir(&project_id, &id).join("work"));
            let _ = std::fs::remove_dir_all(self.files(&project_id, &id));
        }
        self.sweep_deleted_projects().await?;
        let live = store::live_deployments(&self.pool).await?;
        let Ok(engine) = self.sandboxes.engine().await else {
            return Ok(());
        };
        let wanted: HashMap<String, &DeploymentRow> = live
            .iter()
            .filter(|d| Self::recipe(&d.template).is_ok_and(|r| r.serve == ServeKind::Server))
            .map(|d| (self.container_name("app", &d.id), d))
            .collect();
        let mut adopted = Vec::new();
        for c in engine.list_ours(&self.instance()).await? {
            match wanted.get(&c.name) {
                Some(d) if c.running => {
                    let network = self.sandboxes.network_for(&d.template);
                    let port = Self::recipe(&d.template)?.port.unwrap_or(0);
                    if let Ok(ip) = engine.address(&c.id, &network).await {
                        lock(&self.servers).insert(
                            d.id.clone(),
                            Tracked {
                                app: ServerApp {
                                    container: c.name.clone(),
                                    addr: (ip, port).into(),
                                },
                                project_id: d.project_id.clone(),
                                last_use: Instant::now(),
                            },
                        );
                        adopted.push(d.id.clone());
                        continue;
                    }
                    remove_logged(&*engine, &c.id).await;
                }
                _ => remove_logged(&*engine, &c.id).await,
            }
        }
        for d in wanted.values().filter(|d| !adopted.contains(&d.id)) {
            if let Err(e) = self.start_server(&d.project_id, &d.id, &d.template).await {
                tracing::error!(deployment = d.id, error = %e, "a live app did not start again");
            }
        }
        tracing::info!(
            adopted = adopted.len(),
            started = wanted.len() - adopted.len(),
            "published apps recovered"
        );
        Ok(())
    }

    /// Folders of projects that no longer exist (deleted while a build ran
    /// and the appliance stopped before it ended).
    async fn sweep_deleted_projects(&self) -> Result<(), PublishError> {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Ok(());
        };
        let known: std::collections::HashSet<String> =
            sqlx::query_scalar("SELECT id FROM projects")
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .collect();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !known.contains(&name) {
                tracing::info!(
                    project = name,
                    "removing the deployments of a deleted project"
                );
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        Ok(())
    }

    /// Every few seconds: a live app whose container is gone is started
    /// again; apps that are not live and were not asked for a while stop.
    pub fn spawn_background(self: &Arc<Self>) {
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                let Some(me) = me.upgrade() else { return };
                if let Err(e) = me.look_after_apps().await {
                    tracing::debug!(error = %e, "published apps were not checked");
                }
            }
        });
    }

    async fn look_after_apps(&self) -> Result<(), PublishError> {
        let live: Vec<String> =
            sqlx::query_scalar("SELECT live_id FROM sites WHERE live_id IS NOT NULL")
                .fetch_all(&self.pool)
                .await?;
        let tracked: Vec<(String, String, String, Instant)> = lock(&self.servers)
            .iter()
            .map(|(id, t)| {
                (
                    id.clone(),
                    t.project_id.clone(),
                    t.app.container.clone(),
                    t.last_use,
                )
            })
            .collect();
        let engine = self.sandboxes.engine().await?;
        for (id, project_id, container, last_use) in tracked {
            let is_live = live.contains(&id);
            if !is_live && last_use.elapsed() > IDLE_STOP {
                self.stop_server(&id).await;
                continue;
            }
            // An engine that fails to answer says nothing about the app: only
            // a container the engine says is gone is started again.
            if matches!(engine.state(&container).await, Ok(None)) {
                lock(&self.servers).remove(&id);
                if is_live {
                    let d = store::deployment(&self.pool, &project_id, &id).await?;
                    tracing::warn!(
                        deployment = id,
                        "a live app's container was gone; starting it again"
                    );
                    if let Err(e) = self.start_server(&project_id, &id, &d.template).await {
                        tracing::error!(deployment = id, error = %e, "a live app did not start again");
                    }
                }
            }
        }
        Ok(())
    }
}

async fn remove_logged(engine: &dyn crate::sandbox::engine::ContainerEngine, id: &str) {
    if let Err(e) = engine.remove(id).await {
        tracing::warn!(container = id, error = %e, "a leftover container was not removed");
    }
}

/// Writes a whole file under a temporary name, then renames it over `path`.
fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)
}

fn rand_bytes() -> [u8; 8] {
    use rand::RngCore;
    let mut b = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

/// A file-system failure during a build, in words (a full disk says so).
fn disk(what: &str, e: &std::io::Error) -> String {
    if e.raw_os_error() == Some(28) {
        format!("the disk is full: could not {what}")
    } else {
        format!("could not {what}: {e}")
    }
}

fn folder_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => total += e.metadata().map(|m| m.len()).unwrap_or(0),
                _ => {}
            }
        }
    }
    total
}
