#!/usr/bin/env bash
# AUTOCREA on a fresh Debian host: installs what is missing, builds the UI
# bundle and the release binary, then starts the appliance on :8080 (data in
# ./data). Safe to run again: finished steps are skipped by the tools.
#   installer/install.sh            build and serve
#   installer/install.sh --no-start build only
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

"$REPO_ROOT/installer/deps.sh"
"$REPO_ROOT/installer/build-frontend.sh"
"$REPO_ROOT/models/fetch.sh"
# Sandbox images (Docker engine started when none runs); skipped when unchanged.
"$REPO_ROOT/installer/images.sh"
# llama.cpp on NVIDIA GPUs when a CUDA toolkit is installed (AUTOCREA_CUDA=1
# forces it, 0 skips it); docs/admin.md, "GPU hosts".
features=()
cuda="${AUTOCREA_CUDA:-auto}"
if [ "$cuda" = auto ]; then
  if command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ]; then cuda=1; else cuda=0; fi
fi
if [ "$cuda" = 1 ]; then
  [ -d /usr/local/cuda/bin ] && export PATH="/usr/local/cuda/bin:$PATH"
  features=(--features cuda)
  log "building the release binary with CUDA (llama.cpp's GPU kernels: several minutes)"
else
  log "building the release binary"
fi
forget_stale_llama_builds
cargo build --release -p autocrea "${features[@]}"
bin="$CARGO_TARGET_DIR/release/autocrea"
install -d "$REPO_ROOT/bin"
install -m 0755 "$bin" "$REPO_ROOT/bin/autocrea"
log "installed $REPO_ROOT/bin/autocrea ($("$REPO_ROOT/bin/autocrea" --version))"

if [ "${1:-}" = "--no-start" ]; then
  exit 0
fi
export AUTOCREA_LISTEN="${AUTOCREA_LISTEN:-0.0.0.0:8080}"
# The server starts the local model worker with this manifest.
export AUTOCREA_MODELS="${AUTOCREA_MODELS:-$REPO_ROOT/models/models.toml}"
log "starting: open http://localhost:${AUTOCREA_LISTEN##*:} (the first account you create is the admin)"
exec "$REPO_ROOT/bin/autocrea" serve
