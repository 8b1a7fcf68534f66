//! The apps portal: the published apps the viewer may open, searchable.

use crate::api;
use crate::components::short_time;
use crate::icons::{Icon, IconKind};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AppsPage() -> impl IntoView {
    let query = RwSignal::new(String::new());
    let apps = LocalResource::new(move || {
        let q = query.get();
        async move { api::publish::portal(&q).await }
    });
    view! {
        <Title text="Apps"/>
        <div class="page-head">
            <div>
                <h1>"Apps"</h1>
                <p class="muted">"The tools people here have built and published, that you may open."</p>
            </div>
        </div>
        <label class="search">
            <Icon kind=IconKind::Search/>
            <span class="sr-only">"Search apps"</span>
            <input type="search" placeholder="Search apps" data-testid="apps-search"
                on:input=move |ev| query.set(event_target_value(&ev))/>
        </label>
        <Suspense fallback=|| view! { <div class="skeleton w60 tall"></div> }>
            {move || apps.get().map(|r| match r {
                Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                Ok(l) if l.apps.is_empty() => view! {
                    <p class="muted" data-testid="apps-empty">"No published apps yet. Publish a project from its workspace, and open it to colleagues on its deployments page."</p>
                }.into_any(),
                Ok(l) => view! {
                    <ul class="grid apps" data-testid="apps">
                        {l.apps.into_iter().map(|a| view! {
                            <li class="card app-card" data-testid="app-card">
                                <h2 class="app-title">
                                    {match a.icon_url.clone() {
                                        Some(src) => view! { <img class="app-icon" src=src alt="" width="32" height="32" data-testid="app-icon"/> }.into_any(),
                                        None => view! { <span class="app-icon app-initial" aria-hidden="true">{a.title.chars().next().unwrap_or('?').to_uppercase().to_string()}</span> }.into_any(),
                                    }}
                                    <a href=a.url.clone() target="_blank" rel="noopener">{a.title.clone()}</a>
                                </h2>
                                <p class="muted">{if a.description.is_empty() { "No description.".to_string() } else { a.description.clone() }}</p>
                                <p class="small">
                                    <span class="badge">{a.template.clone()}</span>" by "{a.owner.clone()}
                                    {a.published_at.as_deref().map(|t| format!(" · published {}", short_time(t)))}
                                </p>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
            })}
        </Suspense>
    }
}
