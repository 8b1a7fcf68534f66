//! Instance administration in sections (a side nav; `?section=` in the
//! address): sign-up, people, models and providers, usage, the audit log.

use crate::api;
use crate::components::{short_time, FormError};
use crate::icons::{Icon, IconKind};
use autocrea_wire::settings::{Severity, UpdateSettings, Warning};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AdminPage() -> impl IntoView {
    let query = use_query_map();
    let section = Memo::new(move |_| {
        let s = query.get().get("section").unwrap_or_default();
        SECTIONS
            .iter()
            .find(|(id, _)| *id == s)
            .map(|(id, _)| *id)
            .unwrap_or("signup")
    });
    let shown = move |id: &'static str| move || section.get() == id;
    let settings = LocalResource::new(api::admin::settings);
    let users = LocalResource::new(api::admin::users);
    let audit = LocalResource::new(|| api::admin::audit(50));
    let open_signup = RwSignal::new(None::<bool>);
    let warnings = RwSignal::new(Vec::<Warning>::new());
    let error = RwSignal::new(None::<String>);

    Effect::new(move |_| {
        if let Some(Ok(s)) = settings.get() {
            open_signup.set(Some(s.settings.open_signup));
            warnings.set(s.warnings);
        }
    });

    let toggle = move |_| {
        let Some(current) = open_signup.get_untracked() else {
            return;
        };
        error.set(None);
        spawn_local(async move {
            let body = UpdateSettings {
                open_signup: Some(!current),
            };
            match api::admin::update_settings(&body).await {
                Ok(s) => open_signup.set(Some(s.settings.open_signup)),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };

    view! {
        <Title text="Admin"/>
        <div class="page-head"><div><h1><Icon kind=IconKind::Shield/> " Administration"</h1>
            <p class="muted">"Who may join, which models people may use, who is here, and what happened."</p></div></div>
        <div class="admin-layout">
            <nav class="admin-nav" aria-label="Administration sections" data-testid="admin-nav">
                {SECTIONS.iter().map(|(id, label)| {
                    let id = *id;
                    view! {
                        <a href=format!("/admin?section={id}") class="admin-nav-link"
                            aria-current=move || (section.get() == id).then_some("page")
                            data-section=id>{*label}</a>
                    }
                }).collect_view()}
            </nav>
            <div class="admin-main">
        <Show when=move || !warnings.get().is_empty() && section.get() == "signup">
            <section class="card section" data-testid="setup-warnings">
                <h2>"Previews and the console"</h2>
                {move || warnings.get().into_iter().map(|w| {
                    // Information (the single-machine default) reads calmer than a warning.
                    let class = if w.severity == Severity::Warning { "form-error" } else { "muted small" };
                    view! { <p class=class data-code=w.code>{w.message}</p> }
                }).collect_view()}
            </section>
        </Show>
        <Show when=shown("signup")>
        <section class="card section" data-testid="admin-signup">
            <h2>"Sign-up"</h2>
            <div class="setting">
                <div>
                    <strong>"Open sign-up"</strong>
                    <p class="muted small">"When off, only administrators (or the command line) can add people."</p>
                </div>
                <button type="button" role="switch" class="switch-toggle" data-testid="open-signup"
                    aria-checked=move || if open_signup.get() == Some(true) { "true" } else { "false" }
                    aria-label="Open sign-up"
                    disabled=move || open_signup.get().is_none()
                    on:click=toggle>
                    <span class="knob"></span>
                </button>
            </div>
            <FormError message=error/>
        </section>
        </Show>
        <Show when=shown("models")>
            <super::models::AdminModels/>
        </Show>
        <Show when=shown("usage")>
            <super::models::AdminUsage/>
        </Show>
        <Show when=shown("people")>
        <section class="card section" data-testid="admin-people">
            <h2>"People"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || users.get().map(|r| match r {
                    Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    Ok(list) => view! {
                        <div class="table-scroll">
                        <table class="table" data-testid="user-list">
                            <thead><tr><th>"Name"</th><th>"Email"</th><th>"Username"</th><th>"Role"</th><th>"Joined"</th></tr></thead>
                            <tbody>{list.users.into_iter().map(|u| view! {
                                <tr><td>{u.name}</td><td>{u.email}</td><td><code>{u.username}</code></td>
                                <td>{if u.is_admin { "Admin" } else { "Member" }}</td><td>{short_time(&u.created_at)}</td></tr>
                            }).collect_view()}</tbody>
                        </table>
                        </div>
                    }.into_any(),
                })}
            </Suspense>
        </section>
        </Show>
        <Show when=shown("audit")>
        <section class="card section" data-testid="admin-audit">
            <h2>"Audit log"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || audit.get().map(|r| match r {
                    Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    Ok(list) => view! {
                        <div class="table-scroll">
                        <table class="table small" data-testid="audit-list">
                            <thead><tr><th>"When"</th><th>"Who"</th><th>"Action"</th><th>"Target"</th><th>"From"</th></tr></thead>
                            <tbody>{list.entries.into_iter().map(|e| view! {
                                <tr><td>{short_time(&e.at)}</td><td>{e.actor_label.unwrap_or_default()}</td><td><code>{e.action}</code></td>
                                <td>{e.target.unwrap_or_default()} " " <span class="muted">{e.detail.unwrap_or_default()}</span></td><td>{e.ip.unwrap_or_default()}</td></tr>
                            }).collect_view()}</tbody>
                        </table>
                        </div>
                    }.into_any(),
                })}
            </Suspense>
        </section>
        </Show>
            </div>
        </div>
    }
}

/// The sections, in the side nav's order: id (for `?section=`) and label.
const SECTIONS: &[(&str, &str)] = &[
    ("signup", "Sign-up"),
    ("people", "People"),
    ("models", "Models & providers"),
    ("usage", "Usage"),
    ("audit", "Audit log"),
];
