#!/usr/bin/env bash
# Installs what building and testing AUTOCREA needs, skipping what is there:
# Debian packages, the wasm target, wasm-bindgen-cli (the exact version of the
# crate in Cargo.lock), npm build tools (binaryen's wasm-opt) and, with
# --test, Chromium and the browser-test packages.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

# git serves repositories over HTTP (git upload-pack / receive-pack).
# cmake, clang and libclang build llama.cpp (llama-cpp-2).
packages=(build-essential pkg-config curl ca-certificates git cmake clang libclang-dev nodejs npm python3 python3-venv)
[ $want_test = 1 ] && packages+=(chromium chromium-driver fonts-dejavu-core wrk)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node and npm may come from elsewhere (the machine image); accept them on PATH.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup first"
# The test command checks formatting and lints first (a minimal rustup profile lacks both).
if [ $want_test = 1 ] && ! { cargo fmt --version && cargo clippy --version; } >/dev/null 2>&1; then
  log "adding the rustfmt and clippy components"
  rustup component add rustfmt clippy
fi
if ! rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # Not --locked: the registry here lacks one of its locked dependencies.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --quiet
fi

if [ ! -x "$REPO_ROOT/frontend/node_modules/.bin/wasm-opt" ]; then
  log "installing front-end build tools (npm)"
  (cd "$REPO_ROOT/frontend" && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ $want_test = 1 ] && [ ! -d "$REPO_ROOT/tests/browser/node_modules/playwright-core" ]; then
  log "installing browser-test packages (npm)"
  (cd "$REPO_ROOT/tests/browser" && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ $want_test = 1 ]; then
  venv="${AUTOCREA_VENV:-$HOME/.cache/autocrea-venv}"
  if ! "$venv/bin/python" -c 'import gitea, openai' 2>/dev/null; then
    log "installing Python test packages into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$REPO_ROOT/tests/python/requirements.txt"
  fi
fi
