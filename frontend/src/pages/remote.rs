//! The "Git remote" card of the deployments page: link the project to an
//! external repository (URL, user name, token shown only as its last four
//! characters), the push mirror, Push now / Pull now, the last push and
//! pull, a conflict with its files and what to do, and the webhook (its
//! secret shown once).

use super::hydrated;
use crate::api;
use crate::components::{short_time, FormError, Notice};
use crate::icons::{Icon, IconKind};
use autocrea_wire::remote::{PullOutcome, RemoteRequest, RemoteView, SyncStatus};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn RemoteCard(#[prop(into)] project: Signal<String>) -> impl IntoView {
    let version = RwSignal::new(0u32);
    let link = LocalResource::new(move || {
        version.get();
        let id = project.get();
        async move { api::remote::get(&id).await }
    });
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    // The webhook secret comes once (a new link, a new secret): kept here
    // so a refresh of the card does not lose it before it is copied.
    let secret = RwSignal::new(None::<String>);
    let refresh = Callback::new(move |_| version.update(|n| *n += 1));
    view! {
        <section class="card section" data-testid="remote-card">
            <h2><Icon kind=IconKind::Branch/> " Git remote"</h2>
            <p class="muted">"Link this project to a repository on GitHub, GitLab, Gitea or any HTTPS git server. The push mirror sends every new version there; changes made there come in as versions when you pull (or when its webhook tells us). Work on either side is never overwritten: a conflict is shown here."</p>
            <FormError message=error/>
            <Notice message=notice/>
            <Suspense fallback=|| view! { <div class="skeleton w60"></div> }>
                {move || link.get().map(|r| match r {
                    Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    Ok(l) => view! {
                        <RemoteForm project=project.get_untracked() remote=l.remote secret=secret
                            error=error notice=notice on_change=refresh/>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn RemoteForm(
    project: String,
    remote: Option<RemoteView>,
    secret: RwSignal<Option<String>>,
    error: RwSignal<Option<String>>,
    notice: RwSignal<Option<String>>,
    on_change: Callback<()>,
) -> impl IntoView {
    let ready = hydrated();
    let busy = RwSignal::new(false);
    let linked = remote.is_some();
    let url = RwSignal::new(remote.as_ref().map(|r| r.url.clone()).unwrap_or_default());
    let username = RwSignal::new(
        remote
            .as_ref()
            .and_then(|r| r.username.clone())
            .unwrap_or_default(),
    );
    let token = RwSignal::new(String::new());
    let branch = RwSignal::new(
        remote
            .as_ref()
            .map(|r| r.branch.clone())
            .unwrap_or_default(),
    );
    let mirror = RwSignal::new(remote.as_ref().is_some_and(|r| r.push_mirror));
    let last4 = remote.as_ref().and_then(|r| r.token_last4.clone());

    let p = project.clone();
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let t = token.get_untracked();
        let body = RemoteRequest {
            url: url.get_untracked().trim().to_string(),
            username: Some(username.get_untracked().trim().to_string()).filter(|u| !u.is_empty()),
            // Empty keeps the stored token.
            token: Some(t.trim().to_string()).filter(|t| !t.is_empty()),
            branch: Some(branch.get_untracked().trim().to_string()).filter(|b| !b.is_empty()),
            push_mirror: mirror.get_untracked(),
        };
        let p = p.clone();
        error.set(None);
        busy.set(true);
        spawn_local(async move {
            match api::remote::link(&p, &body).await {
                Ok(v) => {
                    if v.webhook_secret.is_some() {
                        secret.set(v.webhook_secret);
                    }
                    notice.set(Some(if v.push_mirror {
                        "Saved. The push mirror sends the current version now.".into()
                    } else {
                        "Saved.".into()
                    }));
                    on_change.run(());
                }
                Err(e) => error.set(Some(e.message)),
            }
            busy.set(false);
        });
    };
    let p = project.clone();
    let push = move |_| {
        let p = p.clone();
        error.set(None);
        busy.set(true);
        spawn_local(async move {
            match api::remote::push(&p).await {
                Ok(_) => notice.set(Some("Pushed.".into())),
                Err(e) => error.set(Some(e.message)),
            }
            busy.set(false);
            on_change.run(());
        });
    };
    let p = project.clone();
    let pull = move |_| {
        let p = p.clone();
        error.set(None);
        busy.set(true);
        spawn_local(async move {
            match api::remote::pull(&p).await {
                Ok(r) => notice.set(Some(outcome_text(r.outcome).into())),
                Err(e) => error.set(Some(e.message)),
            }
            busy.set(false);
            on_change.run(());
        });
    };
    let p = project.clone();
    let rotate = move |_| {
        let p = p.clone();
        error.set(None);
        spawn_local(async move {
            match api::remote::rotate_secret(&p).await {
                Ok(v) => {
                    secret.set(v.webhook_secret);
                    notice.set(Some("A new webhook secret: put it in the remote's webhook settings; the old one no longer works.".into()));
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let p = project.clone();
    let unlink = move |_| {
        let p = p.clone();
        error.set(None);
        spawn_local(async move {
            match api::remote::unlink(&p).await {
                Ok(()) => {
                    secret.set(None);
                    notice.set(Some("Unlinked. The token and the webhook secret are deleted; the versions stay.".into()));
                    on_change.run(());
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let token_placeholder = match &last4 {
        Some(l) => format!("••••{l} (leave empty to keep it)"),
        None => "an access token with read and write access".to_string(),
    };

    view! {
        <form class="stack" on:submit=save data-testid="remote-form">
            <label>"Repository URL"
                <input type="url" data-testid="remote-url" placeholder="https://git.example.com/team/app.git"
                    prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))
                    autocomplete="off" spellcheck="false" required/>
            </label>
            <label>"User name (for the token)"
                <input type="text" data-testid="remote-username" prop:value=move || username.get()
                    on:input=move |ev| username.set(event_target_value(&ev)) autocomplete="off" spellcheck="false"/>
            </label>
            <label>"Access token"
                <input type="password" data-testid="remote-token" placeholder=token_placeholder
                    prop:value=move || token.get() on:input=move |ev| token.set(event_target_value(&ev)) autocomplete="new-password"/>
            </label>
            <p class="muted small">"The token is stored encrypted and never shown again; only its last four characters are. Do not put it in the URL."</p>
            <label>"Remote branch"
                <input type="text" data-testid="remote-branch" placeholder="the project's branch" prop:value=move || branch.get()
                    on:input=move |ev| branch.set(event_target_value(&ev)) autocomplete="off" spellcheck="false"/>
            </label>
            <label class="check">
                <input type="checkbox" data-testid="remote-mirror" prop:checked=move || mirror.get()
                    on:change=move |ev| mirror.set(event_target_checked(&ev))/>
                " Push mirror: push every new version of the branch"
            </label>
            <div class="row-actions">
                <button type="submit" class="btn" data-testid="remote-save" disabled=move || !ready.get() || busy.get()>
                    {if linked { "Save" } else { "Link" }}
                </button>
                {linked.then(|| view! {
                    <button type="button" class="btn" data-testid="remote-push" on:click=push disabled=move || busy.get()>"Push now"</button>
                    <button type="button" class="btn" data-testid="remote-pull" on:click=pull disabled=move || busy.get()>"Pull now"</button>
                    <button type="button" class="btn btn-ghost" data-testid="remote-unlink" on:click=unlink>"Unlink"</button>
                })}
            </div>
        </form>
        {remote.map(|r| view! {
            <dl class="remote-status" data-testid="remote-status">
                <dt>"Last push"</dt><dd>{status_view(&r.last_push)}</dd>
                <dt>"Last pull"</dt><dd>{status_view(&r.last_pull)}</dd>
            </dl>
            {r.conflict.map(|c| view! {
                <div class="form-error" role="alert" data-testid="remote-conflict">
                    <strong>"The last pull found a conflict. "</strong>
                    "This project (" <code>{c.local_sha.chars().take(7).collect::<String>()}</code>
                    ") and the remote (" <code>{c.remote_sha.chars().take(7).collect::<String>()}</code>
                    ") both changed:"
                    <ul>{c.paths.into_iter().map(|p| view! { <li><code>{p}</code></li> }).collect_view()}</ul>
                    <p>{c.advice}</p>
                </div>
            })}
            <h3>"Webhook"</h3>
            <p class="muted small">"In the remote's settings, add a push webhook to this address (content type application/json) with the secret below, so pushes there are pulled here at once."</p>
            <p><code data-testid="remote-webhook-url">{r.webhook_url}</code></p>
            {move || match secret.get() {
                Some(s) => view! {
                    <p>"Secret (shown only now; copy it): " <code data-testid="remote-webhook-secret">{s}</code></p>
                }.into_any(),
                None => view! { <p class="muted small">"The secret was shown once when it was made."</p> }.into_any(),
            }}
            <button type="button" class="btn btn-ghost btn-small" data-testid="remote-rotate" on:click=rotate>"New secret"</button>
        })}
    }
}

fn status_view(s: &SyncStatus) -> impl IntoView {
    match (&s.at, &s.error) {
        (None, _) => view! { <span class="muted">"never"</span> }.into_any(),
        (Some(at), Some(e)) => view! {
            <span class="form-error small">{short_time(at)} " — " {e.clone()}</span>
        }
        .into_any(),
        (Some(at), None) => view! {
            <span>{short_time(at)}
                {s.sha.clone().map(|sha| view! { " " <code>{sha.chars().take(7).collect::<String>()}</code> })}
            </span>
        }
        .into_any(),
    }
}

fn outcome_text(o: PullOutcome) -> &'static str {
    match o {
        PullOutcome::UpToDate => "Pulled: the remote had nothing new.",
        PullOutcome::LocalAhead => {
            "Pulled: nothing new there; this project is ahead (push to update the remote)."
        }
        PullOutcome::FastForward => "Pulled: the remote's changes are new versions here.",
        PullOutcome::Merged => "Pulled: both sides had changed, in different places; a merge version joins them.",
        PullOutcome::Conflict => "Not pulled: the remote's changes conflict with this project's (see below). Nothing was changed.",
    }
}
