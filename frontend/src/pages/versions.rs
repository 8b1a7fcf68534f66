//! The version timeline: every version with who made it, the changes of any
//! version or between any two, revert, and branches.

use super::hydrated;
use crate::api;
use crate::components::{short_time, FormError, Notice};
use crate::icons::{Icon, IconKind};
use autocrea_wire::versions::{
    AuthorKind, BranchList, Diff, FileDiff, NewBranch, SwitchBranch, Version,
};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn VersionsPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.get().get("id").unwrap_or_default());
    let ready = hydrated();
    let version = RwSignal::new(0u32);
    let page = RwSignal::new(1usize);
    let history = LocalResource::new(move || {
        version.get();
        let (id, page) = (id.get(), page.get());
        async move { api::versions::list(&id, Some(page), 20).await }
    });
    let branches = LocalResource::new(move || {
        version.get();
        let id = id.get();
        async move { api::versions::branches(&id).await }
    });
    let diff = RwSignal::new(None::<(String, Result<Diff, String>)>);
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let compare_from = RwSignal::new(String::new());
    let compare_to = RwSignal::new(String::new());

    let show_diff = move |from: String, to: String, title: String| {
        let id = id.get_untracked();
        spawn_local(async move {
            let result = api::versions::diff(&id, &from, &to).await;
            diff.set(Some((title, result.map_err(|e| e.message))));
        });
    };
    let revert = move |v: Version| {
        let id = id.get_untracked();
        error.set(None);
        notice.set(None);
        spawn_local(async move {
            match api::versions::revert(&id, &v.sha).await {
                Ok(new) => {
                    notice.set(Some(format!(
                        "Restored the files of {} as new version {}.",
                        v.short_sha, new.short_sha
                    )));
                    diff.set(None);
                    page.set(1);
                    version.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let switch = move |name: String| {
        let id = id.get_untracked();
        spawn_local(async move {
            match api::versions::switch_branch(&id, &SwitchBranch { name }).await {
                Ok(_) => {
                    diff.set(None);
                    page.set(1);
                    version.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };

    view! {
        <Title text="Versions"/>
        <a class="back" href=move || format!("/projects/{}", id.get())><Icon kind=IconKind::ArrowLeft size=16/> "Project"</a>
        <div class="page-head">
            <div>
                <h1>"Versions"</h1>
                <p class="muted">"Every change is a version. Look at what changed, compare any two, or go back: going back adds a new version, nothing is lost."</p>
            </div>
        </div>
        <FormError message=error/>
        <Notice message=notice/>
        <section class="card section">
            <div class="branch-bar">
                <Suspense fallback=|| view! { <span class="muted">"Loading branches…"</span> }>
                    {move || branches.get().map(|r| match r {
                        Err(e) => view! { <span class="form-error">{e.message}</span> }.into_any(),
                        Ok(list) => view! {
                            <label class="branch-select">
                                <Icon kind=IconKind::Branch/>
                                <span class="sr-only">"Current branch"</span>
                                <select aria-label="Current branch" data-testid="branch-select" disabled=move || !ready.get()
                                    on:change=move |ev| switch(event_target_value(&ev))>
                                    {list.branches.iter().map(|b| view! {
                                        // The property, not just the attribute: a select the user has
                                        // touched ignores attribute changes when it re-renders.
                                        <option value=b.name.clone() selected=b.current prop:selected=b.current>{b.name.clone()}</option>
                                    }).collect_view()}
                                </select>
                            </label>
                            <BranchTools project=id list=list.clone() on_change=Callback::new(move |_| version.update(|n| *n += 1)) error=error/>
                        }.into_any(),
                    })}
                </Suspense>
            </div>
        </section>
        <Suspense fallback=|| view! { <div class="skeleton w60 tall"></div> }>
            {move || history.get().map(|r| match r {
                Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                Ok(h) => {
                    let total = h.total;
                    let pages = total.div_ceil(h.limit.max(1)).max(1);
                    let head = h.versions.first().map(|v| v.sha.clone()).filter(|_| h.page == 1);
                    let options = h.versions.clone();
                    view! {
                        <ol class="timeline" data-testid="timeline">
                            {h.versions.into_iter().map(|v| {
                                let is_head = head.as_deref() == Some(v.sha.as_str());
                                let parent = v.parents.first().cloned();
                                let (v1, v2) = (v.clone(), v.clone());
                                view! {
                                    <li class="version card" data-testid="version">
                                        <div class="version-main">
                                            <div class="version-title">
                                                <strong>{v.summary.clone()}</strong>
                                                {is_head.then(|| view! { <span class="badge accent">"current"</span> })}
                                            </div>
                                            <div class="muted small version-meta">
                                                {if v.author.kind == AuthorKind::Agent {
                                                    view! { <span class="badge agent">{v.author.role.clone().unwrap_or_default()}</span> }.into_any()
                                                } else {
                                                    view! { <span><Icon kind=IconKind::User size=14/> " " {v.author.name.clone()}</span> }.into_any()
                                                }}
                                                <span>{short_time(&v.time)}</span>
                                                <code>{v.short_sha.clone()}</code>
                                                <span>{format!("{} file{}", v.files.len(), if v.files.len() == 1 { "" } else { "s" })}</span>
                                                <span class="adds">"+" {v.additions}</span>
                                                <span class="dels">"−" {v.deletions}</span>
                                            </div>
                                        </div>
                                        <div class="version-actions">
                                            {parent.map(|p| view! {
                                                <button class="btn" type="button" data-testid="show-changes" disabled=move || !ready.get()
                                                    on:click=move |_| show_diff(p.clone(), v1.sha.clone(), format!("Changes in {}", v1.short_sha))>
                                                    "Changes"
                                                </button>
                                            })}
                                            {(!is_head).then(|| view! {
                                                <button class="btn" type="button" data-testid="revert" disabled=move || !ready.get()
                                                    on:click=move |_| revert(v2.clone())>
                                                    "Revert to this"
                                                </button>
                                            })}
                                        </div>
                                    </li>
                                }
                            }).collect_view()}
                        </ol>
                        <div class="pager">
                            <button class="btn" type="button" disabled=move || { page.get() <= 1 } on:click=move |_| page.update(|p| *p -= 1)>"Newer"</button>
                            <span class="muted small">{format!("{total} versions · page ")}{move || page.get()}{format!(" of {pages}")}</span>
                            <button class="btn" type="button" disabled=move || { page.get() >= pages } on:click=move |_| page.update(|p| *p += 1)>"Older"</button>
                        </div>
                        <section class="card section compare">
                            <h2>"Compare two versions"</h2>
                            <div class="form inline">
                                <select aria-label="From version" data-testid="compare-from" on:change=move |ev| compare_from.set(event_target_value(&ev))>
                                    <option value="">"From…"</option>
                                    {options.iter().map(|v| view! { <option value=v.sha.clone()>{format!("{} · {}", v.short_sha, v.summary)}</option> }).collect_view()}
                                </select>
                                <select aria-label="To version" data-testid="compare-to" on:change=move |ev| compare_to.set(event_target_value(&ev))>
                                    <option value="">"To…"</option>
                                    {options.iter().map(|v| view! { <option value=v.sha.clone()>{format!("{} · {}", v.short_sha, v.summary)}</option> }).collect_view()}
                                </select>
                                <button class="btn btn-primary" type="button" data-testid="compare"
                                    disabled=move || !ready.get() || compare_from.get().is_empty() || compare_to.get().is_empty()
                                    on:click=move |_| show_diff(compare_from.get_untracked(), compare_to.get_untracked(), "Comparison".into())>
                                    "Show differences"
                                </button>
                            </div>
                        </section>
                    }.into_any()
                }
            })}
        </Suspense>
        {move || diff.get().map(|(title, result)| view! { <DiffView title=title result=result on_close=Callback::new(move |_| diff.set(None))/> })}
    }
}

#[component]
fn BranchTools(
    project: Memo<String>,
    list: BranchList,
    on_change: Callback<()>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let current = list
        .branches
        .iter()
        .find(|b| b.current)
        .map(|b| b.name.clone())
        .unwrap_or_default();
    let others: Vec<String> = list
        .branches
        .iter()
        .filter(|b| !b.current)
        .map(|b| b.name.clone())
        .collect();
    let create = move |ev: SubmitEvent| {
        ev.prevent_default();
        let id = project.get_untracked();
        spawn_local(async move {
            let body = NewBranch {
                name: name.get_untracked(),
                from: None,
            };
            match api::versions::create_branch(&id, &body).await {
                Ok(_) => {
                    name.set(String::new());
                    on_change.run(());
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let remove = move |branch: String| {
        let id = project.get_untracked();
        spawn_local(async move {
            match api::versions::delete_branch(&id, &branch).await {
                Ok(()) => on_change.run(()),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    view! {
        <form class="form inline branch-form" on:submit=create data-testid="branch-form">
            <input type="text" placeholder=format!("New branch from {current}") aria-label="New branch name" maxlength="100" required bind:value=name/>
            <button class="btn" type="submit"><Icon kind=IconKind::Plus/> "Branch"</button>
        </form>
        {(!others.is_empty()).then(|| view! {
            <div class="branch-others muted small">
                "Other branches: "
                {others.into_iter().map(|b| {
                    let b2 = b.clone();
                    view! {
                        <span class="chip">{b.clone()}
                            <button class="chip-x" type="button" title=format!("Delete branch {b}") aria-label=format!("Delete branch {b}")
                                on:click=move |_| remove(b2.clone())><Icon kind=IconKind::X size=12/></button>
                        </span>
                    }
                }).collect_view()}
            </div>
        })}
    }
}

#[component]
fn DiffView(title: String, result: Result<Diff, String>, on_close: Callback<()>) -> impl IntoView {
    view! {
        <section class="card section diff-panel" data-testid="diff" aria-label=title.clone()>
            <div class="modal-head">
                <h2>{title.clone()}</h2>
                <button class="btn btn-ghost btn-icon" type="button" aria-label="Close changes" on:click=move |_| on_close.run(())><Icon kind=IconKind::X/></button>
            </div>
            {match result {
                Err(e) => view! { <p class="form-error">{e}</p> }.into_any(),
                Ok(d) if d.files.is_empty() => view! { <p class="muted">"No differences."</p> }.into_any(),
                Ok(d) => d.files.into_iter().map(|f| view! { <FileDiffView file=f/> }).collect_view().into_any(),
            }}
        </section>
    }
}

#[component]
fn FileDiffView(file: FileDiff) -> impl IntoView {
    let body = if file.binary {
        view! { <p class="muted small">"Binary file changed."</p> }.into_any()
    } else {
        // Skip git's header lines; colour the rest by their first character.
        let lines: Vec<(String, &'static str)> = file
            .patch
            .lines()
            .skip_while(|l| !l.starts_with("@@"))
            .map(|l| {
                let class = match l.chars().next() {
                    Some('+') => "add",
                    Some('-') => "del",
                    Some('@') => "hunk",
                    _ => "ctx",
                };
                (l.to_string(), class)
            })
            .collect();
        view! {
            <pre class="diff-code">{lines.into_iter().map(|(l, c)| view! { <span class=c>{l}"\n"</span> }).collect_view()}</pre>
        }
        .into_any()
    };
    view! {
        <div class="file-diff" data-testid="file-diff">
            <div class="file-diff-head">
                <span class=format!("badge status-{}", file.status)>{file.status.as_str()}</span>
                <code>{file.old_path.clone().map(|o| format!("{o} → ")).unwrap_or_default()}{file.path.clone()}</code>
                <span class="adds small">"+" {file.additions}</span>
                <span class="dels small">"−" {file.deletions}</span>
            </div>
            {body}
            {file.truncated.then(|| view! { <p class="muted small">"This diff is long; it was cut."</p> })}
        </div>
    }
}
