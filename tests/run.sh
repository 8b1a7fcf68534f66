#!/usr/bin/env bash
# The whole test suite: installs what the tests need (skipping what is
# there), builds the UI bundle, runs the Rust tests (unit, API against the
# real server on loopback, CLI as a process, sandboxes on the real Docker
# engine) and the headless Chromium tests.
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
"$REPO_ROOT/installer/build-frontend.sh"
"$REPO_ROOT/models/fetch.sh"
# The sandbox tests use the real Docker engine and the sandbox images.
"$REPO_ROOT/installer/images.sh"

log "Rust tests"
# --no-fail-fast: one failing test binary must not hide what the others would say.
cargo test --workspace --exclude autocrea-frontend --no-fail-fast
# The UI crate's own unit tests (layout arithmetic, redirects, markdown) on the server side of its features.
cargo test -p autocrea-frontend --features ssr --lib

cargo build -p autocrea --quiet
log "Python tests: py-gitea against the Gitea API, the openai client against the /v1 gateway"
AUTOCREA_BIN="$CARGO_TARGET_DIR/debug/autocrea" "${AUTOCREA_VENV:-$HOME/.cache/autocrea-venv}/bin/python" \
  -m unittest discover -v -s "$REPO_ROOT/tests/python" -p 'test_*.py'

log "Node tests: pages in headless Chromium (foundation, versions, models, sandbox, workspace), gitea-js against the Gitea API"
rm -rf "$REPO_ROOT/tests/artifacts/screenshots"
(cd "$REPO_ROOT/tests/browser" && AUTOCREA_BIN="$CARGO_TARGET_DIR/debug/autocrea" node --test --test-concurrency=1)
log "all tests passed; screenshots in tests/artifacts/screenshots"
