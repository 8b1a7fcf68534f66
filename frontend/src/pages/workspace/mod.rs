//! The workspace: chat | editor | preview on one screen, with a side bar for
//! the file tree and the version timeline, and a terminal under the editor.
//! Panels are resizable (drag the bars; widths kept in localStorage) and
//! collapsible. Changes anywhere (a turn's end, a save, a revert) bump one
//! `Changes` counter that refreshes the tree, the timeline, open files and
//! the preview.

mod attach;
mod chat;
mod editor;
mod preview;
mod publish;
mod search;

use crate::api;
use crate::icons::{Icon, IconKind};
use autocrea_wire::projects::ProjectView;
use autocrea_wire::versions::{PreviewVersion, Version};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// Shared by the panels.
#[derive(Clone, Copy)]
pub struct Ws {
    pub project_id: StoredValue<String>,
    /// Bumped after anything changed the project's files.
    pub changes: RwSignal<u32>,
    /// Bumped to reload the preview (the agent wrote a file).
    pub reload_preview: RwSignal<u32>,
    /// A message for the chat to send ("fix this", "send to chat").
    pub ask: RwSignal<Option<String>>,
    /// A file to show in the editor.
    pub open_file: RwSignal<Option<String>>,
    /// A diff to show in the editor: (path, from version, to version).
    pub diff: RwSignal<Option<(String, String, String)>>,
    /// The earlier version the preview shows instead of the latest.
    pub previewing: RwSignal<Option<Version>>,
    /// A message for the person (a refused action), shown in the preview bar.
    pub notice: RwSignal<Option<String>>,
}

impl Ws {
    pub fn id(&self) -> String {
        self.project_id.get_value()
    }

    /// Shows version `sha` in the preview (None: the latest again).
    pub fn preview_version(&self, sha: Option<String>) {
        let ws = *self;
        leptos::task::spawn_local(async move {
            let id = ws.id();
            let answer = match sha {
                Some(sha) => api::versions::preview(&id, &PreviewVersion { sha }).await,
                None => api::versions::preview_latest(&id).await,
            };
            match answer {
                Ok(p) => {
                    ws.previewing.set(p.version);
                    ws.reload_preview.update(|c| *c += 1);
                }
                Err(e) => ws.notice.set(Some(e.message)),
            }
        });
    }

    pub fn changed(&self) {
        // Any change ends a previewed version on the server (it puts the
        // latest back before writing).
        self.previewing.set(None);
        self.changes.update(|c| *c += 1);
        self.reload_preview.update(|c| *c += 1);
    }
}

#[component]
pub fn WorkspacePage() -> impl IntoView {
    let params = use_params_map();
    let project = LocalResource::new(move || {
        let id = params.with(|p| p.get("id").unwrap_or_default());
        async move { api::projects::get(&id).await }
    });
    view! {
        // A Transition, not a Suspense: the panels' later reloads must never
        // take the workspace (and its editor and preview frame) off the page.
        <Transition fallback=|| view! { <div class="ws-loading muted">"Opening the workspace…"</div> }>
            {move || project.get().map(|r| match r {
                Err(e) => view! { <div class="empty"><h2>"Project not available"</h2><p class="muted">{e.message}</p><a class="btn" href="/">"Back to projects"</a></div> }.into_any(),
                Ok(p) => view! { <Workspace project=p/> }.into_any(),
            })}
        </Transition>
    }
}

/// Column widths in pixels (side, chat, preview; the editor takes the rest).
#[derive(Clone, Copy, PartialEq)]
struct Widths {
    side: f64,
    chat: f64,
    preview: f64,
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))] // used in the browser only
const WIDTHS_KEY: &str = "autocrea-workspace-widths";

fn stored_widths() -> Widths {
    let fallback = Widths {
        side: 190.0,
        chat: 330.0,
        preview: 420.0,
    };
    #[cfg(feature = "hydrate")]
    {
        let stored = web_sys::window()
            .and_then(|w| w.local_storage().ok().flatten())
            .and_then(|s| s.get_item(WIDTHS_KEY).ok().flatten());
        if let Some(v) = stored {
            let n: Vec<f64> = v.split(',').filter_map(|x| x.parse().ok()).collect();
            if n.len() == 3 {
                return Widths {
                    side: n[0],
                    chat: n[1],
                    preview: n[2],
                };
            }
        }
    }
    fallback
}

fn store_widths(w: Widths) {
    #[cfg(feature = "hydrate")]
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(WIDTHS_KEY, &format!("{},{},{}", w.side, w.chat, w.preview));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = w;
}

#[component]
fn Workspace(project: ProjectView) -> impl IntoView {
    let ws = Ws {
        project_id: StoredValue::new(project.id.clone()),
        changes: RwSignal::new(0),
        reload_preview: RwSignal::new(0),
        ask: RwSignal::new(None),
        open_file: RwSignal::new(None),
        diff: RwSignal::new(None),
        previewing: RwSignal::new(None),
        notice: RwSignal::new(None),
    };
    provide_context(ws);
    // A version previewed before this page opened (another tab, a reload).
    leptos::task::spawn_local(async move {
        if let Ok(p) = api::versions::previewing(&ws.id()).await {
            ws.previewing.set(p.version);
        }
    });
    let widths = RwSignal::new(Widths {
        side: 190.0,
        chat: 330.0,
        preview: 420.0,
    });
    Effect::new(move |_| widths.set(stored_widths()));
    let show_side = RwSignal::new(true);
    let show_chat = RwSignal::new(true);
    let show_editor = RwSignal::new(true);
    let show_preview = RwSignal::new(true);
    // Dragging a bar: which column, where the drag started, and its width then.
    let drag = RwSignal::new(None::<(&'static str, f64, f64)>);
    // Phones show one panel at a time (CSS picks it from `data-tab`; the
    // toggles above are for wide screens).
    let phone_tab = RwSignal::new(Panel::Chat);
    // "Skip to chat" (before the top bar) asks for the chat: show it (the
    // chat tab on phones) and focus its message box.
    if let Some(SkipToChatAsked(asked)) = use_context::<SkipToChatAsked>() {
        Effect::new(move |_| {
            if asked.get() > 0 {
                show_chat.set(true);
                phone_tab.set(Panel::Chat);
                focus_chat_input();
            }
        });
    }
    let shown = move || Shown {
        side: show_side.get(),
        chat: show_chat.get(),
        editor: show_editor.get(),
        preview: show_preview.get(),
    };
    let columns = move || format!("grid-template-columns: {}", shown().columns(widths.get()));
    let start_drag = move |which: &'static str, ev: leptos::ev::PointerEvent| {
        let w = widths.get_untracked();
        let width = match which {
            "side" => w.side,
            "chat" => w.chat,
            _ => w.preview,
        };
        drag.set(Some((which, ev.client_x() as f64, width)));
    };
    let on_move = move |ev: leptos::ev::PointerEvent| {
        let Some((which, x0, w0)) = drag.get_untracked() else {
            return;
        };
        let dx = ev.client_x() as f64 - x0;
        widths.update(|w| match which {
            "side" => w.side = (w0 + dx).clamp(140.0, 480.0),
            "chat" => w.chat = (w0 + dx).clamp(260.0, 900.0),
            _ => w.preview = (w0 - dx).clamp(260.0, 1400.0),
        });
    };
    // The bars take the keyboard too: arrows move them 24 px (Shift: 96).
    let nudge = move |which: &'static str, ev: leptos::ev::KeyboardEvent| {
        let step = if ev.shift_key() { 96.0 } else { 24.0 };
        let dx = match ev.key().as_str() {
            "ArrowLeft" => -step,
            "ArrowRight" => step,
            _ => return,
        };
        ev.prevent_default();
        widths.update(|w| match which {
            "side" => w.side = (w.side + dx).clamp(140.0, 480.0),
            "chat" => w.chat = (w.chat + dx).clamp(260.0, 900.0),
            _ => w.preview = (w.preview - dx).clamp(260.0, 1400.0),
        });
        store_widths(widths.get_untracked());
    };
    let end_drag = move |_| {
        if drag.get_untracked().is_some() {
            drag.set(None);
            store_widths(widths.get_untracked());
        }
    };
    // Ctrl+Shift+F: the search, with its box focused.
    let side_search = RwSignal::new(false);
    let shortcut = window_event_listener(leptos::ev::keydown, move |ev| {
        if (ev.ctrl_key() || ev.meta_key()) && ev.shift_key() && ev.key().eq_ignore_ascii_case("f")
        {
            ev.prevent_default();
            show_side.set(true);
            side_search.set(true);
            // After the panel is shown (the DOM updates on the next tick).
            #[cfg(feature = "hydrate")]
            request_animation_frame(|| {
                if let Some(input) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.get_element_by_id(search::INPUT_ID))
                {
                    use wasm_bindgen::JsCast;
                    if let Ok(input) = input.dyn_into::<web_sys::HtmlElement>() {
                        let _ = input.focus();
                    }
                }
            });
        }
    });
    on_cleanup(move || shortcut.remove());
    // Unsaved edits: the browser asks before leaving the page.
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::prelude::*;
        let guard =
            Closure::<dyn Fn(web_sys::BeforeUnloadEvent)>::new(|ev: web_sys::BeforeUnloadEvent| {
                if crate::workspace_js::any_dirty() {
                    ev.prevent_default();
                    ev.set_return_value("You have unsaved changes.");
                }
            });
        if let Some(w) = web_sys::window() {
            let _ =
                w.add_event_listener_with_callback("beforeunload", guard.as_ref().unchecked_ref());
        }
        let guard = StoredValue::new_local(guard);
        on_cleanup(move || {
            if let Some(w) = web_sys::window() {
                guard.with_value(|g| {
                    let _ = w.remove_event_listener_with_callback(
                        "beforeunload",
                        g.as_ref().unchecked_ref(),
                    );
                });
            }
        });
    }
    // The last panel shown stays: an empty workspace helps no one.
    let toggle = move |label: &'static str, signal: RwSignal<bool>| {
        view! {
            <button type="button" class="btn btn-ghost ws-toggle" aria-pressed=move || signal.get().to_string()
                disabled=move || signal.get() && shown().count() == 1
                on:click=move |_| signal.update(|s| *s = !*s)>{label}</button>
        }
    };
    let phone_tab_button = move |panel: Panel| {
        view! {
            <button type="button" role="tab" class="btn btn-ghost btn-small" aria-selected=move || (phone_tab.get() == panel).to_string()
                aria-controls=panel.id() on:click=move |_| phone_tab.set(panel)>{panel.label()}</button>
        }
    };
    view! {
        <Title text=format!("{} · workspace", project.name)/>
        <div class="ws-bar">
            <a class="back" href=format!("/projects/{}", project.id)><Icon kind=IconKind::ArrowLeft size=16/> {project.name.clone()}</a>
            <span class="badge">{project.template.clone()}</span>
            <div class="ws-toggles" role="group" aria-label="Panels">
                {toggle("Files", show_side)} {toggle("Chat", show_chat)} {toggle("Editor", show_editor)} {toggle("Preview", show_preview)}
            </div>
            <publish::PublishButton/>
        </div>
        <div class="ws-phone-tabs" role="tablist" aria-label="Panel">
            {phone_tab_button(Panel::Chat)}{phone_tab_button(Panel::Editor)}{phone_tab_button(Panel::Preview)}{phone_tab_button(Panel::Side)}
        </div>
        <div class="workspace" style=columns data-testid="workspace" data-tab=move || phone_tab.get().key()
            on:pointermove=on_move on:pointerup=end_drag on:pointerleave=end_drag class:dragging=move || drag.get().is_some()>
            <aside class="ws-side" id=Panel::Side.id() class:hidden=move || !show_side.get() aria-label="Files and versions">
                <div class="ws-side-tabs" role="tablist" aria-label="Side bar">
                    <button type="button" role="tab" class="btn btn-ghost btn-small" aria-selected=move || (!side_search.get()).to_string()
                        on:click=move |_| side_search.set(false)>"Files"</button>
                    <button type="button" role="tab" class="btn btn-ghost btn-small" aria-selected=move || side_search.get().to_string()
                        title="Search in files (Ctrl+Shift+F)" on:click=move |_| side_search.set(true)>"Search"</button>
                </div>
                // Both stay mounted (a search keeps its results while the tree is shown).
                <div class="ws-side-pane" class:hidden=move || side_search.get()><editor::FileTree/></div>
                <div class="ws-side-pane" class:hidden=move || !side_search.get()><search::SearchPanel/></div>
                <editor::Timeline/>
            </aside>
            <div class="ws-resizer" role="separator" aria-orientation="vertical" aria-label="Resize the file list" tabindex="0"
                aria-valuenow=move || widths.get().side.round() class:hidden=move || !shown().resizer(Panel::Side)
                on:pointerdown=move |ev| start_drag("side", ev) on:keydown=move |ev| nudge("side", ev)></div>
            <section class="ws-chat" id=Panel::Chat.id() class:hidden=move || !show_chat.get() aria-label="Chat">
                <chat::ChatPanel/>
            </section>
            <div class="ws-resizer" role="separator" aria-orientation="vertical" aria-label="Resize the chat" tabindex="0"
                aria-valuenow=move || widths.get().chat.round() class:hidden=move || !shown().resizer(Panel::Chat)
                on:pointerdown=move |ev| start_drag("chat", ev) on:keydown=move |ev| nudge("chat", ev)></div>
            <section class="ws-editor" id=Panel::Editor.id() class:hidden=move || !show_editor.get() aria-label="Editor">
                <editor::EditorPanel/>
            </section>
            <div class="ws-resizer" role="separator" aria-orientation="vertical" aria-label="Resize the preview" tabindex="0"
                aria-valuenow=move || widths.get().preview.round() class:hidden=move || !shown().resizer(Panel::Preview)
                on:pointerdown=move |ev| start_drag("preview", ev) on:keydown=move |ev| nudge("preview", ev)></div>
            <section class="ws-preview" id=Panel::Preview.id() class:hidden=move || !show_preview.get() aria-label="Preview">
                <preview::PreviewPanel/>
            </section>
        </div>
    }
}

/// The workspace's panels, left to right.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Panel {
    Side,
    Chat,
    Editor,
    Preview,
}

impl Panel {
    fn key(self) -> &'static str {
        match self {
            Panel::Side => "side",
            Panel::Chat => "chat",
            Panel::Editor => "editor",
            Panel::Preview => "preview",
        }
    }

    fn id(self) -> &'static str {
        match self {
            Panel::Side => "ws-panel-side",
            Panel::Chat => "ws-panel-chat",
            Panel::Editor => "ws-panel-editor",
            Panel::Preview => "ws-panel-preview",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Panel::Side => "Files",
            Panel::Chat => "Chat",
            Panel::Editor => "Editor",
            Panel::Preview => "Preview",
        }
    }
}

/// Which panels the toggles show. Hidden panels (and their bars) leave the
/// grid (`display: none`), so the columns list only what is shown, in order:
/// one panel fills the rest (the editor, else the preview, else the chat,
/// else the files), the others keep their widths, and a bar sits between
/// each fixed-width panel and its neighbour towards the filling one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Shown {
    side: bool,
    chat: bool,
    editor: bool,
    preview: bool,
}

impl Shown {
    fn is(self, p: Panel) -> bool {
        match p {
            Panel::Side => self.side,
            Panel::Chat => self.chat,
            Panel::Editor => self.editor,
            Panel::Preview => self.preview,
        }
    }

    fn count(self) -> usize {
        [self.side, self.chat, self.editor, self.preview]
            .iter()
            .filter(|s| **s)
            .count()
    }

    /// The panel that takes the free width.
    fn fill(self) -> Option<Panel> {
        [Panel::Editor, Panel::Preview, Panel::Chat, Panel::Side]
            .into_iter()
            .find(|p| self.is(*p))
    }

    /// Whether the resize bar of `p` (side and chat: right of it; preview:
    /// left of it) is shown: `p` is shown with a fixed width. A fixed side
    /// or chat panel always has the filling panel to its right, a fixed
    /// preview the editor to its left.
    fn resizer(self, p: Panel) -> bool {
        self.is(p) && self.fill() != Some(p)
    }

    /// `grid-template-columns` for the shown panels and bars.
    fn columns(self, w: Widths) -> String {
        let fill = self.fill();
        let width = |p: Panel, px: f64| {
            if fill == Some(p) {
                "minmax(0, 1fr)".to_string()
            } else {
                format!("{px}px")
            }
        };
        let mut cols = Vec::new();
        if self.side {
            cols.push(width(Panel::Side, w.side));
        }
        if self.resizer(Panel::Side) {
            cols.push("6px".into());
        }
        if self.chat {
            cols.push(width(Panel::Chat, w.chat));
        }
        if self.resizer(Panel::Chat) {
            cols.push("6px".into());
        }
        if self.editor {
            cols.push("minmax(200px, 1fr)".into());
        }
        if self.resizer(Panel::Preview) {
            cols.push("6px".into());
        }
        if self.preview {
            cols.push(width(Panel::Preview, w.preview));
        }
        if cols.is_empty() {
            cols.push("1fr".into());
        }
        cols.join(" ")
    }
}

/// How often "Skip to chat" was used; the workspace answers each use.
#[derive(Clone, Copy)]
pub struct SkipToChatAsked(RwSignal<u32>);

/// Provides what `SkipToChat` and `WorkspacePage` share; call it in the
/// route's view, above both.
pub fn provide_skip_to_chat() {
    provide_context(SkipToChatAsked(RwSignal::new(0)));
}

/// The page's first stop for keyboard users in the workspace: the chat box
/// is otherwise dozens of Tab presses away (the top bar, the panel toggles,
/// the file tree). Put before the top bar.
#[component]
pub fn SkipToChat() -> impl IntoView {
    let SkipToChatAsked(asked) = expect_context::<SkipToChatAsked>();
    view! {
        <a class="ws-skip" href=format!("#{}", chat::INPUT_ID) data-testid="skip-to-chat"
            on:click=move |ev| { ev.prevent_default(); asked.update(|n| *n += 1); }>"Skip to chat"</a>
    }
}

/// Moves the keyboard focus to the chat's message box.
fn focus_chat_input() {
    #[cfg(feature = "hydrate")]
    request_animation_frame(|| {
        use wasm_bindgen::JsCast;
        let input = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(chat::INPUT_ID));
        if let Some(input) = input.and_then(|i| i.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = input.focus();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Widths = Widths {
        side: 190.0,
        chat: 330.0,
        preview: 420.0,
    };

    fn shown(bits: u8) -> Shown {
        Shown {
            side: bits & 1 != 0,
            chat: bits & 2 != 0,
            editor: bits & 4 != 0,
            preview: bits & 8 != 0,
        }
    }

    #[test]
    fn every_combination_has_one_column_per_shown_panel_and_bar_and_one_that_fills() {
        for bits in 1..16u8 {
            let s = shown(bits);
            let cols = tracks(&s.columns(W));
            let bars = [Panel::Side, Panel::Chat, Panel::Preview]
                .into_iter()
                .filter(|p| s.resizer(*p))
                .count();
            assert_eq!(cols.len(), s.count() + bars, "{s:?}: {cols:?}");
            assert_eq!(
                cols.iter().filter(|c| c.contains("1fr")).count(),
                1,
                "{s:?}: {cols:?}"
            );
            assert_eq!(
                bars,
                s.count() - 1,
                "{s:?}: a bar between each pair of neighbours"
            );
        }
    }

    /// The grid's tracks: split at spaces outside parentheses ("minmax(0, 1fr)" is one).
    fn tracks(columns: &str) -> Vec<String> {
        let (mut out, mut depth, mut cur) = (Vec::new(), 0, String::new());
        for c in columns.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ' ' if depth == 0 => {
                    out.push(std::mem::take(&mut cur));
                    continue;
                }
                _ => {}
            }
            cur.push(c);
        }
        out.push(cur);
        out
    }

    #[test]
    fn without_the_editor_the_preview_fills() {
        let s = Shown {
            side: false,
            chat: true,
            editor: false,
            preview: true,
        };
        assert_eq!(s.columns(W), "330px 6px minmax(0, 1fr)");
        assert_eq!(s.fill(), Some(Panel::Preview));
    }
}
