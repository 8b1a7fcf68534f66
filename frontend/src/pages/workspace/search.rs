//! Search and replace across the project's files (the current version):
//! results by file, a click selects the match in the editor, "Replace all"
//! writes every listed file as one version. Ctrl+Shift+F opens it.

use super::Ws;
use crate::api;
use crate::pages::encode;
use crate::workspace_js as js;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use serde_json::json;

/// The search box's id, for the Ctrl+Shift+F shortcut.
pub const INPUT_ID: &str = "ws-search-input";

#[derive(Clone, Debug, Deserialize, PartialEq)]
struct Match {
    line: u32,
    column: u32,
    length: u32,
    text: String,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
struct FileMatches {
    path: String,
    sha: String,
    matches: Vec<Match>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
struct Found {
    files: Vec<FileMatches>,
    total: usize,
    truncated: bool,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
struct Replaced {
    files: Vec<serde_json::Value>,
    replacements: usize,
}

fn query_string(q: &str, regex: bool, case: bool) -> String {
    format!("q={}&regex={regex}&case={case}", encode(q))
}

/// The line split around the match (the line may have been cut before it).
fn split_line(m: &Match) -> (String, String, String) {
    let chars: Vec<char> = m.text.chars().collect();
    let start = (m.column as usize).saturating_sub(1).min(chars.len());
    let end = (start + m.length as usize).min(chars.len());
    let part = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    (
        part(0, start).trim_start().to_string(),
        part(start, end),
        part(end, chars.len()),
    )
}

#[component]
pub fn SearchPanel() -> impl IntoView {
    let ws = expect_context::<Ws>();
    let query = RwSignal::new(String::new());
    let replacement = RwSignal::new(String::new());
    let regex = RwSignal::new(false);
    let case = RwSignal::new(false);
    let found = RwSignal::new(None::<Found>);
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // Each change of the search starts a generation; only the newest answer is shown.
    let generation = StoredValue::new(0u32);

    let run = move || {
        let q = query.get_untracked();
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        if q.is_empty() {
            found.set(None);
            error.set(None);
            return;
        }
        let url = format!(
            "/api/v1/projects/{}/search?{}",
            ws.id(),
            query_string(&q, regex.get_untracked(), case.get_untracked())
        );
        spawn_local(async move {
            let answer = api::get::<Found>(&url).await;
            if generation.get_value() != mine {
                return;
            }
            match answer {
                Ok(f) => {
                    error.set(None);
                    found.set(Some(f));
                }
                Err(e) => {
                    found.set(None);
                    error.set(Some(e.message));
                }
            }
        });
    };
    // Typing searches after a short pause.
    let schedule = move || {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        set_timeout(
            move || {
                if generation.get_value() == mine {
                    run();
                }
            },
            std::time::Duration::from_millis(250),
        );
    };
    // The files changed (a save, a turn, a revert): the list follows.
    Effect::new(move |prev: Option<u32>| {
        let n = ws.changes.get();
        if prev.is_some() && !query.get_untracked().is_empty() {
            run();
        }
        n
    });

    let replace_all = move |_| {
        let Some(f) = found.get_untracked() else {
            return;
        };
        let files: Vec<_> = f
            .files
            .iter()
            .map(|f| json!({"path": f.path, "sha": f.sha}))
            .collect();
        #[cfg(feature = "hydrate")]
        {
            let more = if f.truncated {
                " The search stopped early: files it did not list stay as they are."
            } else {
                ""
            };
            let ask = format!(
                "Replace the matches in {} file(s) ({} listed)? This saves a new version.{more}",
                files.len(),
                f.total
            );
            if !web_sys::window()
                .and_then(|w| w.confirm_with_message(&ask).ok())
                .unwrap_or(false)
            {
                return;
            }
        }
        let body = json!({"q": query.get_untracked(), "regex": regex.get_untracked(), "case": case.get_untracked(),
            "replacement": replacement.get_untracked(), "files": files});
        let url = format!("/api/v1/projects/{}/replace", ws.id());
        busy.set(true);
        spawn_local(async move {
            match api::send::<Replaced>("POST", &url, Some(body)).await {
                Ok(r) => {
                    status.set(Some(format!(
                        "Replaced {} match(es) in {} file(s) as a new version.",
                        r.replacements,
                        r.files.len()
                    )));
                    ws.changed();
                }
                Err(e) => error.set(Some(e.message)),
            }
            busy.set(false);
        });
    };

    let toggle = move |label: &'static str, title: &'static str, signal: RwSignal<bool>| {
        view! {
            <button type="button" class="btn btn-ghost btn-small ws-search-toggle" title=title aria-label=title
                aria-pressed=move || signal.get().to_string()
                on:click=move |_| { signal.update(|v| *v = !*v); run(); }>{label}</button>
        }
    };
    view! {
        <div class="ws-search" data-testid="search-panel">
            <div class="ws-search-row">
                <input id=INPUT_ID type="search" placeholder="Search in files" aria-label="Search in files" autocomplete="off"
                    prop:value=move || query.get()
                    on:input=move |ev| { query.set(event_target_value(&ev)); schedule(); }
                    on:keydown=move |ev| if ev.key() == "Enter" { run(); }/>
                {toggle("Aa", "Match case", case)}
                {toggle(".*", "Regular expression", regex)}
            </div>
            <div class="ws-search-row">
                <input type="text" placeholder="Replace with" aria-label="Replace with" autocomplete="off"
                    prop:value=move || replacement.get() on:input=move |ev| replacement.set(event_target_value(&ev))/>
                <button type="button" class="btn btn-small" data-testid="replace-all" on:click=replace_all
                    disabled=move || busy.get() || found.with(|f| f.as_ref().map(|f| f.total == 0).unwrap_or(true))>"Replace all"</button>
            </div>
            {move || error.get().map(|e| view! { <p class="form-error small" role="alert">{e}</p> })}
            {move || status.get().map(|s| view! { <p class="small muted" role="status">{s}</p> })}
            {move || found.get().map(|f| view! {
                <p class="small muted" data-testid="search-summary">
                    {format!("{} result(s) in {} file(s)", f.total, f.files.len())}
                    {f.truncated.then_some(" (the first ones; narrow the search)")}
                </p>
                <ul class="ws-search-results">
                    {f.files.into_iter().map(|file| {
                        let path = file.path.clone();
                        view! {
                            <li>
                                <div class="ws-search-file" title=path.clone()>{path.clone()}<span class="muted">{format!(" {}", file.matches.len())}</span></div>
                                <ul>
                                    {file.matches.into_iter().map(|m| {
                                        let (before, hit, after) = split_line(&m);
                                        let path = path.clone();
                                        let (line, column, length) = (m.line, m.column, m.length);
                                        view! {
                                            <li><button type="button" class="ws-search-hit" data-testid="search-hit"
                                                on:click=move |_| { js::reveal_at(&path, line, column, length); ws.open_file.set(Some(path.clone())); }>
                                                <span class="muted">{format!("{line}: ")}</span>{before}<mark>{hit}</mark>{after}
                                            </button></li>
                                        }
                                    }).collect_view()}
                                </ul>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            query_string("a b&c=é", true, false),
            "q=a%20b%26c%3D%C3%A9&regex=true&case=false"
        );
    }

    #[test]
    fn a_line_splits_around_its_match() {
        let m = Match {
            line: 1,
            column: 5,
            length: 3,
            text: "  x foo bar".into(),
        };
        assert_eq!(split_line(&m), ("x ".into(), "foo".into(), " bar".into()));
        let cut = Match {
            line: 1,
            column: 400,
            length: 3,
            text: "short".into(),
        };
        assert_eq!(
            split_line(&cut),
            ("short".into(), String::new(), String::new())
        );
    }
}
