//! The profile: name, password, personal API tokens.

use super::hydrated;
use crate::api::{self, field_of};
use crate::components::{short_time, FormError, Notice};
use crate::icons::{Icon, IconKind};
use autocrea_wire::accounts::{ChangePassword, CreateToken, CreatedToken, UpdateMe, UserView};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let me = LocalResource::new(api::me::get);
    view! {
        <Title text="Profile"/>
        <div class="page-head"><div><h1>"Profile"</h1><p class="muted">"Your account, password, API tokens and model provider keys."</p></div></div>
        <Suspense fallback=|| view! { <div class="skeleton w60 tall"></div> }>
            {move || me.get().map(|r| match r {
                Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                Ok(user) => view! { <NameForm user=user/> }.into_any(),
            })}
        </Suspense>
        <PasswordForm/>
        <Tokens/>
        <super::models::ProviderKeys/>
    }
}

#[component]
fn NameForm(user: UserView) -> impl IntoView {
    let ready = hydrated();
    let name = RwSignal::new(user.name.clone());
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(None::<String>);
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        saved.set(None);
        let body = UpdateMe {
            name: Some(name.get_untracked()),
        };
        spawn_local(async move {
            match api::me::update(&body).await {
                Ok(u) => {
                    name.set(u.name);
                    saved.set(Some("Saved.".into()));
                }
                Err(e) => error.set(Some(
                    field_of(&e.message)
                        .map(|(_, r)| r.to_string())
                        .unwrap_or(e.message),
                )),
            }
        });
    };
    view! {
        <section class="card section">
            <h2>"Account"</h2>
            <dl class="details-inline">
                <dt>"Email"</dt><dd>{user.email.clone()}</dd>
                <dt>"Username"</dt><dd><code>{user.username.clone()}</code></dd>
                <dt>"Role"</dt><dd>{if user.is_admin { "Administrator" } else { "Member" }}</dd>
            </dl>
            <form class="form" on:submit=save data-testid="name-form">
                <label class="field">
                    <span>"Display name"</span>
                    <input type="text" name="name" required maxlength="100" bind:value=name/>
                </label>
                <FormError message=error/>
                <Notice message=saved/>
                <div class="form-actions"><button class="btn btn-primary" type="submit" disabled=move || !ready.get()>"Save"</button></div>
            </form>
        </section>
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let ready = hydrated();
    let current = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        saved.set(None);
        if new_password.get_untracked() != repeat.get_untracked() {
            error.set(Some("The two new passwords differ.".into()));
            return;
        }
        busy.set(true);
        let body = ChangePassword {
            current_password: current.get_untracked(),
            new_password: new_password.get_untracked(),
        };
        spawn_local(async move {
            match api::me::change_password(&body).await {
                Ok(_) => {
                    for s in [current, new_password, repeat] {
                        s.set(String::new());
                    }
                    saved.set(Some(
                        "Password changed. You were signed out everywhere else.".into(),
                    ));
                }
                Err(e) => error.set(Some(e.message)),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card section">
            <h2>"Password"</h2>
            <form class="form" on:submit=save data-testid="password-form">
                <label class="field"><span>"Current password"</span>
                    <input type="password" autocomplete="current-password" required bind:value=current/></label>
                <label class="field"><span>"New password"</span>
                    <input type="password" autocomplete="new-password" required minlength="8" maxlength="128" bind:value=new_password/></label>
                <label class="field"><span>"Repeat new password"</span>
                    <input type="password" autocomplete="new-password" required bind:value=repeat/></label>
                <FormError message=error/>
                <Notice message=saved/>
                <div class="form-actions"><button class="btn btn-primary" type="submit" disabled=move || !ready.get() || busy.get()>"Change password"</button></div>
            </form>
        </section>
    }
}

#[component]
fn Tokens() -> impl IntoView {
    let ready = hydrated();
    let version = RwSignal::new(0u32);
    let tokens = LocalResource::new(move || {
        version.get();
        api::me::tokens()
    });
    let name = RwSignal::new(String::new());
    let created = RwSignal::new(None::<CreatedToken>);
    let error = RwSignal::new(None::<String>);

    let create = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let body = CreateToken {
            name: name.get_untracked(),
            scopes: Vec::new(),
        };
        spawn_local(async move {
            match api::me::create_token(&body).await {
                Ok(t) => {
                    created.set(Some(t));
                    name.set(String::new());
                    version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(
                    field_of(&e.message)
                        .map(|(_, r)| r.to_string())
                        .unwrap_or(e.message),
                )),
            }
        });
    };
    let revoke = move |id: i64| {
        spawn_local(async move {
            match api::me::revoke_token(id).await {
                Ok(_) => version.update(|v| *v += 1),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };

    view! {
        <section class="card section">
            <h2><Icon kind=IconKind::Key/> " API tokens"</h2>
            <p class="muted">"Tokens let scripts, git and editors act as you: send " <code>"Authorization: Bearer <token>"</code> "."</p>
            <form class="form inline" on:submit=create data-testid="token-form">
                <input type="text" name="token-name" placeholder="Token name, e.g. laptop CLI" aria-label="Token name" required maxlength="100" bind:value=name/>
                <button class="btn btn-primary" type="submit" disabled=move || !ready.get()><Icon kind=IconKind::Plus/> "Create token"</button>
            </form>
            <FormError message=error/>
            {move || created.get().map(|t| {
                let secret = t.token.clone();
                view! {
                    <div class="token-once" role="status" data-testid="new-token">
                        <p><strong>"Copy your new token now."</strong> " It will not be shown again."</p>
                        <div class="token-row">
                            <code class="token-value" data-testid="new-token-value">{t.token.clone()}</code>
                            <button class="btn btn-icon" type="button" title="Copy" aria-label="Copy token" on:click=move |_| copy_text(&secret)>
                                <Icon kind=IconKind::Copy/>
                            </button>
                        </div>
                    </div>
                }
            })}
            <Suspense fallback=|| view! { <p class="muted">"Loading tokens…"</p> }>
                {move || tokens.get().map(|r| match r {
                    Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    Ok(list) if list.tokens.is_empty() => view! { <p class="muted" data-testid="no-tokens">"No tokens yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="table" data-testid="token-list">
                            <thead><tr><th>"Name"</th><th>"Token"</th><th>"Created"</th><th>"Last used"</th><th></th></tr></thead>
                            <tbody>
                                {list.tokens.into_iter().map(|t| {
                                    let id = t.id;
                                    view! {
                                        <tr>
                                            <td>{t.name.clone()}</td>
                                            <td><code>{t.prefix.clone()} "…"</code></td>
                                            <td>{short_time(&t.created_at)}</td>
                                            <td>{t.last_used_at.as_deref().map(short_time).unwrap_or_else(|| "never".into())}</td>
                                            <td class="right"><button class="btn btn-ghost btn-danger-text" type="button" on:click=move |_| revoke(id)>"Revoke"</button></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

fn copy_text(text: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}
