//! The Rust side of `assets/workspace.js` (Monaco, xterm.js, clipboard):
//! plain Rust signatures that address elements by id, so the workspace's
//! components compile for the server too, where every call is a no-op (they
//! only ever run in effects and event handlers, in the browser).

#[cfg(feature = "hydrate")]
mod js {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = AutocreaWorkspace, js_name = mountEditor)]
        pub fn mount_editor(
            el: &web_sys::Element,
            on_save: &js_sys::Function,
            on_dirty: &js_sys::Function,
        ) -> js_sys::Promise;
        #[wasm_bindgen(js_namespace = AutocreaWorkspace)]
        pub fn open(path: &str, text: &str);
        #[wasm_bindgen(js_namespace = AutocreaWorkspace)]
        pub fn close(path: &str);
        #[wasm_bindgen(js_namespace = AutocreaWorkspace, js_name = revealAt)]
        pub fn reveal_at(path: &str, line: u32, column: u32, length: u32);
        #[wasm_bindgen(js_namespace = AutocreaWorkspace, js_name = markSaved)]
        pub fn mark_saved(path: &str, text: &str);
        #[wasm_bindgen(js_namespace = AutocreaWorkspace)]
        pub fn update(path: &str, text: &str, force: bool) -> bool;
        #[wasm_bindgen(js_namespace = AutocreaWorkspace)]
        pub fn value(path: &str) -> Option<String>;
        #[wasm_bindgen(js_namespace = AutocreaWorkspace, js_name = anyDirty)]
        pub fn any_dirty() -> bool;
        #[wasm_bindgen(js_namespace = AutocreaWorkspace)]
        pub fn colorize(el: &web_sys::Element);
        #[wasm_bindgen(js_namespace = AutocreaWorkspace)]
        pub fn copy(text: &str) -> js_sys::Promise;
        #[wasm_bindgen(js_namespace = AutocreaWorkspace, js_name = showDiff)]
        pub fn show_diff(
            el: &web_sys::Element,
            path: &str,
            original: &str,
            modified: &str,
        ) -> js_sys::Promise;
        #[wasm_bindgen(js_namespace = AutocreaWorkspace, js_name = closeDiff)]
        pub fn close_diff();
        #[wasm_bindgen(js_namespace = AutocreaWorkspace, js_name = openTerminal)]
        pub fn open_terminal(el: &web_sys::Element, url: &str) -> js_sys::Promise;
        #[wasm_bindgen(js_namespace = AutocreaWorkspace, js_name = closeTerminal)]
        pub fn close_terminal();
        #[wasm_bindgen(js_namespace = AutocreaWorkspace, js_name = fitFrame)]
        pub fn fit_frame(id: &str);
    }
}

use leptos::web_sys::Element;

#[cfg(feature = "hydrate")]
fn element(id: &str) -> Option<Element> {
    web_sys::window()?.document()?.get_element_by_id(id)
}

/// Mounts Monaco in `el`; `on_save(path, text)` on Ctrl+S, `on_dirty(path,
/// dirty)` when a file's unsaved state changes; `ready` once it is there.
pub fn mount_editor(
    el: Element,
    on_save: impl Fn(String, String) + 'static,
    on_dirty: impl Fn(String, bool) + 'static,
    ready: impl FnOnce(Result<(), String>) + 'static,
) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::prelude::*;
        let save = Closure::<dyn Fn(String, String)>::new(on_save).into_js_value();
        let dirty = Closure::<dyn Fn(String, bool)>::new(on_dirty).into_js_value();
        let promise = js::mount_editor(&el, save.unchecked_ref(), dirty.unchecked_ref());
        wasm_bindgen_futures::spawn_local(async move {
            let r = wasm_bindgen_futures::JsFuture::from(promise).await;
            ready(r.map(|_| ()).map_err(|e| {
                e.as_string()
                    .unwrap_or_else(|| "the editor could not be loaded".into())
            }));
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (el, on_save, on_dirty, ready);
}

macro_rules! forward {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty = $default:expr)?) => {
        $(#[$doc])*
        pub fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(feature = "hydrate")]
            {
                js::$name($($arg),*)
            }
            #[cfg(not(feature = "hydrate"))]
            {
                let _ = ($($arg),*);
                $($default)?
            }
        }
    };
}

forward!(
    /// Shows `path` in the editor (its model made from `text` the first time).
    open(path: &str, text: &str)
);
forward!(
    /// Selects a range of `path` when it is shown (now, if it is the open file).
    reveal_at(path: &str, line: u32, column: u32, length: u32)
);
forward!(
    /// Drops the editor's model of `path`.
    close(path: &str)
);
forward!(
    /// `text` is what the current version holds for `path` now.
    mark_saved(path: &str, text: &str)
);
forward!(
    /// A newer version of `path`; false (nothing changed) when the person has unsaved edits and `force` is false.
    update(path: &str, text: &str, force: bool) -> bool = true
);
forward!(
    /// The editor's text of `path`, if open.
    value(path: &str) -> Option<String> = None
);
forward!(
    /// Whether any open file has unsaved edits.
    any_dirty() -> bool = false
);
forward!(close_terminal());
forward!(
    /// Scales the device-width preview frame inside element `id` to fit it (and keeps doing so).
    fit_frame(id: &str)
);
forward!(
    /// Takes the diff view away.
    close_diff()
);

/// A side-by-side diff of two texts of `path` in `el`.
pub fn show_diff(el: Element, path: &str, original: &str, modified: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = js::show_diff(&el, path, original, modified);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (el, path, original, modified);
}

/// Highlights the code blocks inside element `id` (when Monaco is loaded).
pub fn colorize(id: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(el) = element(id) {
        js::colorize(&el);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

pub fn copy(text: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = js::copy(text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

/// xterm.js in `el` on the WebSocket at `url` (a path on this origin).
pub fn open_terminal(el: Element, url: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(location) = web_sys::window().map(|w| w.location()) {
        let scheme = if location.protocol().ok().as_deref() == Some("https:") {
            "wss"
        } else {
            "ws"
        };
        let full = format!("{scheme}://{}{url}", location.host().unwrap_or_default());
        let _ = js::open_terminal(&el, &full);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (el, url);
}
