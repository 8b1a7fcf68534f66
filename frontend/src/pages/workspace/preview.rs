//! The live preview in an iframe on the preview origin: phone, tablet and
//! desktop widths, refresh, open in a new tab, the sandbox's state and
//! output, the console (errors the injected script reports) with an
//! overlay that sends them to the chat, and the bug finder
//! (`check_for_errors` with one-click "fix this").

use super::Ws;
use crate::api;
use autocrea_wire::sandbox::{DevState, Diagnostic};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The frame's box, which workspace.js scales device widths into.
const FRAME_WRAP_ID: &str = "ws-frame-wrap";

/// Points the frame at a one-time sign-in URL of the preview origin.
async fn load_frame(id: String, src: RwSignal<Option<String>>, note: RwSignal<Option<String>>) {
    match api::sandbox::ticket(&id).await {
        Ok(t) => src.set(Some(t.url)),
        Err(e) => note.set(Some(e.message)),
    }
}

fn describe(d: &Diagnostic) -> String {
    let at = match (&d.file, d.line) {
        (Some(f), Some(l)) => format!("{f}:{l} "),
        (Some(f), None) => format!("{f} "),
        _ => String::new(),
    };
    format!("{at}{} ({})", d.message, d.source)
}

#[component]
pub fn PreviewPanel() -> impl IntoView {
    let ws = expect_context::<Ws>();
    let width = RwSignal::new("desktop");
    let origin = RwSignal::new(None::<String>);
    let src = RwSignal::new(None::<String>);
    let state = RwSignal::new("stopped".to_string());
    let note = RwSignal::new(None::<String>);
    let tab = RwSignal::new("none"); // none, logs, console, bugs
    let errors = RwSignal::new(Vec::<Diagnostic>::new());
    let checked = RwSignal::new(None::<Vec<Diagnostic>>);
    let logs = RwSignal::new(Vec::<String>::new());

    // Start the sandbox and sign the frame into the preview origin.
    let start = move || {
        let id = ws.id();
        spawn_local(async move {
            state.set("starting".into());
            match api::sandbox::start(&id).await {
                Ok(v) => {
                    state.set(v.state.as_str().to_string());
                    if let Some(u) = v.preview_url.clone() {
                        origin.set(Some(u.trim_end_matches('/').to_string()));
                    }
                    if v.state != DevState::Ready {
                        note.set(
                            v.message
                                .clone()
                                .or(Some("The dev server is not ready yet.".into())),
                        );
                    }
                }
                Err(e) => {
                    state.set("error".into());
                    note.set(Some(e.message));
                    return;
                }
            }
            load_frame(id, src, note).await;
        });
    };
    Effect::new(move |_| start());

    // Reloads sign the frame in again with a fresh ticket: the cookie of a
    // load that was cut off (a network change when a container starts) may
    // never have arrived.
    Effect::new(move |prev: Option<u32>| {
        let n = ws.reload_preview.get();
        if prev.is_some() && origin.get_untracked().is_some() {
            spawn_local(load_frame(ws.id(), src, note));
        }
        n
    });

    // The console: what the injected script and the dev server reported, every few seconds.
    #[cfg(feature = "hydrate")]
    {
        let poll = move || {
            let id = ws.id();
            spawn_local(async move {
                // The badge follows the sandbox (a dev server that exits or
                // restarts after the start is no longer "ready"); once it is
                // ready again, the frame loads the app in place of the waiting page.
                if origin.get_untracked().is_some() {
                    if let Ok(v) = api::sandbox::status(&id).await {
                        let was = state.get_untracked();
                        if was != v.state.as_str() {
                            state.set(v.state.as_str().to_string());
                            if v.state == DevState::Ready {
                                load_frame(id.clone(), src, note).await;
                            }
                        }
                    }
                }
                if let Ok(list) = api::sandbox::errors(&id).await {
                    if errors.get_untracked() != list.errors {
                        errors.set(list.errors);
                    }
                }
                if tab.get_untracked() == "logs" {
                    if let Ok(l) = api::sandbox::logs(&id).await {
                        logs.set(l.lines.into_iter().map(|l| l.text).collect());
                    }
                }
            });
        };
        let handle = set_interval_with_handle(poll, std::time::Duration::from_secs(3)).ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    }

    let check = move |_| {
        let id = ws.id();
        checked.set(None);
        tab.set("bugs");
        spawn_local(async move {
            match api::sandbox::check(&id).await {
                Ok(l) => checked.set(Some(l.errors)),
                Err(e) => note.set(Some(e.message)),
            }
        });
    };
    let fix = move |d: Diagnostic| {
        ws.ask
            .set(Some(format!("Fix this error: {}", describe(&d))))
    };
    // Phone and tablet keep their device width (the page inside sees 375 or
    // 768 px) and are scaled down to fit the panel, as browsers' device
    // toolbars do (workspace.js sets the scale); desktop is the panel's width.
    let device_width = move || match width.get() {
        "phone" => 375,
        "tablet" => 768,
        _ => 0,
    };
    Effect::new(move |_| crate::workspace_js::fit_frame(FRAME_WRAP_ID));
    let device = move |label: &'static str, key: &'static str| {
        view! { <button type="button" class="btn btn-ghost btn-small" aria-pressed=move || (width.get() == key).to_string() on:click=move |_| width.set(key)><span>{label}</span></button> }
    };
    let panel_tab = move |label: &'static str, key: &'static str| {
        view! { <button type="button" class="btn btn-ghost btn-small" aria-pressed=move || (tab.get() == key).to_string()
        on:click=move |_| tab.update(|t| *t = if *t == key { "none" } else { key })>{label}</button> }
    };
    view! {
        <div class="ws-head ws-preview-bar">
            <span class=move || format!("badge state-{}", state.get()) data-testid="preview-state">{move || state.get()}</span>
            <div role="group" aria-label="Width">{device("Phone", "phone")}{device("Tablet", "tablet")}{device("Desktop", "desktop")}</div>
            <button type="button" class="btn btn-ghost btn-small" on:click=move |_| ws.reload_preview.update(|n| *n += 1) data-testid="preview-refresh"><span>"Refresh"</span></button>
            <a class="btn btn-ghost btn-small" href=move || origin.get().unwrap_or_default() target="_blank" rel="noopener" title="Open in a new tab"><span>"Open in a new tab"</span></a>
        </div>
        {move || ws.previewing.get().map(|v| view! {
            <div class="ws-note ws-pinned small" role="status" data-testid="previewing">
                <span>{format!("Showing version {}: {}", v.short_sha, v.summary)}</span>
                <button type="button" class="btn btn-ghost btn-small" on:click=move |_| ws.preview_version(None)>"Back to latest"</button>
            </div>
        })}
        {move || ws.notice.get().map(|n| view! { <div class="ws-note small" role="alert">{n}
            <button type="button" class="btn btn-ghost btn-small" on:click=move |_| ws.notice.set(None)>"Dismiss"</button></div> })}
        {move || note.get().map(|n| view! { <div class="ws-note small" role="status">{n}
            <button type="button" class="btn btn-ghost btn-small" on:click=move |_| { note.set(None); start(); }>"Retry"</button></div> })}
        <div class=move || { if device_width() > 0 { "ws-frame-wrap device" } else { "ws-frame-wrap" } } id=FRAME_WRAP_ID data-device-width=move || device_width().to_string()>
            {move || src.get().map(|s| view! {
                <iframe class="ws-frame" title="Preview" src=s data-testid="preview-frame"></iframe>
            })}
            {move || {
                let errs: Vec<Diagnostic> = errors.get().into_iter().filter(|e| e.severity == "error").collect();
                (!errs.is_empty()).then(|| {
                    let first = errs[0].clone();
                    view! {
                        <div class="ws-overlay" role="alert" data-testid="error-overlay">
                            <strong>{format!("{} error(s) in the preview", errs.len())}</strong>
                            <p class="small">{describe(&first)}</p>
                            <button type="button" class="btn btn-small btn-primary" on:click=move |_| fix(first.clone())>"Send to chat"</button>
                        </div>
                    }
                })
            }}
        </div>
        <div class="ws-preview-tabs" role="group" aria-label="Preview panels">
            {panel_tab("Output", "logs")}{panel_tab("Console", "console")}
            <button type="button" class="btn btn-ghost btn-small" on:click=check data-testid="bug-finder">"Bug finder"</button>
        </div>
        {move || match tab.get() {
            "logs" => view! { <pre class="log ws-panel" data-testid="preview-logs">{move || logs.get().join("\n")}</pre> }.into_any(),
            "console" => view! {
                <ul class="ws-panel console" data-testid="preview-console">
                    {move || if errors.get().is_empty() { view! { <li class="muted">"Nothing reported."</li> }.into_any() } else {
                        errors.get().into_iter().map(|d| view! { <li class=format!("sev-{}", d.severity)>{describe(&d)}</li> }).collect_view().into_any()
                    }}
                </ul>
            }.into_any(),
            "bugs" => view! {
                <ul class="ws-panel console" data-testid="bug-list">
                    {move || match checked.get() {
                        None => view! { <li class="muted">"Checking…"</li> }.into_any(),
                        Some(list) if list.is_empty() => view! { <li class="muted">"No errors found."</li> }.into_any(),
                        Some(list) => list.into_iter().map(|d| {
                            let d2 = d.clone();
                            view! { <li class=format!("sev-{}", d.severity)>{describe(&d)}
                                <button type="button" class="btn btn-ghost btn-small" on:click=move |_| fix(d2.clone())>"Fix this"</button></li> }
                        }).collect_view().into_any(),
                    }}
                </ul>
            }.into_any(),
            _ => ().into_any(),
        }}
    }
}
