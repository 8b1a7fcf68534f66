//! The project's sandbox on its page: state, start / stop / restart, the way
//! into the live preview (its own origin), and the dev server's last lines.

use crate::api;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// What the card's buttons ask of the sandbox.
#[derive(Clone, Copy)]
enum Action {
    Start,
    Stop,
    Restart,
}

#[component]
pub fn PreviewCard(project_id: String) -> impl IntoView {
    let version = RwSignal::new(0u32);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let id = StoredValue::new(project_id);
    let status = LocalResource::new(move || {
        version.get();
        let id = id.get_value();
        async move { api::sandbox::status(&id).await }
    });
    let logs = LocalResource::new(move || {
        version.get();
        let id = id.get_value();
        async move {
            api::sandbox::logs(&id)
                .await
                .map(|l| {
                    l.lines
                        .into_iter()
                        .rev()
                        .take(40)
                        .rev()
                        .map(|l| l.text)
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .unwrap_or_default()
        }
    });
    let act = move |action: Action| {
        let id = id.get_value();
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let answer = match action {
                Action::Start => api::sandbox::start(&id).await,
                Action::Stop => api::sandbox::stop(&id).await,
                Action::Restart => api::sandbox::restart(&id).await,
            };
            if let Err(e) = answer {
                error.set(Some(e.message));
            }
            busy.set(false);
            version.update(|v| *v += 1);
        });
    };
    let open = move || api::sandbox::preview_open_url(&id.get_value());
    view! {
        <section class="card section" data-testid="sandbox">
            <h2>"Preview"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || status.get().map(|r| match r {
                    Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    Ok(s) => {
                        let running = s.container.is_some();
                        view! {
                            <dl class="details-inline">
                                <dt>"Sandbox"</dt>
                                <dd><span class=format!("badge state-{}", s.state) data-testid="sandbox-state">{s.state.as_str()}</span></dd>
                                <dt>"Address"</dt>
                                <dd><code data-testid="preview-url">{s.preview_url.clone().unwrap_or_default()}</code></dd>
                                <dt>"Restarts"</dt><dd>{s.restarts}</dd>
                                <dt>"Last exit"</dt><dd>{s.last_exit.clone().unwrap_or_else(|| "—".into())}</dd>
                                <dt>"Started in"</dt>
                                <dd>{s.ready_after_ms.map(|ms| format!("{:.1} s{}", ms as f64 / 1000.0, if s.from_warm_pool { " (warm)" } else { "" })).unwrap_or_else(|| "—".into())}</dd>
                            </dl>
                            {s.message.clone().map(|m| view! { <p class="form-error" data-testid="sandbox-message">{m}</p> })}
                            <div class="form-actions">
                                <a class="btn btn-primary" href=open() target="_blank" rel="noopener" data-testid="open-preview">"Open preview"</a>
                                {if running {
                                    view! {
                                        <button class="btn" type="button" disabled=move || busy.get() on:click=move |_| act(Action::Restart)>"Restart"</button>
                                        <button class="btn" type="button" disabled=move || busy.get() on:click=move |_| act(Action::Stop)>"Stop"</button>
                                    }.into_any()
                                } else {
                                    view! {
                                        <button class="btn" type="button" disabled=move || busy.get() on:click=move |_| act(Action::Start)>"Start"</button>
                                    }.into_any()
                                }}
                                <button class="btn" type="button" on:click=move |_| version.update(|v| *v += 1)>"Refresh"</button>
                            </div>
                        }.into_any()
                    }
                })}
            </Suspense>
            {move || error.get().map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
            <details>
                <summary>"Dev server output"</summary>
                <Suspense fallback=|| ()>
                    <pre class="log" data-testid="sandbox-log">{move || logs.get().map(|l| if l.is_empty() { "(not running)".to_string() } else { l })}</pre>
                </Suspense>
            </details>
        </section>
    }
}
