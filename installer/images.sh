#!/usr/bin/env bash
# Builds the sandbox images without any container registry:
#   autocrea/debian:trixie        debootstrap (minbase) imported into Docker
#   autocrea/sandbox-runtime      + Node.js, tini, the dev-server supervisor
#   autocrea/sandbox-<template>   static, vite-react, nextjs (dependencies installed)
# Each image carries the label org.autocrea.recipe (a hash of its recipe and its
# parent's); an image whose recipe has not changed is not rebuilt.
#
#   installer/images.sh [--ca-bundle FILE] [--npm-registry URL] [--mirror URL]
#   installer/images.sh --save FILE.tar.gz     write all images for an air-gapped host
#   installer/images.sh --load FILE.tar.gz     load them there (no build)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ca_bundle=/etc/ssl/certs/ca-certificates.crt
# The npm registry and Debian mirror come from this host's own package-manager
# configuration (or the flags below); none is written into the recipes.
npm_registry="$(npm config get registry 2>/dev/null || true)"
mirror=""
save="" load=""
while [ $# -gt 0 ]; do
  case "$1" in
    --ca-bundle) ca_bundle="$2"; shift 2 ;;
    --npm-registry) npm_registry="$2"; shift 2 ;;
    --mirror) mirror="$2"; shift 2 ;;
    --save) save="$2"; shift 2 ;;
    --load) load="$2"; shift 2 ;;
    *) die "unknown option $1 (see the comment at the top of $0)" ;;
  esac
done

ensure_docker

if [ -n "$load" ]; then
  log "loading sandbox images from $load"
  gunzip -c "$load" | docker load
  exit 0
fi

TEMPLATES=(static vite-react nextjs)
RECIPES="$REPO_ROOT/compose/sandbox"
VERSION="$(grep -m1 '^version' "$REPO_ROOT/Cargo.toml" | cut -d'"' -f2)"

label_of() { docker image inspect -f '{{index .Config.Labels "org.autocrea.recipe"}}' "$1" 2>/dev/null || true; }

# The Debian mirror of this host's apt sources (deb822 or one-line format).
host_mirror() {
  local m
  m="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1)"
  [ -n "$m" ] || m="$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' | grep -v security | head -1)"
  [ -n "$m" ] || die "no Debian mirror in this host's apt sources; give one with --mirror URL"
  echo "$m"
}

# trixie: its Node.js 20 is what Next 16 and Vite 7 need (bookworm has 18).
suite=trixie
base_image=autocrea/debian:$suite
base_recipe="debootstrap-minbase-$suite-1"
if [ "$(label_of $base_image)" != "$base_recipe" ]; then
  command -v debootstrap >/dev/null || { log "installing debootstrap"; as_root apt-get install -y -qq debootstrap >/dev/null; }
  mirror="${mirror:-$(host_mirror)}"
  root="$(mktemp -d)"
  trap 'as_root rm -rf "$root"' EXIT
  log "debootstrap $suite from $mirror (about 45 s)"
  as_root debootstrap --variant=minbase "$suite" "$root" "$mirror" >/tmp/autocrea-debootstrap.log 2>&1 \
    || { tail -20 /tmp/autocrea-debootstrap.log; die "debootstrap failed (log: /tmp/autocrea-debootstrap.log)"; }
  as_root rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  log "importing $base_image"
  as_root tar -C "$root" -c . | docker import \
    --change "LABEL org.autocrea.recipe=$base_recipe" --change 'CMD ["/bin/bash"]' - "$base_image" >/dev/null
fi

# Hash of a recipe folder plus its parent's recipe and any extra files.
recipe_hash() {
  local parent="$1"; shift
  { echo "$parent"; for f in "$@"; do echo "== $(basename "$f")"; cat "$f"; done; } | sha256sum | cut -c1-16
}

build() { # build NAME RECIPE_HASH CONTEXT_DIR [build args...]
  local name="$1" hash="$2" ctx="$3"; shift 3
  if [ "$(label_of "$name")" = "$hash" ]; then
    log "$name is up to date ($hash)"
    return
  fi
  log "building $name ($hash)"
  local started=$SECONDS
  docker build -q --label "org.autocrea.recipe=$hash" --label "org.autocrea.version=$VERSION" \
    "$@" -t "$name" "$ctx" >/tmp/autocrea-image-build.log 2>&1 \
    || { tail -30 /tmp/autocrea-image-build.log; die "building $name failed"; }
  log "built $name in $((SECONDS - started)) s"
}

runtime_hash="$(recipe_hash "$base_recipe" "$RECIPES"/runtime/*)"
build autocrea/sandbox-runtime "$runtime_hash" "$RECIPES/runtime" --build-arg "BASE=$base_image"

for t in "${TEMPLATES[@]}"; do
  ctx="$(mktemp -d)"
  starter="$REPO_ROOT/app/core/templates/$t"
  if [ -f "$RECIPES/$t/Dockerfile" ]; then
    # A template's own recipe: its Dockerfile, the files beside it, and the
    # template's starter files (in starter/) for images that warm a cache.
    find "$RECIPES/$t" -maxdepth 1 -type f ! -name template.toml -exec cp {} "$ctx/" \;
    cp -R "$starter" "$ctx/starter"
  else
    cp "$RECIPES/npm.Dockerfile" "$ctx/Dockerfile"
  fi
  if [ -f "$starter/package.json" ]; then
    cp "$starter/package.json" "$starter/package-lock.json" "$ctx/"
    [ -r "$ca_bundle" ] || die "CA bundle $ca_bundle is not readable (give one with --ca-bundle)"
    [ -n "$npm_registry" ] || die "no npm registry in this host's npm configuration; give one with --npm-registry URL"
    cp "$ca_bundle" "$ctx/ca-bundle.crt"
  fi
  # The recipe: every file of the context but the host's CA bundle.
  mapfile -t extra < <(cd "$ctx" && find . -type f ! -name Dockerfile ! -name ca-bundle.crt | LC_ALL=C sort | sed "s|^\.|$ctx|")
  build "autocrea/sandbox-$t" "$(recipe_hash "$runtime_hash" "$ctx/Dockerfile" "${extra[@]}")" "$ctx" \
    --build-arg RUNTIME=autocrea/sandbox-runtime --build-arg "NPM_REGISTRY=$npm_registry"
  rm -rf "$ctx"
done

if [ -n "$save" ]; then
  log "writing $save"
  docker save "$base_image" autocrea/sandbox-runtime $(printf 'autocrea/sandbox-%s ' "${TEMPLATES[@]}") | gzip -1 >"$save"
  ls -lh "$save" >&2
fi
