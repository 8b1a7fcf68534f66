//! One project: its overview and its settings (rename, describe, duplicate, delete).

use super::hydrated;
use crate::api::{self, field_of};
use crate::components::{short_time, FormError, Notice};
use crate::icons::{Icon, IconKind};
use autocrea_wire::projects::{ProjectView, UpdateProject};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

fn project_resource() -> LocalResource<Result<ProjectView, api::ApiFailure>> {
    let params = use_params_map();
    LocalResource::new(move || {
        let id = params.get().get("id").unwrap_or_default();
        async move { api::projects::get(&id).await }
    })
}

#[component]
fn Missing(message: String) -> impl IntoView {
    view! {
        <div class="empty">
            <h2>"Project not available"</h2>
            <p class="muted">{message}</p>
            <a class="btn" href="/">"Back to projects"</a>
        </div>
    }
}

#[component]
pub fn ProjectPage() -> impl IntoView {
    let project = project_resource();
    view! {
        <Suspense fallback=|| view! { <div class="skeleton w40 tall"></div> }>
            {move || project.get().map(|r| match r {
                Err(e) => view! { <Missing message=e.message/> }.into_any(),
                Ok(p) => view! {
                    <Title text=p.name.clone()/>
                    <a class="back" href="/"><Icon kind=IconKind::ArrowLeft size=16/> "Projects"</a>
                    <div class="page-head">
                        <div>
                            <h1 data-testid="project-title">{p.name.clone()}</h1>
                            <p class="muted">{if p.description.is_empty() { "No description yet.".to_string() } else { p.description.clone() }}</p>
                        </div>
                        <div class="head-actions">
                            <a class="btn btn-primary" href=format!("/projects/{}/workspace", p.id) data-testid="project-workspace-link">
                                <Icon kind=IconKind::Sparkles/> "Open workspace"
                            </a>
                            <a class="btn" href=format!("/projects/{}/versions", p.id) data-testid="project-versions-link">
                                <Icon kind=IconKind::History/> "Versions"
                            </a>
                            <a class="btn" href=format!("/projects/{}/deployments", p.id) data-testid="project-deployments-link">
                                <Icon kind=IconKind::Rocket/> "Deployments"
                            </a>
                            <a class="btn" href=format!("/projects/{}/settings", p.id) data-testid="project-settings-link">
                                <Icon kind=IconKind::Settings/> "Settings"
                            </a>
                        </div>
                    </div>
                    <div class="card details">
                        <dl>
                            <dt>"Template"</dt><dd><span class="badge">{p.template.clone()}</span></dd>
                            <dt>"Short name"</dt><dd><code>{p.slug.clone()}</code></dd>
                            <dt>"Created"</dt><dd>{short_time(&p.created_at)}</dd>
                            <dt>"Last change"</dt><dd>{short_time(&p.updated_at)}</dd>
                            <dt>"Clone with git"</dt><dd><CloneUrl slug=p.slug.clone()/></dd>
                        </dl>
                    </div>
                    <super::sandbox::PreviewCard project_id=p.id.clone()/>
                }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
pub fn ProjectSettingsPage() -> impl IntoView {
    let project = project_resource();
    view! {
        <Title text="Project settings"/>
        <Suspense fallback=|| view! { <div class="skeleton w40 tall"></div> }>
            {move || project.get().map(|r| match r {
                Err(e) => view! { <Missing message=e.message/> }.into_any(),
                Ok(p) => view! { <SettingsForms project=p/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn SettingsForms(project: ProjectView) -> impl IntoView {
    let ready = hydrated();
    let navigate = use_navigate();
    let id = StoredValue::new(project.id.clone());
    let current_name = RwSignal::new(project.name.clone());
    let name = RwSignal::new(project.name.clone());
    let description = RwSignal::new(project.description.clone());
    let name_error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let confirm = RwSignal::new(String::new());
    let delete_error = RwSignal::new(None::<String>);

    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        for s in [name_error, saved, error] {
            s.set(None);
        }
        let body = UpdateProject {
            name: Some(name.get_untracked()),
            description: Some(description.get_untracked()),
        };
        spawn_local(async move {
            match api::projects::update(&id.get_value(), &body).await {
                Ok(p) => {
                    current_name.set(p.name.clone());
                    name.set(p.name);
                    description.set(p.description);
                    saved.set(Some("Saved.".into()));
                }
                Err(e) => match field_of(&e.message) {
                    Some(("name", reason)) => name_error.set(Some(reason.to_string())),
                    _ => error.set(Some(e.message)),
                },
            }
            busy.set(false);
        });
    };

    let nav = navigate.clone();
    let duplicate = move |_| {
        let nav = nav.clone();
        spawn_local(async move {
            match api::projects::duplicate(&id.get_value()).await {
                Ok(p) => nav(&format!("/projects/{}", p.id), Default::default()),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };

    let remove = move |ev: SubmitEvent| {
        ev.prevent_default();
        if confirm.get_untracked() != current_name.get_untracked() {
            delete_error.set(Some("Type the project's name exactly to confirm.".into()));
            return;
        }
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::projects::delete(&id.get_value()).await {
                Ok(()) => navigate("/", Default::default()),
                Err(e) => delete_error.set(Some(e.message)),
            }
        });
    };

    view! {
        <a class="back" href=format!("/projects/{}", project.id)><Icon kind=IconKind::ArrowLeft size=16/> {move || current_name.get()}</a>
        <div class="page-head"><div><h1>"Project settings"</h1></div></div>
        <section class="card section">
            <h2>"General"</h2>
            <form class="form" on:submit=save data-testid="project-settings-form">
                <label class="field">
                    <span>"Name"</span>
                    <input type="text" name="name" required maxlength="100" bind:value=name/>
                    <FormError message=name_error/>
                </label>
                <label class="field">
                    <span>"Description"</span>
                    <textarea name="description" rows="3" maxlength="2000" bind:value=description></textarea>
                </label>
                <FormError message=error/>
                <Notice message=saved/>
                <div class="form-actions">
                    <button class="btn btn-primary" type="submit" disabled=move || !ready.get() || busy.get()>"Save changes"</button>
                </div>
            </form>
        </section>
        <super::agent::AgentSettings project_id=project.id.clone()/>
        <section class="card section">
            <h2>"Duplicate"</h2>
            <p class="muted">"Make a copy of this project with the same template and description."</p>
            <button class="btn" type="button" on:click=duplicate disabled=move || !ready.get() data-testid="duplicate-project">
                <Icon kind=IconKind::Copy/> "Duplicate project"
            </button>
        </section>
        <section class="card section danger">
            <h2>"Delete project"</h2>
            <p class="muted">"This removes the project for good. Type "<strong>{move || current_name.get()}</strong>" to confirm."</p>
            <form class="form inline" on:submit=remove data-testid="delete-project-form">
                <input type="text" name="confirm" aria-label="Project name to confirm" autocomplete="off" bind:value=confirm/>
                <button class="btn btn-danger" type="submit" data-testid="delete-project"
                    disabled=move || !ready.get() || confirm.get() != current_name.get()>
                    <Icon kind=IconKind::Trash/> "Delete"
                </button>
            </form>
            <FormError message=delete_error/>
        </section>
    }
}

/// `git clone` address of the project on this server, for the signed-in owner.
#[component]
fn CloneUrl(slug: String) -> impl IntoView {
    let session = expect_context::<crate::session::SessionResource>();
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let slug = slug.clone();
                Suspend::new(async move {
                    let user = session.await.map(|s| s.username).unwrap_or_default();
                    let origin = origin();
                    view! { <code data-testid="clone-url">{format!("git clone {origin}/git/{user}/{slug}.git")}</code> }
                })
            }}
        </Suspense>
    }
}

fn origin() -> String {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}
