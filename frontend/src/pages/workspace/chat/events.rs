//! The thread's events (server-sent): from the newest kept one on, resumed
//! by the browser after a drop, they build the live turn.

use super::Chat;
#[cfg(feature = "hydrate")]
use crate::api;
#[cfg(feature = "hydrate")]
use leptos::prelude::*;
#[cfg(feature = "hydrate")]
use leptos::task::spawn_local;

/// The running turn as its events arrive.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Live {
    pub running: bool,
    /// Finished answers of this turn, then the one being written.
    pub texts: Vec<String>,
    pub tokens: String,
    /// Pieces streamed in this turn (about one token each), for progress.
    pub streamed: usize,
    /// The tool whose call is being written, while one is.
    pub writing: Option<String>,
    /// (call id, tool, ok when ended, first line of the result)
    pub tools: Vec<(String, String, Option<bool>, String)>,
    pub steps: Vec<(String, String)>,
}

/// Follows the shown thread's events while the panel is open.
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
pub(super) fn follow(chat: Chat) {
    #[cfg(feature = "hydrate")]
    {
        let Chat {
            ws,
            thread,
            live,
            refresh,
            error,
            ending,
            ..
        } = chat;
        use wasm_bindgen::prelude::*;
        let source = StoredValue::new_local(None::<web_sys::EventSource>);
        let close = move || {
            source.update_value(|s| {
                if let Some(es) = s.take() {
                    es.close();
                }
            })
        };
        Effect::new(move |_| {
            close();
            let Some(t) = thread.get() else { return };
            let id = ws.id();
            spawn_local(async move {
                let after = api::agent::events(&id, &t)
                    .await
                    .ok()
                    .and_then(|l| l.events.last().map(|e| e.id))
                    .unwrap_or(0);
                let Ok(es) = web_sys::EventSource::new(&api::agent::events_url(&id, &t, after))
                else {
                    return;
                };
                let on = |kind: &str, f: Box<dyn Fn(serde_json::Value)>| {
                    let cb = Closure::<dyn Fn(web_sys::MessageEvent)>::new(
                        move |e: web_sys::MessageEvent| {
                            let data = e
                                .data()
                                .as_string()
                                .and_then(|s| serde_json::from_str(&s).ok())
                                .unwrap_or_default();
                            f(data);
                        },
                    );
                    let _ = es.add_event_listener_with_callback(kind, cb.as_ref().unchecked_ref());
                    cb.forget();
                };
                on(
                    "turn:start",
                    Box::new(move |_| {
                        live.set(Live {
                            running: true,
                            ..Default::default()
                        })
                    }),
                );
                on(
                    "token",
                    Box::new(move |d| {
                        live.update(|l| {
                            l.tokens.push_str(d["text"].as_str().unwrap_or(""));
                            l.streamed += 1;
                            l.writing = d["tool"].as_str().map(str::to_string);
                        })
                    }),
                );
                on(
                    "message",
                    Box::new(move |d| {
                        live.update(|l| {
                            l.tokens.clear();
                            l.texts.push(d["text"].as_str().unwrap_or("").to_string());
                        })
                    }),
                );
                on(
                    "tool:start",
                    Box::new(move |d| {
                        live.update(|l| {
                            l.tokens.clear();
                            l.tools.push((
                                d["id"].as_str().unwrap_or("").into(),
                                d["name"].as_str().unwrap_or("").into(),
                                None,
                                String::new(),
                            ));
                        })
                    }),
                );
                on(
                    "tool:end",
                    Box::new(move |d| {
                        live.update(|l| {
                            if let Some(t) = l
                                .tools
                                .iter_mut()
                                .rev()
                                .find(|t| t.0 == d["id"].as_str().unwrap_or(""))
                            {
                                t.2 = d["ok"].as_bool();
                                t.3 = d["summary"].as_str().unwrap_or("").to_string();
                            }
                        })
                    }),
                );
                on(
                    "step",
                    Box::new(move |d| {
                        let (role, status) = (
                            d["role"].as_str().unwrap_or("").to_string(),
                            d["status"].as_str().unwrap_or("").to_string(),
                        );
                        live.update(|l| match l.steps.iter_mut().find(|s| s.0 == role) {
                            Some(s) => s.1 = status,
                            None => l.steps.push((role, status)),
                        });
                        if d["status"] == "waiting" {
                            refresh.update(|r| *r += 1);
                        }
                    }),
                );
                on("plan", Box::new(move |_| refresh.update(|r| *r += 1)));
                on(
                    "preview:refresh",
                    Box::new(move |_| ws.reload_preview.update(|n| *n += 1)),
                );
                on(
                    "turn:end",
                    Box::new(move |d| {
                        if let Some(e) = d["error"].as_str() {
                            error.set(Some(format!(
                                "The turn ended {}: {e}",
                                d["status"].as_str().unwrap_or("")
                            )));
                        }
                        ending.set_value(true);
                        refresh.update(|r| *r += 1);
                        ws.changed();
                    }),
                );
                source.set_value(Some(es));
            });
        });
        on_cleanup(close);
    }
}
