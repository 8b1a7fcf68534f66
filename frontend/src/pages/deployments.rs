//! A project's deployments page: the site (address, who may open it, how
//! many old deployments are kept) and every deployment with its status,
//! version, author, time, build length and log; promote (roll back or
//! forward) and delete.

use super::env_vars::EnvVarsCard;
use super::hydrated;
use crate::api;
use crate::components::{short_time, FormError, Notice};
use crate::icons::{Icon, IconKind};
use autocrea_wire::publish::{check_site_name, Access, Deployment, Site, SiteUpdate};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn DeploymentsPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.get().get("id").unwrap_or_default());
    let version = RwSignal::new(0u32);
    let site = LocalResource::new(move || {
        version.get();
        let id = id.get();
        async move { api::publish::site(&id).await }
    });
    let list = LocalResource::new(move || {
        version.get();
        let id = id.get();
        async move { api::publish::list(&id).await }
    });
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let log = RwSignal::new(None::<(String, Vec<String>)>);

    let publish = move |_| {
        error.set(None);
        let id = id.get_untracked();
        spawn_local(async move {
            match api::publish::publish(&id).await {
                Ok(_) => {
                    notice.set(Some(
                        "Building the latest version; it goes live when its checks pass.".into(),
                    ));
                    version.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let promote = move |d: Deployment| {
        error.set(None);
        let id = id.get_untracked();
        spawn_local(async move {
            match api::publish::promote(&id, &d.id).await {
                Ok(_) => {
                    notice.set(Some(format!("Version {} is live again.", &d.version[..7])));
                    version.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let remove = move |d: Deployment| {
        error.set(None);
        let id = id.get_untracked();
        spawn_local(async move {
            match api::publish::delete(&id, &d.id).await {
                Ok(()) => version.update(|n| *n += 1),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let show_log = move |d: Deployment| {
        let id = id.get_untracked();
        spawn_local(async move {
            match api::publish::log(&id, &d.id, 0).await {
                Ok(l) => log.set(Some((
                    d.id.clone(),
                    l.lines.into_iter().map(|l| l.text).collect(),
                ))),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    // While a build runs, the list follows it.
    #[cfg(feature = "hydrate")]
    {
        let timer = leptos::prelude::set_interval_with_handle(
            move || {
                let busy = list
                    .get_untracked()
                    .and_then(|r| r.ok())
                    .is_some_and(|l| l.deployments.iter().any(|d| d.status.in_progress()));
                if busy {
                    version.update(|n| *n += 1);
                }
            },
            std::time::Duration::from_millis(1500),
        );
        if let Ok(t) = timer {
            on_cleanup(move || t.clear());
        }
    }

    view! {
        <Title text="Deployments"/>
        <a class="back" href=move || format!("/projects/{}", id.get())><Icon kind=IconKind::ArrowLeft size=16/> "Project"</a>
        <div class="page-head">
            <div>
                <h1>"Deployments"</h1>
                <p class="muted">"Each publish builds one version into a deployment that never changes. The live one answers at the app's address; any earlier one can go live again at once, without a rebuild."</p>
            </div>
            <div class="head-actions">
                <button type="button" class="btn btn-primary" data-testid="deployments-publish" on:click=publish>
                    <Icon kind=IconKind::Rocket/> " Publish latest version"
                </button>
            </div>
        </div>
        <FormError message=error/>
        <Notice message=notice/>
        <Suspense fallback=|| view! { <div class="skeleton w60"></div> }>
            {move || site.get().map(|r| match r {
                Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                Ok(s) => view! { <SiteCard site=s on_change=Callback::new(move |_| version.update(|n| *n += 1)) error=error notice=notice/> }.into_any(),
            })}
        </Suspense>
        {move || view! { <EnvVarsCard project_id=id.get() error=error notice=notice on_publish=Callback::new(move |_| version.update(|n| *n += 1))/> }}
        <super::remote::RemoteCard project=id/>
        <section class="card section">
            <h2>"History"</h2>
            <Suspense fallback=|| view! { <div class="skeleton w60 tall"></div> }>
                {move || list.get().map(|r| match r {
                    Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    Ok(l) if l.deployments.is_empty() => view! { <p class="muted">"Nothing published yet."</p> }.into_any(),
                    Ok(l) => view! {
                        <table class="table deployments" data-testid="deployments">
                            <thead><tr><th>"Status"</th><th>"Version"</th><th>"By"</th><th>"When"</th><th>"Build"</th><th>"Size"</th><th></th></tr></thead>
                            <tbody>
                            {l.deployments.into_iter().map(|d| {
                                let (d1, d2, d3) = (d.clone(), d.clone(), d.clone());
                                let servable = d.status.servable();
                                let live = d.live;
                                view! {
                                    <tr data-testid="deployment-row" data-status=d.status.to_string() data-live=live.to_string()>
                                        <td>
                                            <span class=format!("badge status-{}", d.status)>{d.status.to_string()}</span>
                                            {live.then(|| view! { " " <span class="badge badge-live">"live"</span> })}
                                            {d.runtime.clone().filter(|r| r != "running").map(|r| view! { " " <span class="badge">{r}</span> })}
                                        </td>
                                        <td>
                                            <a href=format!("/projects/{}/versions", d.project_id) title=d.version.clone()><code>{d.version.chars().take(7).collect::<String>()}</code></a>
                                            " "{d.message.clone()}
                                            {d.error.clone().map(|e| view! { <div class="form-error small">{e}</div> })}
                                        </td>
                                        <td>{d.author.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td>{short_time(&d.created_at)}</td>
                                        <td>{d.build_ms.map(|ms| format!("{:.1} s", ms as f64 / 1000.0)).unwrap_or_default()}</td>
                                        <td>{d.size_bytes.map(human_size).unwrap_or_default()}</td>
                                        <td class="row-actions">
                                            {servable.then(|| view! { <a class="btn btn-ghost btn-small" href=d.url.clone() target="_blank" rel="noopener">"Open"</a> })}
                                            {(servable && !live).then(|| view! { <button type="button" class="btn btn-small" data-testid="promote" on:click=move |_| promote(d1.clone())>"Make live"</button> })}
                                            <button type="button" class="btn btn-ghost btn-small" on:click=move |_| show_log(d2.clone())>"Log"</button>
                                            {(!live && !d.status.in_progress()).then(|| view! { <button type="button" class="btn btn-ghost btn-small" aria-label="Delete deployment" on:click=move |_| remove(d3.clone())><Icon kind=IconKind::Trash size=14/></button> })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Suspense>
            {move || log.get().map(|(d, lines)| view! {
                <h3>"Build log of " <code>{d.chars().take(8).collect::<String>()}</code></h3>
                <pre class="publish-log tall" data-testid="deployment-log">{lines.join("\n")}</pre>
            })}
        </section>
    }
}

fn human_size(bytes: i64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
        b => format!("{} KiB", (b + 1023) / 1024),
    }
}

fn access_label(a: Access) -> &'static str {
    match a {
        Access::Private => "Only me",
        Access::SignedIn => "Everyone with an account here",
        Access::People => "People I choose",
        Access::Public => "Anyone who can reach the address",
    }
}

/// The site's address and access.
#[component]
fn SiteCard(
    site: Site,
    on_change: Callback<()>,
    error: RwSignal<Option<String>>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let ready = hydrated();
    let name = RwSignal::new(site.name.clone());
    let access = RwSignal::new(site.access);
    let people = RwSignal::new(site.people.join("\n"));
    let retention = RwSignal::new(site.retention.to_string());
    let auto_deploy = RwSignal::new(site.auto_deploy);
    let project = site.project_id.clone();
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let n = name.get_untracked().trim().to_ascii_lowercase();
        if let Err(e) = check_site_name(&n) {
            error.set(Some(e));
            return;
        }
        let Ok(keep) = retention.get_untracked().trim().parse::<i64>() else {
            error.set(Some("Keep: a number of deployments, 1 to 100".into()));
            return;
        };
        let body = SiteUpdate {
            name: Some(n),
            access: Some(access.get_untracked()),
            people: Some(
                people
                    .get_untracked()
                    .split([',', '\n', ' '])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect(),
            ),
            retention: Some(keep),
            auto_deploy: Some(auto_deploy.get_untracked()),
        };
        let project = project.clone();
        error.set(None);
        spawn_local(async move {
            match api::publish::update_site(&project, &body).await {
                Ok(_) => {
                    notice.set(Some("Saved.".into()));
                    on_change.run(());
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    view! {
        <section class="card section" data-testid="site-card">
            <h2><Icon kind=IconKind::Globe/> " The app's address"</h2>
            {match site.live.is_some() {
                true => view! { <p>"Live at " <a href=site.url.clone() target="_blank" rel="noopener" data-testid="site-url">{site.url.clone()}</a></p> }.into_any(),
                false => view! { <p class="muted">"It will answer at " <code>{site.url.clone()}</code> " once a deployment is live."</p> }.into_any(),
            }}
            <form class="publish-form" on:submit=save>
                <label>"Address name"
                    <input type="text" data-testid="site-name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))
                        maxlength="40" autocomplete="off" spellcheck="false"/>
                </label>
                <label>"Who may open it"
                    <select data-testid="site-access" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some(a) = Access::ALL.iter().find(|a| a.as_str() == v) { access.set(*a) }
                    }>
                        {Access::ALL.iter().map(|a| view! {
                            <option value=a.as_str() selected=move || access.get() == *a>{access_label(*a)}</option>
                        }).collect_view()}
                    </select>
                </label>
                <Show when=move || access.get() == Access::People>
                    <label>"People (e-mail addresses of accounts here, one per line)"
                        <textarea data-testid="site-people" rows="3" prop:value=move || people.get() on:input=move |ev| people.set(event_target_value(&ev))></textarea>
                    </label>
                </Show>
                <p class="muted small">"Signed-in visitors use a sign-in of the app's own address: the console's session never reaches the app."</p>
                <label>"Keep this many old deployments"
                    <input type="number" min="1" max="100" prop:value=move || retention.get() on:input=move |ev| retention.set(event_target_value(&ev))/>
                </label>
                <label class="check">
                    <input type="checkbox" data-testid="site-auto-deploy" prop:checked=move || auto_deploy.get() on:change=move |ev| auto_deploy.set(event_target_checked(&ev))/>
                    " Publish automatically when the default branch changes (an agent turn, a save, a push)"
                </label>
                <div><button type="submit" class="btn" data-testid="site-save" disabled=move || !ready.get()>"Save"</button></div>
            </form>
        </section>
    }
}
