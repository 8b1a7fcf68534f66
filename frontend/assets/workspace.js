// The workspace's JavaScript side: Monaco (the editor) and xterm.js (the
// terminal), both installed from npm at build time and served from the
// binary (/assets/monaco, /assets/xterm), loaded only when the workspace
// needs them. The Leptos code calls window.AutocreaWorkspace.
(function () {
  'use strict';
  const W = {};
  let monaco = null;
  let loading = null;
  let editor = null;
  let diffEditor = null;
  const files = new Map(); // path -> { model, saved }
  let current = null;
  let handlers = { save: null, dirty: null };

  const LANGUAGES = {
    html: 'html', htm: 'html', css: 'css', scss: 'scss', less: 'less', js: 'javascript', mjs: 'javascript',
    cjs: 'javascript', jsx: 'javascript', ts: 'typescript', tsx: 'typescript', json: 'json', md: 'markdown',
    yml: 'yaml', yaml: 'yaml', sh: 'shell', xml: 'xml', svg: 'xml', txt: 'plaintext',
  };
  W.languageOf = (path) => LANGUAGES[(path.split('.').pop() || '').toLowerCase()] || 'plaintext';

  function theme() {
    return document.documentElement.dataset.theme === 'dark' ? 'vs-dark' : 'vs';
  }

  /// Loads Monaco once (AMD build); its language workers load when a file of their language opens.
  W.loadMonaco = function () {
    if (monaco) return Promise.resolve(monaco);
    if (loading) return loading;
    loading = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = '/assets/monaco/vs/loader.js';
      script.onload = () => {
        // Absolute: the language workers start from blob: URLs and import from here.
        window.require.config({ paths: { vs: location.origin + '/assets/monaco/vs' } });
        window.require(['vs/editor/editor.main'], () => {
          monaco = window.monaco;
          configureTypeScript(monaco);
          resolve(monaco);
        }, reject);
      };
      script.onerror = () => reject(new Error('the editor could not be loaded'));
      document.head.appendChild(script);
    });
    return loading;
  };

  // What the editor knows of a project's types: not its node_modules (they
  // live in the sandbox), so the TypeScript service is told how the
  // templates compile (JSX as React 17+ does, bundler resolution) and given
  // loose declarations of what they import; an import it still cannot
  // resolve is no error here (the sandbox's tsc and build check those).
  const AMBIENT = `
declare module 'react';
declare module 'react/jsx-runtime';
declare module 'react/jsx-dev-runtime';
declare module 'react-dom';
declare module 'react-dom/client';
declare module 'vite';
declare module '*.css';
declare module '*.scss';
declare module '*.svg' { const url: string; export default url; }
declare module '*.png' { const url: string; export default url; }
declare module '*.jpg' { const url: string; export default url; }
declare namespace JSX { interface IntrinsicElements { [name: string]: any } interface Element {} interface ElementChildrenAttribute { children: {} } }
interface ImportMeta { readonly env: Record<string, string>; readonly hot?: any }
`;
  // Cannot find module (2307, 2792), no declaration file (7016), no JSX runtime module (2875).
  const UNRESOLVABLE = [2307, 2792, 7016, 2875];
  function configureTypeScript(m) {
    const ts = m.languages.typescript;
    if (!ts) return;
    const options = {
      target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.NodeJs, jsx: ts.JsxEmit.ReactJSX,
      allowJs: true, allowNonTsExtensions: true, esModuleInterop: true, allowSyntheticDefaultImports: true,
      skipLibCheck: true,
    };
    for (const defaults of [ts.typescriptDefaults, ts.javascriptDefaults]) {
      defaults.setCompilerOptions(options);
      defaults.setDiagnosticsOptions({ noSemanticValidation: false, noSyntaxValidation: false, diagnosticCodesToIgnore: UNRESOLVABLE });
      defaults.addExtraLib(AMBIENT, 'file:///node_modules/@types/autocrea-ambient/index.d.ts');
    }
  }

  function isDirty(path) {
    const f = files.get(path);
    return !!f && f.model.getValue() !== f.saved;
  }

  function notifyDirty(path) {
    if (handlers.dirty) handlers.dirty(path, isDirty(path));
  }

  /// Mounts the editor in `el`; `onSave(path, text)` on Ctrl+S, `onDirty(path, dirty)` on edits.
  W.mountEditor = async function (el, onSave, onDirty) {
    await W.loadMonaco();
    handlers = { save: onSave, dirty: onDirty };
    if (editor) editor.dispose();
    editor = monaco.editor.create(await connected(el), {
      automaticLayout: true, theme: theme(), minimap: { enabled: false }, fontSize: 13, tabSize: 2,
      scrollBeyondLastLine: false, model: null,
      // Monaco's bracket-pair parser runs away on HTML being retyped (an
      // endless list, then "Invalid array length" and a crashed tab): no
      // bracket-pair colors or guides.
      bracketPairColorization: { enabled: false }, guides: { bracketPairs: false },
    });
    editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS, () => {
      if (current && handlers.save) handlers.save(current, files.get(current).model.getValue());
    });
    new MutationObserver(() => monaco.editor.setTheme(theme()))
      .observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return true;
  };

  /// The element once it is in the page (it can be handed over before it is
  /// inserted), so Monaco measures a real size.
  async function connected(el) {
    for (let i = 0; i < 100; i++) {
      const now = el.isConnected ? el : document.getElementById(el.id);
      if (now && now.isConnected) return now;
      await new Promise((r) => requestAnimationFrame(r));
    }
    return el;
  }

  /// Shows `path` (creating its model from `text` the first time). The
  /// language's tokenizer is loaded first: typing into a model whose
  /// tokenizer is still on its way makes Monaco's suggestions throw.
  W.open = async function (path, text) {
    if (!editor) return;
    let f = files.get(path);
    if (!f) {
      // HTML embeds CSS and JavaScript: their tokenizers too, before the first keystroke.
      const lang = W.languageOf(path);
      const needed = lang === 'html' ? ['css', 'javascript', 'html'] : [lang];
      for (const l of needed) {
        try { await monaco.editor.colorize('<a>', l, {}); } catch (e) { /* plain text then */ }
      }
      f = files.get(path);
    }
    if (!f) {
      const model = monaco.editor.createModel(text, W.languageOf(path), monaco.Uri.file('/' + path));
      f = { model, saved: text };
      files.set(path, f);
      model.onDidChangeContent(() => notifyDirty(path));
    }
    current = path;
    if (diffEditor) W.closeDiff();
    editor.setModel(f.model);
    editor.focus();
    if (pendingReveal && pendingReveal.path === path) showPendingReveal();
  };

  /// Selects a range of `path` once it is shown (a search result's match):
  /// now when it is the open file, else when `open` shows it.
  let pendingReveal = null;
  W.revealAt = function (path, line, column, length) {
    pendingReveal = { path, line, column, length };
    if (editor && current === path) showPendingReveal();
  };
  function showPendingReveal() {
    const r = pendingReveal;
    pendingReveal = null;
    const range = new monaco.Range(r.line, r.column, r.line, r.column + r.length);
    editor.setSelection(range);
    editor.revealRangeInCenter(range);
  }

  W.close = function (path) {
    const f = files.get(path);
    if (!f) return;
    if (current === path) {
      current = null;
      editor && editor.setModel(null);
    }
    f.model.dispose();
    files.delete(path);
  };

  W.isDirty = isDirty;
  W.anyDirty = () => [...files.keys()].some(isDirty);
  W.value = (path) => (files.has(path) ? files.get(path).model.getValue() : null);
  W.current = () => current;
  /// The editor exists (its view appears with the first open file).
  W.ready = () => !!editor;

  /// After a save: this text is what the version holds.
  W.markSaved = function (path, text) {
    const f = files.get(path);
    if (f) {
      f.saved = text;
      notifyDirty(path);
    }
  };

  /// A newer version of the file (the agent's, another save): taken when there
  /// are no unsaved edits; otherwise false, and the caller asks the person.
  W.update = function (path, text, force) {
    const f = files.get(path);
    if (!f) return true;
    if (isDirty(path) && !force) return false;
    f.saved = text;
    if (f.model.getValue() !== text) f.model.setValue(text);
    notifyDirty(path);
    return true;
  };

  /// A side-by-side diff of two texts (over the editor). One diff editor is
  /// kept and reused: disposing it while Monaco still computes a diff throws.
  let diffModels = null;
  W.showDiff = async function (el, path, original, modified) {
    await W.loadMonaco();
    if (!diffEditor) {
      diffEditor = monaco.editor.createDiffEditor(await connected(el), {
        automaticLayout: true, theme: theme(), readOnly: true, minimap: { enabled: false },
      });
    }
    const lang = W.languageOf(path);
    const old = diffModels;
    diffModels = { original: monaco.editor.createModel(original, lang), modified: monaco.editor.createModel(modified, lang) };
    diffEditor.setModel(diffModels);
    if (old) { old.original.dispose(); old.modified.dispose(); }
  };

  W.closeDiff = function () {
    if (!diffEditor || !diffModels) return;
    diffEditor.setModel(null);
    diffModels.original.dispose();
    diffModels.modified.dispose();
    diffModels = null;
  };

  /// Highlights the code blocks under `el` once Monaco is there (chat answers).
  W.colorize = function (el) {
    if (!monaco) return;
    el.querySelectorAll('pre code[data-lang]:not([data-colored])').forEach((code) => {
      code.dataset.colored = '1';
      const lang = LANGUAGES[code.dataset.lang] || code.dataset.lang;
      try {
        monaco.editor.colorize(code.textContent, lang, {}).then((html) => {
          // colorize escapes the text it is given: the result is spans of that text.
          code.innerHTML = html;
        }, () => {});
      } catch (e) { /* an unknown language stays plain */ }
    });
  };

  /// Scales a device-width frame into `wrap` (id): the frame keeps its
  /// width (wrap's data-device-width, 0 for the panel's own) and is shrunk
  /// to fit, as browsers' device toolbars do. Follows the panel's size and
  /// the chosen device.
  const fitted = new WeakSet();
  W.fitFrame = async function (id) {
    let wrap = null;
    for (let i = 0; i < 100 && !(wrap = document.getElementById(id)); i++) {
      await new Promise((r) => requestAnimationFrame(r));
    }
    if (!wrap) return;
    const fit = () => {
      const device = Number(wrap.dataset.deviceWidth) || 0;
      const scale = device > 0 ? Math.min(1, wrap.clientWidth / device) : 1;
      wrap.style.setProperty('--device-width', device > 0 ? device + 'px' : '100%');
      wrap.style.setProperty('--frame-scale', String(scale));
    };
    fit();
    if (fitted.has(wrap)) return;
    fitted.add(wrap);
    new ResizeObserver(fit).observe(wrap);
    new MutationObserver(fit).observe(wrap, { attributes: true, attributeFilter: ['data-device-width'] });
  };

  W.copy = function (text) {
    return navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.reject(new Error('no clipboard'));
  };

  // The terminal: xterm.js on the sandbox's terminal WebSocket.
  let term = null;
  let socket = null;
  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.onload = resolve;
      s.onerror = () => reject(new Error('could not load ' + src));
      document.head.appendChild(s);
    });
  }
  /// A UMD bundle's exports. Once Monaco's AMD loader is on the page, UMD
  /// bundles register with it instead of setting globals, so they are
  /// loaded through it; without it, as plain scripts.
  function loadUmd(path, global) {
    if (window.define && window.define.amd && window.require) {
      return new Promise((resolve, reject) => window.require([location.origin + path], resolve, reject));
    }
    return loadScript(path).then(() => (global === 'Terminal' ? { Terminal: window.Terminal } : window[global]));
  }
  let xterm = null;
  W.openTerminal = async function (el, url) {
    if (!xterm) {
      const css = document.createElement('link');
      css.rel = 'stylesheet';
      css.href = '/assets/xterm/xterm.css';
      document.head.appendChild(css);
      const [core, fit] = [await loadUmd('/assets/xterm/xterm.js', 'Terminal'), await loadUmd('/assets/xterm/addon-fit.js', 'FitAddon')];
      xterm = { Terminal: core.Terminal, FitAddon: fit.FitAddon };
    }
    W.closeTerminal();
    term = new xterm.Terminal({ fontSize: 13, convertEol: true, cursorBlink: true });
    const fit = new xterm.FitAddon();
    term.loadAddon(fit);
    term.open(el);
    fit.fit();
    socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (e) => term.write(typeof e.data === 'string' ? e.data : new Uint8Array(e.data));
    socket.onclose = () => term && term.write('\r\n[the terminal closed]\r\n');
    socket.onopen = () => socket.send(JSON.stringify({ resize: [term.cols, term.rows] }));
    term.onData((d) => socket && socket.readyState === 1 && socket.send(d));
    new ResizeObserver(() => {
      if (!term) return;
      fit.fit();
      if (socket && socket.readyState === 1) socket.send(JSON.stringify({ resize: [term.cols, term.rows] }));
    }).observe(el);
  };
  W.closeTerminal = function () {
    if (socket) socket.close();
    if (term) term.dispose();
    socket = null;
    term = null;
  };

  window.AutocreaWorkspace = W;
})();
