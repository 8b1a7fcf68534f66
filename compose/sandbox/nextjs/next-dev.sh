#!/bin/sh
# The nextjs template's dev command: `next dev` with Turbopack's file-system
# cache seeded from the one baked into the image (warm-cache.mjs), unless this
# container already has one (a restart after a crash keeps its own).
cache=.next/dev/cache/turbopack
if [ ! -d "$cache" ] && [ -d /opt/autocrea/next-cache ]; then
  mkdir -p .next/dev/cache && cp -R /opt/autocrea/next-cache "$cache"
fi
exec next dev "$@"
