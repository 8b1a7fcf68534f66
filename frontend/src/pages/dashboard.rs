//! The project list with search, sort and the new-project dialog.

use super::{encode, hydrated};
use crate::api::{self, field_of, Project, ProjectList, TemplateList};
use crate::components::{short_time, FormError, LoadingCards, Modal};
use crate::icons::{Icon, IconKind};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;
use serde_json::json;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let search = RwSignal::new(String::new());
    let sort = RwSignal::new("updated".to_string());
    let creating = RwSignal::new(false);
    let ready = hydrated();

    let projects = LocalResource::new(move || {
        let (q, sort) = (search.get(), sort.get());
        let order = if sort == "name" { "asc" } else { "desc" };
        async move {
            api::get::<ProjectList>(&format!(
                "/api/v1/projects?q={}&sort={sort}&order={order}",
                encode(&q)
            ))
            .await
        }
    });

    view! {
        <Title text="Projects"/>
        <div class="page-head">
            <div>
                <h1>"Projects"</h1>
                <p class="muted">"Everything you are building, newest first."</p>
            </div>
            <button class="btn btn-primary" type="button" data-testid="new-project" disabled=move || !ready.get()
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
                        <h2>"Start your first project"</h2>
                        <p class="muted">"Pick a template, describe what you want, and the agent builds it."</p>
                        <button class="btn btn-primary" type="button" on:click=move |_| creating.set(true)>
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
            <NewProjectDialog on_close=Callback::new(move |_| creating.set(false))/>
        </Show>
    }
}

#[component]
fn ProjectCard(project: Project) -> impl IntoView {
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
fn NewProjectDialog(on_close: Callback<()>) -> impl IntoView {
    let templates = LocalResource::new(|| api::get::<TemplateList>("/api/v1/templates"));
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
        let body = json!({ "name": name.get_untracked(), "description": description.get_untracked(), "template": template.get_untracked() });
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::send::<Project>("POST", "/api/v1/projects", Some(body)).await {
                Ok(p) => navigate(&format!("/projects/{}", p.id), Default::default()),
                Err(e) => {
                    busy.set(false);
                    match field_of(&e.message) {
                        Some(("name", reason)) => name_error.set(Some(reason.to_string())),
                        _ => error.set(Some(e.message)),
                    }
                }
            }
        });
    };

    view! {
        <Modal title="New project" on_close=on_close>
            <form class="form" on:submit=submit data-testid="new-project-form">
                <label class="field">
                    <span>"Name"</span>
                    <input type="text" name="name" required maxlength="100" placeholder="e.g. Team lunch planner" autofocus bind:value=name/>
                    <FormError message=name_error/>
                </label>
                <label class="field">
                    <span>"Description " <small class="muted">"(optional)"</small></span>
                    <textarea name="description" rows="2" maxlength="2000" placeholder="What should it do?" bind:value=description></textarea>
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
