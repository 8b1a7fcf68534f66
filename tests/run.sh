#!/usr/bin/env bash
# The whole test suite: installs what the tests need (skipping what is
# there), builds the UI bundle, runs the Rust tests (unit, API against the
# real server on loopback, CLI as a process, sandboxes on the real Docker
# engine) and the headless Chromium tests.
#
# Formatting, import cycles and lints are checked before any test and stop
# the run: a change that breaks them is not worth 25 minutes of tests. After that every
# suite runs even when an earlier one failed, and the run ends with the list
# of the suites that failed (and a non-zero exit).
set -euo pipefail
source "$(dirname "$0")/../installer/lib.sh"
cd "$REPO_ROOT"

"$REPO_ROOT/installer/deps.sh" --test
# The shared build cache grows with every checkout and session (incremental
# state alone reached 29 GB): below 15 GB free, that state goes.
mkdir -p "$CARGO_TARGET_DIR"
if [ "$(df -Pk "$CARGO_TARGET_DIR" | awk 'NR==2 {print $4}')" -lt 15000000 ]; then
  log "less than 15 GB free: clearing the incremental build state in $CARGO_TARGET_DIR"
  rm -rf "$CARGO_TARGET_DIR"/*/incremental
fi
forget_stale_llama_builds
log "Static checks: rustfmt, import cycles, clippy (warnings are errors)"
cargo fmt --all --check || die "the code is not rustfmt-clean: run cargo fmt --all"
python3 "$REPO_ROOT/tests/tools/module_cycles.py" app/wire/src app/core/src app/inference/src app/server/src frontend/src
# The server embeds the UI bundle (site/) at compile time, so clippy runs after it is built.
"$REPO_ROOT/installer/build-frontend.sh"
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo clippy -p autocrea-frontend --features ssr --lib --quiet -- -D warnings
cargo clippy -p autocrea-frontend --features hydrate --lib --target wasm32-unknown-unknown --quiet -- -D warnings
"$REPO_ROOT/models/fetch.sh"
# The sandbox tests use the real Docker engine and the sandbox images.
"$REPO_ROOT/installer/images.sh"


failed=()
# Runs one suite; a failure is remembered, not fatal, so every suite reports.
suite() {
  local name="$1"; shift
  log "$name"
  if ! "$@"; then
    failed+=("$name")
    printf '\033[1;31m==> %s FAILED\033[0m\n' "$name" >&2
  fi
}

# --no-fail-fast: one failing test binary must not hide what the others would say.
suite "Rust tests" cargo test --workspace --exclude autocrea-frontend --no-fail-fast
# The UI crate's own unit tests (layout arithmetic, redirects, markdown) on the server side of its features.
suite "UI unit tests" cargo test -p autocrea-frontend --features ssr --lib

# The Python and browser suites drive the built binary; without one they
# would test a stale build, so they are counted as failed instead.
if cargo build -p autocrea --quiet; then
  suite "Python tests: py-gitea against the Gitea API, the openai client against the /v1 gateway" \
    env AUTOCREA_BIN="$CARGO_TARGET_DIR/debug/autocrea" "${AUTOCREA_VENV:-$HOME/.cache/autocrea-venv}/bin/python" \
    -m unittest discover -v -s "$REPO_ROOT/tests/python" -p 'test_*.py'

  rm -rf "$REPO_ROOT/tests/artifacts/screenshots"
  browser_tests() {
    (cd "$REPO_ROOT/tests/browser" && AUTOCREA_BIN="$CARGO_TARGET_DIR/debug/autocrea" node --test --test-concurrency=1)
  }
  suite "Node tests: pages in headless Chromium, gitea-js against the Gitea API" browser_tests
else
  failed+=("building the binary (Python and browser suites not run)")
fi

if [ ${#failed[@]} -gt 0 ]; then
  printf '\033[1;31m==> failed: %s\033[0m\n' "${failed[@]}" >&2
  exit 1
fi
log "all tests passed; screenshots in tests/artifacts/screenshots"
