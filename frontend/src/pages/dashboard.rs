//! The dashboard: a prompt box first ("What do you want to build?"), then the
//! project list with search, sort and the new-project dialog. A prompt (or a
//! dialog's description) creates the project and starts its first turn on the
//! server; the browser then opens the workspace, where the turn runs.

use super::hydrated;
use crate::api::{self, field_of};
use crate::components::{short_time, FormError, LoadingCards, LocalModelBanner, Modal};
use crate::icons::{Icon, IconKind};
use autocrea_wire::llm::ProvidersView;
use autocrea_wire::projects::{CreateProject, CreatedProject, ProjectView, TemplateList};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

/// Where a new project opens: its workspace. Why its first turn did not
/// start, when it did not, goes along in this tab's session storage (not the
/// URL: a link anyone can send must not put text under the console's own
/// alert), for `FirstTurnError` to show once.
fn workspace_of(created: &CreatedProject) -> String {
    if let Some(e) = &created.turn_error {
        crate::session::keep_first_turn_error(&created.project.id, &e.message);
    }
    format!("/projects/{}/workspace", created.project.id)
}

/// Creates the project and opens its workspace; when that fails, `busy`
/// ends and `failed` gets the error (the form shows it).
fn create_and_open(
    navigate: impl Fn(&str, leptos_router::NavigateOptions) + 'static,
    body: CreateProject,
    busy: RwSignal<bool>,
    failed: impl Fn(api::ApiFailure) + 'static,
) {
    spawn_local(async move {
        match api::projects::create(&body).await {
            Ok(created) => navigate(&workspace_of(&created), Default::default()),
            Err(e) => {
                busy.set(false);
                failed(e);
            }
        }
    });
}

/// The model a new project's first turn uses: a usable provider's model when
/// the local model cannot serve the agent, else the default (None).
fn preferred_model(p: &ProvidersView) -> Option<String> {
    let local_ready = p.local && p.local_status.agent_ready;
    if local_ready {
        None
    } else {
        p.usable_models().into_iter().next()
    }
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let search = RwSignal::new(String::new());
    let sort = RwSignal::new("updated".to_string());
    let creating = RwSignal::new(false);
    let ready = hydrated();
    let providers = LocalResource::new(api::llm::providers);
    let templates = LocalResource::new(api::projects::templates);
    let model = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(p)) = providers.get() {
            if model.get_untracked().is_none() {
                model.set(preferred_model(&p));
            }
        }
    });

    let projects = LocalResource::new(move || {
        let (q, sort) = (search.get(), sort.get());
        let order = if sort == "name" { "asc" } else { "desc" };
        async move { api::projects::list(&q, &sort, order).await }
    });

    view! {
        <Title text="Projects"/>
        <Suspense fallback=|| ()>
            {move || providers.get().and_then(|r| r.ok()).filter(|p| p.usable_models().is_empty()).map(|p| view! {
                <LocalModelBanner status=p.local_status.clone() first_run=true/>
            })}
        </Suspense>
        <PromptBox providers=providers templates=templates model=model/>
        <div class="page-head">
            <div>
                <h2>"Your projects"</h2>
                <p class="muted">"Everything you are building, newest first."</p>
            </div>
            <button class="btn" type="button" data-testid="new-project" disabled=move || !ready.get()
                on:click=move |_| creating.set(true)>
                <Icon kind=IconKind::Plus/> "New project"
            </button>
        </div>
        <div class="toolbar">
            <label class="search">
                <Icon kind=IconKind::Search/>
                <input type="search" placeholder="Search projects" aria-label="Search projects" data-testid="project-search"
                    prop:value=move || search.get() on:input=move |ev| search.set(event_target_value(&ev))/>
            </label>
            <label class="sort">
                <span class="sr-only">"Sort by"</span>
                <select aria-label="Sort by" on:change=move |ev| sort.set(event_target_value(&ev))>
                    <option value="updated" selected>"Last updated"</option>
                    <option value="created">"Newest"</option>
                    <option value="name">"Name"</option>
                </select>
            </label>
        </div>
        <Suspense fallback=|| view! { <LoadingCards count=3/> }>
            {move || projects.get().map(|result| match result {
                Err(e) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                Ok(list) if list.projects.is_empty() && !search.get_untracked().trim().is_empty() => view! {
                    <div class="empty" data-testid="no-results">
                        <h2>"No matching projects"</h2>
                        <p class="muted">"Nothing matches “" {search.get_untracked()} "”. Try another word."</p>
                    </div>
                }.into_any(),
                Ok(list) if list.projects.is_empty() => view! {
                    <div class="empty" data-testid="empty-state">
                        <div class="empty-icon"><Icon kind=IconKind::Sparkles size=28/></div>
                        <h2>"No projects yet"</h2>
                        <p class="muted">"Describe what you want above, or start from a template with a name of your own."</p>
                        <button class="btn" type="button" on:click=move |_| creating.set(true)>
                            <Icon kind=IconKind::Plus/> "New project"
                        </button>
                    </div>
                }.into_any(),
                Ok(list) => view! {
                    <div class="grid" data-testid="project-list">
                        {list.projects.into_iter().map(|p| view! { <ProjectCard project=p/> }).collect_view()}
                    </div>
                }.into_any(),
            })}
        </Suspense>
        <Show when=move || creating.get()>
            <NewProjectDialog on_close=Callback::new(move |_| creating.set(false)) model=model/>
        </Show>
    }
}

/// "What do you want to build?": a prompt, a template and (when there is a
/// choice) a model; submitting creates the project and its first turn.
#[component]
fn PromptBox(
    providers: LocalResource<Result<ProvidersView, api::ApiFailure>>,
    templates: LocalResource<Result<TemplateList, api::ApiFailure>>,
    model: RwSignal<Option<String>>,
) -> impl IntoView {
    let prompt = RwSignal::new(String::new());
    let template = RwSignal::new("static".to_string());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let ready = hydrated();
    let navigate = use_navigate();

    let submit = move || {
        error.set(None);
        let text = prompt.get_untracked();
        if text.trim().is_empty() {
            error.set(Some("Describe what you want to build.".into()));
            return;
        }
        busy.set(true);
        let body = CreateProject {
            prompt: Some(text),
            template: Some(template.get_untracked()),
            model: model.get_untracked(),
            ..Default::default()
        };
        create_and_open(navigate.clone(), body, busy, move |e| {
            error.set(Some(e.message))
        });
    };
    let on_submit = {
        let submit = submit.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            submit();
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        // Ctrl+Enter or Cmd+Enter sends, as in the chat.
        if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
            ev.prevent_default();
            submit();
        }
    };

    view! {
        <section class="prompt-hero" aria-labelledby="prompt-title">
            <h1 id="prompt-title">"What do you want to build?"</h1>
            <form class="prompt-form" on:submit=on_submit data-testid="prompt-form">
                <label class="sr-only" for="prompt-input">"What do you want to build?"</label>
                <textarea id="prompt-input" name="prompt" rows="3" maxlength="32000" data-testid="prompt-input"
                    placeholder="e.g. A todo list app where I can add and delete items"
                    bind:value=prompt on:keydown=on_key></textarea>
                <div class="prompt-row">
                    <label class="prompt-pick">
                        <span>"Template"</span>
                        <select name="template" data-testid="prompt-template" on:change=move |ev| template.set(event_target_value(&ev))>
                            {move || match templates.get() {
                                Some(Ok(list)) => list.templates.into_iter().map(|t| {
                                    let id = t.id.clone();
                                    view! { <option value=t.id.clone() prop:selected=move || template.get_untracked() == id>{t.name.clone()}</option> }
                                }).collect_view().into_any(),
                                _ => view! { <option value="static">"Static site"</option> }.into_any(),
                            }}
                        </select>
                    </label>
                    <Suspense fallback=|| ()>
                        {move || providers.get().and_then(|r| r.ok()).map(|p| view! { <ModelPick providers=p model=model/> })}
                    </Suspense>
                    <button class="btn btn-primary" type="submit" data-testid="prompt-submit" disabled=move || !ready.get() || busy.get()>
                        <Icon kind=IconKind::Sparkles/> {move || if busy.get() { "Creating…" } else { "Build it" }}
                    </button>
                </div>
                <FormError message=error/>
            </form>
        </section>
    }
}

/// The model of a new project: the local one (said plainly when it is a test
/// model) and every provider model the person has a key for.
#[component]
fn ModelPick(providers: ProvidersView, model: RwSignal<Option<String>>) -> impl IntoView {
    let status = &providers.local_status;
    let local_label = if status.test_model {
        format!(
            "Local: {} (test model, cannot build apps)",
            status.model.clone().unwrap_or_else(|| "local".into())
        )
    } else if !status.agent_ready {
        format!(
            "Local: {} (not ready)",
            status.model.clone().unwrap_or_else(|| "local".into())
        )
    } else {
        match &providers.local_model {
            Some(m) => format!("Local: {m}"),
            None => "Local model".to_string(),
        }
    };
    let usable = providers.usable_models();
    let local = providers.local;
    // The options follow `model` (not read once): the preferred model is set
    // when the providers load, which can be after the picker is drawn.
    if usable.is_empty() && !local {
        return ().into_any();
    }
    view! {
        <label class="prompt-pick">
            <span>"Model"</span>
            <select name="model" data-testid="prompt-model"
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    model.set(if v.is_empty() { None } else { Some(v) });
                }>
                {local.then(|| view! { <option value="" prop:selected=move || model.get().is_none()>{local_label.clone()}</option> })}
                {usable.into_iter().map(|m| {
                    let (m2, m3) = (m.clone(), m.clone());
                    view! { <option value=m2 prop:selected=move || model.get().as_deref() == Some(m3.as_str())>{m.clone()}</option> }
                }).collect_view()}
            </select>
        </label>
    }
    .into_any()
}

#[component]
fn ProjectCard(project: ProjectView) -> impl IntoView {
    let href = format!("/projects/{}", project.id);
    view! {
        <a class="card project-card" href=href data-testid="project-card">
            <div class="project-card-head">
                <span class="project-icon"><Icon kind=IconKind::Folder/></span>
                <h3>{project.name.clone()}</h3>
            </div>
            <p class="muted clamp">{if project.description.is_empty() { "No description".to_string() } else { project.description.clone() }}</p>
            <div class="meta">
                <span class="badge">{project.template.clone()}</span>
                <span class="muted small">"Updated " {short_time(&project.updated_at)}</span>
            </div>
        </a>
    }
}

#[component]
fn NewProjectDialog(on_close: Callback<()>, model: RwSignal<Option<String>>) -> impl IntoView {
    let templates = LocalResource::new(api::projects::templates);
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let template = RwSignal::new("static".to_string());
    let name_error = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        name_error.set(None);
        error.set(None);
        if name.get_untracked().trim().is_empty() {
            name_error.set(Some("Give your project a name.".into()));
            return;
        }
        busy.set(true);
        let desc = description.get_untracked();
        // A description is what to build: the first turn starts with it.
        let builds = !desc.trim().is_empty();
        let body = CreateProject {
            name: name.get_untracked(),
            prompt: builds.then(|| desc.clone()),
            model: model.get_untracked().filter(|_| builds),
            description: desc,
            template: Some(template.get_untracked()),
        };
        create_and_open(navigate.clone(), body, busy, move |e| {
            match field_of(&e.message) {
                Some(("name", reason)) => name_error.set(Some(reason.to_string())),
                _ => error.set(Some(e.message)),
            }
        });
    };

    view! {
        <Modal title="New project" on_close=on_close>
            <form class="form" on:submit=submit data-testid="new-project-form">
                <label class="field">
                    <span>"Name"</span>
                    <input type="text" name="name" required maxlength="100" placeholder="e.g. Team lunch planner" bind:value=name/>
                    <FormError message=name_error/>
                </label>
                <label class="field">
                    <span>"Description " <small class="muted">"(optional)"</small></span>
                    <textarea name="description" rows="2" maxlength="2000" placeholder="What should it do?" bind:value=description></textarea>
                    <small class="hint">"With a description, the agent starts building it right away."</small>
                </label>
                <fieldset class="field">
                    <legend>"Template"</legend>
                    <Suspense fallback=|| view! { <p class="muted">"Loading templates…"</p> }>
                        <div class="template-grid" role="radiogroup">
                            {move || templates.get().map(|r| match r {
                                Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                                Ok(list) => list.templates.into_iter().map(|t| {
                                    let id = t.id.clone();
                                    let id2 = t.id.clone();
                                    view! {
                                        <label class="template-card" class:selected=move || template.get() == id data-testid="template-card">
                                            <input type="radio" name="template" value=t.id.clone() class="sr-only"
                                                prop:checked=move || template.get() == id2
                                                on:change=move |ev| template.set(event_target_value(&ev))/>
                                            <strong>{t.name.clone()}</strong>
                                            <span class="muted small">{t.description.clone()}</span>
                                            <span class="stack">{t.stack.iter().map(|s| view! { <span class="badge">{s.clone()}</span> }).collect_view()}</span>
                                        </label>
                                    }
                                }).collect_view().into_any(),
                            })}
                        </div>
                    </Suspense>
                </fieldset>
                <FormError message=error/>
                <div class="form-actions">
                    <button class="btn" type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button class="btn btn-primary" type="submit" disabled=move || busy.get() data-testid="create-project">
                        {move || if busy.get() { "Creating…" } else { "Create project" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}
