#!/usr/bin/env bash
# Builds the UI bundle into site/: the hydration wasm (wasm-bindgen + wasm-opt),
# its JS loader, the stylesheet and icons. The server embeds site/ when it is
# compiled, so run this before `cargo build -p autocrea`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

site="$REPO_ROOT/site"
mkdir -p "$site/pkg" "$site/assets"

log "building the browser bundle (wasm)"
cargo build -p autocrea-frontend --lib --target wasm32-unknown-unknown --features hydrate --profile wasm-release
wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/autocrea_frontend.wasm"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
wasm-bindgen --target web --no-typescript --out-dir "$stage" --out-name autocrea "$wasm"
"$REPO_ROOT/frontend/node_modules/.bin/wasm-opt" -Oz --strip-debug --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types \
  "$stage/autocrea_bg.wasm" -o "$stage/autocrea_bg.opt.wasm"
mv "$stage/autocrea_bg.opt.wasm" "$stage/autocrea_bg.wasm"

# Replace files only when they changed, so the server is not rebuilt for nothing.
sync_file() { cmp -s "$1" "$2" 2>/dev/null || cp "$1" "$2"; }
sync_file "$stage/autocrea.js" "$site/pkg/autocrea.js"
sync_file "$stage/autocrea_bg.wasm" "$site/pkg/autocrea_bg.wasm"
for f in "$REPO_ROOT"/frontend/style/*.css "$REPO_ROOT"/frontend/assets/*; do
  sync_file "$f" "$site/assets/$(basename "$f")"
done
# The editor and the terminal, from npm (frontend/package-lock.json): served
# from the binary, loaded by assets/workspace.js only in the workspace. Monaco's
# translations stay out (the UI is English).
modules="$REPO_ROOT/frontend/node_modules"
mkdir -p "$site/assets/monaco" "$site/assets/xterm"
if [ ! -d "$modules/monaco-editor/min/vs" ] || [ ! -f "$modules/@xterm/xterm/lib/xterm.js" ]; then
  (cd "$REPO_ROOT/frontend" && npm ci --no-audit --no-fund --loglevel=error)
fi
rm -rf "$site/assets/monaco.new" && mkdir -p "$site/assets/monaco.new"
cp -a "$modules/monaco-editor/min/vs" "$site/assets/monaco.new/"
rm -f "$site/assets/monaco.new/vs/"nls.messages.*.js
# Replace only when it changed, so the server is not rebuilt for nothing.
if diff -rq "$site/assets/monaco.new" "$site/assets/monaco" >/dev/null 2>&1; then
  rm -rf "$site/assets/monaco.new"
else
  rm -rf "$site/assets/monaco" && mv "$site/assets/monaco.new" "$site/assets/monaco"
fi
sync_file "$modules/@xterm/xterm/lib/xterm.js" "$site/assets/xterm/xterm.js"
sync_file "$modules/@xterm/xterm/css/xterm.css" "$site/assets/xterm/xterm.css"
sync_file "$modules/@xterm/addon-fit/lib/addon-fit.js" "$site/assets/xterm/addon-fit.js"
log "UI bundle: $(du -h "$site/pkg/autocrea_bg.wasm" | cut -f1) wasm, $(du -h "$site/assets/main.css" | cut -f1) css, $(du -sh "$site/assets/monaco" | cut -f1) editor"
