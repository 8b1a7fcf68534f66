//! The workspace's Publish button: builds the latest version, shows the
//! build's progress and its last lines, the live address once it is up,
//! and on failure the reason with a way to hand it to the agent.

use super::Ws;
use crate::api;
use crate::icons::{Icon, IconKind};
use autocrea_wire::publish::{Deployment, DeploymentStatus};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Lines of the build log the popover shows.
const TAIL: usize = 12;

#[component]
pub fn PublishButton() -> impl IntoView {
    let ws = use_context::<Ws>().expect("inside the workspace");
    let open = RwSignal::new(false);
    let refresh = RwSignal::new(0u32);
    let site = LocalResource::new(move || {
        refresh.get();
        let id = ws.id();
        async move { api::publish::site(&id).await }
    });
    let current = RwSignal::new(None::<Deployment>);
    let lines = RwSignal::new(Vec::<String>::new());
    let error = RwSignal::new(None::<String>);
    let building = move || current.get().is_some_and(|d| d.status.in_progress());

    // Polls the deployment and its log until the build ends.
    let follow = move |d: Deployment| {
        let id = ws.id();
        spawn_local(async move {
            let mut after = 0;
            let mut d = d;
            loop {
                if let Ok(log) = api::publish::log(&id, &d.id, after).await {
                    if let Some(last) = log.lines.last() {
                        after = last.seq;
                    }
                    lines.update(|l| {
                        l.extend(log.lines.into_iter().map(|l| l.text));
                        let cut = l.len().saturating_sub(TAIL);
                        l.drain(..cut);
                    });
                }
                let ended = !d.status.in_progress();
                current.set(Some(d.clone()));
                if ended {
                    refresh.update(|n| *n += 1);
                    break;
                }
                pause(1000).await;
                match api::publish::get(&id, &d.id).await {
                    Ok(next) => d = next,
                    Err(e) => {
                        error.set(Some(e.message));
                        break;
                    }
                }
            }
        });
    };
    let publish = move |_| {
        error.set(None);
        lines.set(Vec::new());
        open.set(true);
        let id = ws.id();
        spawn_local(async move {
            match api::publish::publish(&id).await {
                Ok(d) => follow(d),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let send_to_chat = move |_| {
        if let Some(d) = current.get_untracked() {
            let tail = lines.get_untracked().join("\n");
            ws.ask.set(Some(format!(
                "Publishing failed: {}. Fix the build. The end of the build log:\n```\n{tail}\n```",
                d.error.unwrap_or_default()
            )));
            open.set(false);
        }
    };

    view! {
        <div class="publish">
            <button type="button" class="btn btn-primary btn-small" data-testid="publish-button"
                disabled=building on:click=publish>
                <Icon kind=IconKind::Rocket size=16/>
                {move || if building() { " Publishing…" } else { " Publish" }}
            </button>
            <button type="button" class="btn btn-ghost btn-small" aria-label="Publishing details" aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)>"▾"</button>
            <Show when=move || open.get()>
                <div class="publish-pop card" role="dialog" aria-label="Publishing" data-testid="publish-panel">
                    {move || site.get().map(|r| match r {
                        Ok(s) if s.live.is_some() => view! {
                            <p>"Live at " <a href=s.url.clone() target="_blank" rel="noopener" data-testid="live-url">{s.url.clone()}</a></p>
                        }.into_any(),
                        Ok(_) => view! { <p class="muted">"Not published yet. Publish builds the latest version and serves it at the app's own address."</p> }.into_any(),
                        Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    })}
                    {move || current.get().map(|d| view! {
                        <p data-testid="publish-status">
                            <span class=format!("badge status-{}", d.status)>{d.status.to_string()}</span>
                            " "{d.version.chars().take(7).collect::<String>()}" "{d.message.clone()}
                        </p>
                        {(d.status == DeploymentStatus::Failed).then(|| view! {
                            <p class="form-error" data-testid="publish-error">{d.error.clone().unwrap_or_default()}</p>
                            <button type="button" class="btn btn-small" on:click=send_to_chat>"Send to chat"</button>
                        })}
                    })}
                    <Show when=move || !lines.get().is_empty()>
                        <pre class="publish-log" data-testid="publish-log">{move || lines.get().join("\n")}</pre>
                    </Show>
                    {move || error.get().map(|e| view! { <p class="form-error">{e}</p> })}
                    <p><a href=move || format!("/projects/{}/deployments", ws.id())>"All deployments, access and rollback"</a></p>
                </div>
            </Show>
        </div>
    }
}

/// Waits `ms` milliseconds (in the browser; builds are followed there only).
async fn pause(ms: i32) {
    #[cfg(feature = "hydrate")]
    {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            if let Some(w) = web_sys::window() {
                let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ms;
}
