//! Pieces shared by pages: top bar, theme switch, dialogs, notices.

use crate::api;
use crate::icons::{Icon, IconKind};
use crate::session::{go_to, SessionResource};
use autocrea_wire::llm::{LocalState, LocalStatus};
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
        let _ = api::auth::logout().await;
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
                    <a href="/apps" class="nav-link" data-testid="nav-apps">"Apps"</a>
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

/// A modal dialog: it takes focus when it opens (its first field, else its
/// first control), keeps Tab and Shift+Tab inside, closes on Escape, the
/// close button or a click outside, and gives focus back to what had it
/// before (the button that opened it).
#[component]
pub fn Modal(
    #[prop(into)] title: String,
    on_close: Callback<()>,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let opener = StoredValue::new_local(
            web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.active_element())
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()),
        );
        Effect::new(move |_| {
            if let Some(el) = dialog.get() {
                let first = el
                    .query_selector("input:not([type=hidden]):not([disabled]):not(.sr-only), textarea:not([disabled]), select:not([disabled])")
                    .ok()
                    .flatten()
                    .or_else(|| focusables(&el).into_iter().next().map(Into::into));
                match first.and_then(|f| f.dyn_into::<web_sys::HtmlElement>().ok()) {
                    Some(f) => {
                        let _ = f.focus();
                    }
                    None => {
                        let _ = el.focus();
                    }
                }
            }
        });
        // Escape wherever focus is (also on the backdrop or the body).
        let escape = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.key() == "Escape" {
                ev.prevent_default();
                on_close.run(());
            }
        });
        on_cleanup(move || {
            escape.remove();
            if let Some(Some(o)) = opener.try_get_value() {
                if o.is_connected() {
                    let _ = o.focus();
                }
            }
        });
    }
    let trap = move |ev: leptos::ev::KeyboardEvent| {
        #[cfg(feature = "hydrate")]
        if ev.key() == "Tab" {
            let Some(el) = dialog.get_untracked() else {
                return;
            };
            let items = focusables(&el);
            let (Some(first), Some(last)) = (items.first(), items.last()) else {
                ev.prevent_default();
                return;
            };
            let active = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.active_element());
            let at = |x: &web_sys::HtmlElement| {
                active.as_ref().is_some_and(|a| {
                    let a: &wasm_bindgen::JsValue = a.as_ref();
                    let x: &wasm_bindgen::JsValue = x.as_ref();
                    a == x
                })
            };
            let inside = active.as_ref().is_some_and(|a| el.contains(Some(a)));
            // The dialog itself may hold focus (clicked on its text, or focused
            // as a fallback): Shift+Tab from there would leave it.
            let on_dialog = active.as_ref().is_some_and(|a| {
                let a: &wasm_bindgen::JsValue = a.as_ref();
                let d: &wasm_bindgen::JsValue = el.as_ref();
                a == d
            });
            if ev.shift_key() && (at(first) || on_dialog || !inside) {
                ev.prevent_default();
                let _ = last.focus();
            } else if !ev.shift_key() && (at(last) || !inside) {
                ev.prevent_default();
                let _ = first.focus();
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <div class="modal-backdrop" on:click=move |_| on_close.run(())>
            <div class="modal card" role="dialog" aria-modal="true" aria-label=title.clone() tabindex="-1" node_ref=dialog
                on:click=|ev| ev.stop_propagation()
                on:keydown=trap>
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

/// The controls inside `root` that Tab reaches, in order (visible ones; a
/// radio input hidden with `sr-only` still counts, as browsers focus it).
#[cfg(feature = "hydrate")]
fn focusables(root: &web_sys::HtmlDivElement) -> Vec<web_sys::HtmlElement> {
    use wasm_bindgen::JsCast;
    let Ok(list) = root.query_selector_all(
        "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])",
    ) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        .filter(|e| {
            let radio_hidden = e.get_attribute("type").as_deref() == Some("radio")
                && e.class_list().contains("sr-only");
            (radio_hidden || e.offset_parent().is_some()) && e.tab_index() >= 0
        })
        .collect()
}

/// What the local model can do, where a person picks or uses it: nothing
/// when it can serve the agent; otherwise what is wrong and the two ways
/// forward (the server's message names them). `first_run` gives it the
/// dashboard's wording.
#[component]
pub fn LocalModelBanner(status: LocalStatus, #[prop(optional)] first_run: bool) -> impl IntoView {
    let session = use_context::<SessionResource>();
    let status = Some(status).filter(|s| !s.agent_ready)?;
    let title = match status.state {
        LocalState::TestModel if first_run => {
            "Before your first app: the built-in model is a test model"
        }
        LocalState::TestModel => "The local model is a test model: it cannot build apps",
        LocalState::ContextTooSmall => "The local model's context is too small for the agent",
        LocalState::Ready | LocalState::Unavailable => "No model can run the agent yet",
    };
    let model = status.model.clone().map(|m| match status.context {
        Some(c) => format!("Local model: {m}, {c} tokens of context."),
        None => format!("Local model: {m}."),
    });
    Some(view! {
        <div class="model-banner" role="status" data-testid="local-model-banner" data-state=status.state.as_str()>
            <strong>{title}</strong>
            <p>{status.message.clone()}</p>
            {model.map(|m| view! { <p class="muted small">{m}</p> })}
            <Suspense fallback=|| ()>
                {move || session.map(|s| Suspend::new(async move {
                    s.await.filter(|s| s.is_admin).map(|_| view! {
                        <a class="btn btn-small" href="/admin?section=models" data-testid="banner-admin-models">"Open Admin → Models"</a>
                    })
                }))}
            </Suspense>
        </div>
    })
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
