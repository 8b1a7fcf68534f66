//! The document shell, the router and the page frame.

use crate::components::TopBar;
use crate::pages::{
    admin::AdminPage,
    apps::AppsPage,
    auth::{LoginPage, SignupPage},
    dashboard::DashboardPage,
    deployments::DeploymentsPage,
    profile::ProfilePage,
    project::{ProjectPage, ProjectSettingsPage},
    versions::VersionsPage,
    workspace::{provide_skip_to_chat, SkipToChat, WorkspacePage},
};
#[cfg(feature = "hydrate")]
use crate::session::first_turn_error_key;
use crate::session::{session_from_request, SessionResource};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// Sets the theme before first paint, so a dark-mode user never sees a white flash.
const THEME_SCRIPT: &str = "(function(){try{var t=localStorage.getItem('autocrea-theme');\
if(t!=='light'&&t!=='dark'){t=matchMedia('(prefers-color-scheme: dark)').matches?'dark':'light'}\
document.documentElement.dataset.theme=t}catch(e){}})()";

pub fn shell(options: LeptosOptions) -> impl IntoView {
    let nonce = use_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" href="/assets/main.css"/>
                <script nonce=nonce>{THEME_SCRIPT}</script>
                <script src="/assets/workspace.js" defer></script>
                <HydrationScripts options/>
                <leptos_meta::MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let initial = session_from_request();
    // Resolved on the server, serialised into the page, reused by hydration.
    let session: SessionResource = Resource::new(
        || (),
        move |_| {
            let s = initial.clone();
            async move { s }
        },
    );
    provide_context(session);

    view! {
        <Title formatter=|t: String| if t.is_empty() { "AUTOCREA".to_string() } else { format!("{t} · AUTOCREA") }/>
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/signup") view=SignupPage/>
                <Route path=path!("/") view=|| view! { <Framed><DashboardPage/></Framed> }/>
                <Route path=path!("/projects/:id") view=|| view! { <Framed><ProjectPage/></Framed> }/>
                <Route path=path!("/projects/:id/versions") view=|| view! { <Framed><VersionsPage/></Framed> }/>
                <Route path=path!("/projects/:id/deployments") view=|| view! { <Framed><DeploymentsPage/></Framed> }/>
                <Route path=path!("/apps") view=|| view! { <Framed><AppsPage/></Framed> }/>
                <Route path=path!("/projects/:id/workspace") view=|| { provide_skip_to_chat(); view! { <div class="app app-wide"><SkipToChat/><TopBar/><FirstTurnError/><main class="content-wide" id="main"><WorkspacePage/></main></div> } }/>
                <Route path=path!("/projects/:id/settings") view=|| view! { <Framed><ProjectSettingsPage/></Framed> }/>
                <Route path=path!("/profile") view=|| view! { <Framed><ProfilePage/></Framed> }/>
                <Route path=path!("/admin") view=|| view! { <Framed><AdminPage/></Framed> }/>
            </Routes>
        </Router>
    }
}

/// Why a new project's first turn did not start (kept by the dashboard when
/// `POST /api/v1/projects` answered with a `turn_error`), once, above its
/// workspace.
#[component]
fn FirstTurnError() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    let message = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let id = params.get().get("id").unwrap_or_default();
        #[cfg(feature = "hydrate")]
        if let Some(storage) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) {
            let key = first_turn_error_key(&id);
            if let Ok(Some(m)) = storage.get_item(&key) {
                let _ = storage.remove_item(&key);
                message.set(Some(m).filter(|m| !m.trim().is_empty()));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = id;
    });
    view! {
        {move || message.get().map(|m| view! {
            <div class="first-turn-error" role="alert" data-testid="first-turn-error">
                <p><strong>"The project was created, but its first turn did not start: "</strong>{crate::components::sentence(&m)}</p>
                <button class="btn btn-ghost btn-small" type="button" on:click=move |_| message.set(None)>"Dismiss"</button>
            </div>
        })}
    }
}

/// The frame of every signed-in page: top bar and a centred content column.
#[component]
fn Framed(children: Children) -> impl IntoView {
    view! {
        <div class="app">
            <TopBar/>
            <main class="content" id="main">{children()}</main>
        </div>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <Title text="Not found"/>
        <div class="auth-page">
            <div class="card auth-card center">
                <h1>"Page not found"</h1>
                <p class="muted">"There is nothing at this address."</p>
                <a class="btn btn-primary" href="/">"Back to your projects"</a>
            </div>
        </div>
    }
}
