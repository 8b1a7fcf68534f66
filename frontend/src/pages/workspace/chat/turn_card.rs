//! A turn's card: its roles with status, time and tokens, the audit, the
//! plan (to approve, edit or reject while it waits), and why it failed.

use super::{Chat, ThreadAction};
use crate::markdown;
use autocrea_wire::agent::{PlanAnswer, TurnStatus, TurnView};
use leptos::prelude::*;

fn ms(d: Option<i64>) -> String {
    match d {
        Some(d) if d >= 1000 => format!("{:.1} s", d as f64 / 1000.0),
        Some(d) => format!("{d} ms"),
        None => String::new(),
    }
}

/// A turn's steps (role, status, time, tokens) and, while it waits, its plan to approve or edit.
#[component]
pub(super) fn TurnCard(turn: TurnView) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let plan_edit = chat.plan_edit;
    let post = move |a: ThreadAction| chat.post(a);
    let t = turn;
    let plan = t
        .steps
        .iter()
        .find(|s| s.role == "Architect")
        .map(|s| s.output.clone())
        .unwrap_or_default();
    let (id1, id2, id3) = (t.turn.id.clone(), t.turn.id.clone(), t.turn.id.clone());
    let waiting = t.plan_waiting;
    view! {
        <div class="turn-card" data-testid="turn-card" data-status=t.turn.status.as_str()>
            <ul class="steps">
                {t.steps.iter().map(|s| view! {
                    <li class=format!("step {}", s.status)>
                        <strong>{s.role.clone()}</strong>" "<span class=format!("badge state-{}", s.status)>{s.status.as_str()}</span>
                        <span class="muted small">{format!(" {} · {} tokens", ms(s.duration_ms), s.prompt_tokens + s.completion_tokens)}</span>
                        {(s.role == "Security Auditor" && !s.output.is_empty()).then(|| view! { <details><summary>"Audit"</summary><pre class="small">{s.output.clone()}</pre></details> })}
                    </li>
                }).collect_view()}
            </ul>
            {(t.turn.mode == "full" && !plan.is_empty() && !waiting).then(|| view! { <details><summary>"Plan"</summary><div class="markdown" inner_html=markdown::to_html(&plan)></div></details> })}
            {waiting.then(|| {
                let initial = plan.clone();
                view! {
                    <div class="plan" data-testid="plan">
                        <strong>"The Architect's plan: approve it, edit it, or reject it."</strong>
                        <textarea rows="8" aria-label="Plan"
                            prop:value=move || plan_edit.with(|p| p.get(&id1).cloned()).unwrap_or_else(|| initial.clone())
                            on:input=move |ev| plan_edit.update(|p| { p.insert(id2.clone(), event_target_value(&ev)); })></textarea>
                        <div class="msg-actions">
                            <button type="button" class="btn btn-primary btn-small" on:click={
                                let id = id3.clone();
                                let fallback = plan.clone();
                                move |_| {
                                    let text = plan_edit.with_untracked(|p| p.get(&id).cloned()).unwrap_or_else(|| fallback.clone());
                                    post(ThreadAction::Plan(id.clone(), PlanAnswer { approve: true, plan: Some(text), reason: String::new() }));
                                }
                            }>"Approve and build"</button>
                            <button type="button" class="btn btn-small" on:click={
                                let id = id3.clone();
                                move |_| post(ThreadAction::Plan(id.clone(), PlanAnswer { approve: false, plan: None, reason: "rejected in the workspace".into() }))
                            }>"Reject"</button>
                        </div>
                    </div>
                }
            })}
            {t.turn.error.clone().filter(|_| t.turn.status != TurnStatus::Running).map(|e| view! { <p class="muted small">{format!("{}: {e}", t.turn.status)}</p> })}
        </div>
    }
}
