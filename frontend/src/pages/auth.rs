//! Sign-in and sign-up.

use super::hydrated;
use crate::api::{self, field_of};
use crate::components::{FormError, Logo, ThemeToggle};
use crate::session::go_to;
use autocrea_wire::accounts::{LoginRequest, SignupRequest};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Where to go after signing in: only a local path (see `redirect`).
fn next_target(raw: Option<String>) -> String {
    crate::redirect::local_or_root(raw.as_deref())
}

#[component]
fn AuthFrame(children: Children) -> impl IntoView {
    view! {
        <div class="auth-page">
            <div class="auth-top"><Logo/><ThemeToggle/></div>
            <div class="card auth-card">{children()}</div>
            <p class="auth-foot muted">"Self-hosted. Your code and data stay on this machine."</p>
        </div>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let ready = hydrated();
    let query = use_query_map();

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let next = next_target(query.get_untracked().get("next"));
        let body = LoginRequest {
            email: email.get_untracked(),
            password: password.get_untracked(),
        };
        spawn_local(async move {
            match api::auth::login(&body).await {
                Ok(_) => go_to(&next),
                Err(e) => {
                    error.set(Some(e.message));
                    busy.set(false);
                }
            }
        });
    };

    view! {
        <Title text="Sign in"/>
        <AuthFrame>
            <h1>"Sign in"</h1>
            <p class="muted">"Welcome back. Sign in to build and run your apps."</p>
            <form method="post" on:submit=submit class="form" data-testid="login-form">
                <label class="field">
                    <span>"Email"</span>
                    <input type="email" name="email" autocomplete="username" required bind:value=email/>
                </label>
                <label class="field">
                    <span>"Password"</span>
                    <input type="password" name="password" autocomplete="current-password" required bind:value=password/>
                </label>
                <FormError message=error/>
                <button class="btn btn-primary btn-block" type="submit" disabled=move || !ready.get() || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
            <p class="switch">"New here? " <a href="/signup">"Create an account"</a></p>
        </AuthFrame>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let email_error = RwSignal::new(None::<String>);
    let name_error = RwSignal::new(None::<String>);
    let password_error = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let ready = hydrated();
    // Resolved on the server (no account exists yet), carried into hydration.
    let first_run = Resource::new(
        || (),
        |_| async move { crate::session::first_run_from_request() },
    );

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        for s in [email_error, name_error, password_error, error] {
            s.set(None);
        }
        if password.get_untracked().chars().count() < 8 {
            password_error.set(Some("Use at least 8 characters.".into()));
            return;
        }
        busy.set(true);
        let body = SignupRequest {
            email: email.get_untracked(),
            name: name.get_untracked(),
            password: password.get_untracked(),
        };
        spawn_local(async move {
            match api::auth::signup(&body).await {
                Ok(_) => go_to("/"),
                Err(e) => {
                    busy.set(false);
                    match (e.code.as_str(), field_of(&e.message)) {
                        ("email_taken", _) => email_error.set(Some(e.message.clone())),
                        ("weak_password", _) => password_error.set(Some(e.message.clone())),
                        (_, Some(("email", reason))) => email_error.set(Some(reason.to_string())),
                        (_, Some(("name", reason))) => name_error.set(Some(reason.to_string())),
                        _ => error.set(Some(e.message.clone())),
                    }
                }
            }
        });
    };

    view! {
        <Title text="Create account"/>
        <AuthFrame>
            <Suspense fallback=|| view! { <h1>"Create your account"</h1> }>
                {move || if first_run.get().unwrap_or(false) {
                    view! {
                        <h1>"Welcome to AUTOCREA"</h1>
                        <p class="notice" data-testid="first-run-signup">
                            "No one has an account here yet. Create the first one: it becomes the administrator of this installation."
                        </p>
                    }.into_any()
                } else {
                    view! { <h1>"Create your account"</h1> }.into_any()
                }}
            </Suspense>
            <p class="muted">"Describe an app in plain words and watch it being built."</p>
            <form method="post" on:submit=submit class="form" data-testid="signup-form">
                <label class="field">
                    <span>"Name"</span>
                    <input type="text" name="name" autocomplete="name" required maxlength="100" bind:value=name/>
                    <FormError message=name_error/>
                </label>
                <label class="field">
                    <span>"Work email"</span>
                    <input type="email" name="email" autocomplete="email" required bind:value=email/>
                    <FormError message=email_error/>
                </label>
                <label class="field">
                    <span>"Password"</span>
                    <input type="password" name="password" autocomplete="new-password" required minlength="8" maxlength="128" bind:value=password/>
                    <small class="hint">"At least 8 characters. Common passwords are refused."</small>
                    <FormError message=password_error/>
                </label>
                <FormError message=error/>
                <button class="btn btn-primary btn-block" type="submit" disabled=move || !ready.get() || busy.get()>
                    {move || if busy.get() { "Creating account…" } else { "Create account" }}
                </button>
            </form>
            <p class="switch">"Already have an account? " <a href="/login">"Sign in"</a></p>
        </AuthFrame>
    }
}
