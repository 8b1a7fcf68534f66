//! Search and replace across the project's files (the current version):
//! results by file, a click selects the match in the editor, "Replace all"
//! writes every listed file as one version. Ctrl+Shift+F opens it.

use super::Ws;
use crate::api;
use crate::workspace_js as js;
use autocrea_wire::files::{FileAtBlob, ReplaceRequest, SearchMatch, SearchResult};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The search box's id, for the Ctrl+Shift+F shortcut.
pub const INPUT_ID: &str = "ws-search-input";

/// The line split around the match (the line may have been cut before it).
fn split_line(m: &SearchMatch) -> (String, String, String) {
    let chars: Vec<char> = m.text.chars().collect();
    let start = m.column.saturating_sub(1).min(chars.len());
    let end = (start + m.length).min(chars.len());
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
    let found = RwSignal::new(None::<SearchResult>);
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
        let (id, regex, case) = (ws.id(), regex.get_untracked(), case.get_untracked());
        spawn_local(async move {
            let answer = api::files::search(&id, &q, regex, case).await;
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
            .map(|f| FileAtBlob {
                path: f.path.clone(),
                sha: f.sha.clone(),
            })
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
        let body = ReplaceRequest {
            q: query.get_untracked(),
            regex: regex.get_untracked(),
            case: case.get_untracked(),
            replacement: replacement.get_untracked(),
            files,
        };
        let id = ws.id();
        busy.set(true);
        spawn_local(async move {
            match api::files::replace(&id, &body).await {
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
                                        // The editor takes 32-bit positions (a line is cut to a few hundred characters).
                                        let (line, column, length) = (m.line as u32, m.column as u32, m.length as u32);
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
    fn a_line_splits_around_its_match() {
        let m = SearchMatch {
            path: "a.txt".into(),
            line: 1,
            column: 5,
            length: 3,
            text: "  x foo bar".into(),
        };
        assert_eq!(split_line(&m), ("x ".into(), "foo".into(), " bar".into()));
        let cut = SearchMatch {
            path: "a.txt".into(),
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
