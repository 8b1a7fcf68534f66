# Shared by the installer and test scripts. Sourced, not run.
# Where cargo builds: outside the checkout, so clean clones reuse the cache.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/autocrea-target}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
WASM_BINDGEN_VERSION="0.2.130"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs apt-get as root, or through sudo when not root.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Makes sure a Docker engine answers: installs docker.io when the client or
# daemon is missing and starts dockerd when none runs (machines without
# systemd, such as CI containers, start it in the background).
ensure_docker() {
  if docker info >/dev/null 2>&1; then return; fi
  if ! command -v dockerd >/dev/null; then
    log "installing Docker (docker.io)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends docker.io >/dev/null
  fi
  if docker info >/dev/null 2>&1; then return; fi
  log "starting dockerd"
  if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    as_root systemctl start docker
  else
    as_root sh -c 'nohup dockerd >/var/log/autocrea-dockerd.log 2>&1 &'
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && return; sleep 0.5; done
  die "the Docker engine did not start (see /var/log/autocrea-dockerd.log)"
}

# llama.cpp's cmake build does not reconfigure when .cargo/config.toml's
# C/C++ flags change, so a build cache from before they left ggml's AMX
# kernels out (docs/decisions.md) would keep the old, crashing objects.
# Such builds are cleaned; cargo then builds llama.cpp again (minutes, once).
forget_stale_llama_builds() {
  local flags profile
  for flags in "$CARGO_TARGET_DIR"/*/build/llama-cpp-sys-2-*/out/build/ggml/src/CMakeFiles/ggml-cpu.dir/flags.make; do
    [ -f "$flags" ] || continue
    grep -q -- '-mno-amx-int8' "$flags" && continue
    profile="${flags#"$CARGO_TARGET_DIR"/}"
    profile="${profile%%/*}"
    [ "$profile" = debug ] && profile=dev
    log "cleaning llama.cpp's $profile build, made with the old CPU flags"
    (cd "$REPO_ROOT" && cargo clean -p llama-cpp-sys-2 --profile "$profile" --quiet)
  done
}
