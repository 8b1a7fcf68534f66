#!/usr/bin/env bash
# Builds the two peers the inference benchmark compares against, outside the
# checkout (nothing of them is committed): llama.cpp's own llama-server and
# llama-bench, from the llama.cpp sources inside llama-cpp-python's source
# distribution on PyPI, and llama-cpp-python's OpenAI-compatible server in its
# own virtual environment. Steps already done are skipped.
set -euo pipefail
VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
ROOT="${AUTOCREA_BENCH_DIR:-$HOME/.cache/autocrea-bench}"
JOBS="${JOBS:-$(nproc)}"
mkdir -p "$ROOT"
cd "$ROOT"

sdist="llama_cpp_python-$VERSION.tar.gz"
if [ ! -f "$sdist" ]; then
  echo "peers: downloading $sdist from PyPI"
  python3 -m pip download --quiet --no-deps --no-binary :all: --no-build-isolation \
    "llama-cpp-python==$VERSION" -d . 2>/dev/null || true
  # pip reads the index from this machine's own configuration.
  [ -f "$sdist" ] || { echo "peers: pip could not download $sdist from the configured index" >&2; exit 1; }
fi
src="llama_cpp_python-$VERSION"
[ -d "$src" ] || tar xzf "$sdist"

if [ ! -x llama.cpp-build/bin/llama-server ] || [ ! -x llama.cpp-build/bin/llama-bench ]; then
  echo "peers: building llama-server and llama-bench (CPU, OpenMP)"
  cmake -S "$src/vendor/llama.cpp" -B llama.cpp-build -DCMAKE_BUILD_TYPE=Release \
    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DGGML_NATIVE=ON -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON >/dev/null
  cmake --build llama.cpp-build -j "$JOBS" --target llama-server llama-bench >"$ROOT/llama.cpp-build.log" 2>&1
fi

if [ ! -x venv/bin/python ] || ! venv/bin/python -c 'import llama_cpp.server' 2>/dev/null; then
  echo "peers: building llama-cpp-python[server] $VERSION"
  python3 -m venv venv
  venv/bin/pip install --quiet --upgrade pip scikit-build-core cmake ninja
  CMAKE_ARGS="-DGGML_NATIVE=ON" CMAKE_BUILD_PARALLEL_LEVEL="$JOBS" \
    venv/bin/pip install --quiet "./$sdist[server]" >"$ROOT/llama-cpp-python-build.log" 2>&1
fi
echo "peers: ready in $ROOT"
