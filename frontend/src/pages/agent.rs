//! The agent's settings of a project: which model it uses (the local model,
//! or a provider's model the admin allows and a key exists for) and whether
//! turns run the full pipeline or the Developer alone.

use super::hydrated;
use crate::api;
use crate::components::{FormError, Notice};
use autocrea_wire::agent::AgentSettings as Settings;
use autocrea_wire::llm::ProvidersView;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The models a person may pick: the local one, and every model of a
/// provider they or the admin have a key for.
fn choices(p: &ProvidersView) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if p.local {
        let name = p.local_model.clone().unwrap_or_else(|| "local".into());
        let s = &p.local_status;
        let note = if s.test_model {
            " — test model, cannot build apps"
        } else if !s.agent_ready {
            " — not ready for the agent"
        } else {
            ""
        };
        out.push((String::new(), format!("Local model ({name}){note}")));
    }
    for provider in p.providers.iter().filter(|p| p.has_key || p.shared_key) {
        for m in &provider.models {
            let id = format!("{}/{m}", provider.id);
            out.push((id.clone(), id));
        }
    }
    out
}

#[component]
pub fn AgentSettings(project_id: String) -> impl IntoView {
    let ready = hydrated();
    let id = StoredValue::new(project_id);
    let providers = LocalResource::new(api::llm::providers);
    let current = LocalResource::new(move || {
        let project = id.get_value();
        async move { api::agent::settings(&project).await }
    });
    let model = RwSignal::new(String::new());
    let mode = RwSignal::new("quick".to_string());
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(s)) = current.get() {
            model.set(s.model.unwrap_or_default());
            mode.set(s.mode.unwrap_or_else(|| "quick".into()));
        }
    });
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        saved.set(None);
        let m = model.get_untracked();
        let body = Settings {
            model: if m.is_empty() { None } else { Some(m) },
            mode: Some(mode.get_untracked()),
        };
        spawn_local(async move {
            match api::agent::set_settings(&id.get_value(), &body).await {
                Ok(s) => saved.set(Some(format!(
                    "Saved: {} in {} mode.",
                    s.model.unwrap_or_else(|| "the local model".into()),
                    s.mode.unwrap_or_else(|| "quick".into())
                ))),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    view! {
        <section class="card section" data-testid="agent-settings">
            <h2>"Agent"</h2>
            <p class="muted">"The model the agent uses for this project, and how it works: quick (the Developer alone) or the full pipeline (an Architect's plan you approve, then Developer, DevOps, Tester and Security Auditor)."</p>
            <form class="form" on:submit=save>
                <label class="field">
                    <span>"Model"</span>
                    <Suspense fallback=|| view! { <select disabled=true><option>"Loading…"</option></select> }>
                        {move || providers.get().map(|r| match r {
                            Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                            Ok(p) => view! {
                                <select name="agent-model" on:change=move |ev| model.set(event_target_value(&ev))>
                                    {choices(&p).into_iter().map(|(value, label)| {
                                        let sel = value.clone();
                                        view! { <option value=value prop:selected=move || model.get() == sel>{label}</option> }
                                    }).collect_view()}
                                </select>
                                // Said where the model is picked: the local one cannot serve the agent.
                                {move || model.get().is_empty().then(|| view! {
                                    <crate::components::LocalModelBanner status=p.local_status.clone()/>
                                })}
                            }.into_any(),
                        })}
                    </Suspense>
                </label>
                <label class="field">
                    <span>"Mode"</span>
                    <select name="agent-mode" on:change=move |ev| mode.set(event_target_value(&ev))>
                        <option value="quick" prop:selected=move || mode.get() == "quick">"Quick: the Developer alone"</option>
                        <option value="full" prop:selected=move || mode.get() == "full">"Full pipeline: plan, build, configure, test, audit"</option>
                    </select>
                </label>
                <FormError message=error/>
                <Notice message=saved/>
                <div class="form-actions"><button class="btn btn-primary" type="submit" disabled=move || !ready.get()>"Save agent settings"</button></div>
            </form>
        </section>
    }
}
