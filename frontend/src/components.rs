//! Pieces shared by pages: top bar, theme switch, dialogs, notices.

use crate::api;
use crate::app::{go_to, SessionResource};
use crate::icons::{Icon, IconKind};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn Logo() -> impl IntoView {
    view! {
        <a class="logo" href="/" aria-label="AUTOCREA home">
            <span class="logo-mark"><Icon kind=IconKind::Sparkles size=16/></span>
            <span class="logo-text">"AUTOCREA"</span>
        </a>
    }
}

/// Light / dark switch, remembered in localStorage. Both icons are rendered;
/// CSS shows the one that fits, so the server and browser markup agree.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let toggle = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let Some(window) = web_sys::window() else {
                return;
            };
            let Some(root) = window.document().and_then(|d| d.document_element()) else {
                return;
            };
            let next = if root.get_attribute("data-theme").as_deref() == Some("dark") {
                "light"
            } else {
                "dark"
            };
            let _ = root.set_attribute("data-theme", next);
            if let Ok(Some(storage)) = window.local_storage() {
                let _ = storage.set_item("autocrea-theme", next);
            }
        }
    };
    view! {
        <button class="btn btn-ghost btn-icon theme-toggle" type="button" title="Switch light / dark theme"
            aria-label="Switch light / dark theme" on:click=toggle data-testid="theme-toggle">
            <span class="only-light"><Icon kind=IconKind::Moon/></span>
            <span class="only-dark"><Icon kind=IconKind::Sun/></span>
        </button>
    }
}

pub fn sign_out() {
    spawn_local(async move {
        let _ = api::send::<serde_json::Value>("POST", "/api/v1/auth/logout", None).await;
        go_to("/login");
    });
}

#[component]
pub fn TopBar() -> impl IntoView {
    let session = expect_context::<SessionResource>();
    view! {
        <header class="topbar">
            <div class="topbar-inner">
                <Logo/>
                <nav class="nav" aria-label="Main">
                    <a href="/" class="nav-link">"Projects"</a>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let s = session.await;
                            s.filter(|s| s.is_admin).map(|_| view! { <a href="/admin" class="nav-link">"Admin"</a> })
                        })}
                    </Suspense>
                </nav>
                <div class="topbar-actions">
                    <ThemeToggle/>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            session.await.map(|s| {
                                let initial = s.name.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default();
                                view! {
                                    <a class="user-chip" href="/profile" title=s.email.clone() data-testid="user-chip">
                                        <span class="avatar" aria-hidden="true">{initial}</span>
                                        <span class="user-name">{s.name.clone()}</span>
                                    </a>
                                    <button class="btn btn-ghost btn-icon" type="button" title="Sign out" aria-label="Sign out"
                                        data-testid="sign-out" on:click=|_| sign_out()>
                                        <Icon kind=IconKind::LogOut/>
                                    </button>
                                }
                            })
                        })}
                    </Suspense>
                </div>
            </div>
        </header>
    }
}

/// A message under a form or field; nothing when empty.
#[component]
pub fn FormError(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <p class="form-error" role="alert">{move || sentence(&message.get().unwrap_or_default())}</p>
        </Show>
    }
}

#[component]
pub fn Notice(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <p class="notice" role="status">{move || message.get().unwrap_or_default()}</p>
        </Show>
    }
}

/// A modal dialog; Escape or the close button call `on_close`.
#[component]
pub fn Modal(
    #[prop(into)] title: String,
    on_close: Callback<()>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="modal-backdrop" on:click=move |_| on_close.run(())>
            <div class="modal card" role="dialog" aria-modal="true" aria-label=title.clone()
                on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev| if ev.key() == "Escape" { on_close.run(()) }>
                <div class="modal-head">
                    <h2>{title.clone()}</h2>
                    <button class="btn btn-ghost btn-icon" type="button" aria-label="Close" on:click=move |_| on_close.run(())>
                        <Icon kind=IconKind::X/>
                    </button>
                </div>
                {children()}
            </div>
        </div>
    }
}

/// Skeleton cards while a list loads.
#[component]
pub fn LoadingCards(count: usize) -> impl IntoView {
    view! {
        <div class="grid" aria-busy="true" aria-label="Loading">
            {(0..count).map(|_| view! { <div class="card skeleton-card"><div class="skeleton w60"></div><div class="skeleton w90"></div><div class="skeleton w40"></div></div> }).collect_view()}
        </div>
    }
}

/// The server's messages start in lower case (they read well inside logs);
/// on their own in a form they start with a capital.
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `2026-11-22T10:04:05Z` as `2026-11-22 10:04`.
pub fn short_time(rfc3339: &str) -> String {
    rfc3339
        .get(..16)
        .map(|s| s.replace('T', " "))
        .unwrap_or_else(|| rfc3339.to_string())
}

pub fn event_value(ev: &leptos::ev::Event) -> String {
    event_target_value(ev)
}
