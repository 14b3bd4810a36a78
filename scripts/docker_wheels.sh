#!/usr/bin/env bash
# Put the wheels the image cannot get from PyPI into the build context (docker/wheels/):
# torch and torchvision as pinned in pyproject.toml, found where this machine's pip finds them
# (its find-links and file:// indexes), and, if pip already compiled it here, llama-cpp-python
# (which saves the image build its ~9 min compile), and the CA bundle pip trusts here. Hard links
# where possible.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/docker/wheels"
PIP="$ROOT/.venv/bin/pip"
mkdir -p "$OUT"
printf '*\n' > "$OUT/.gitignore"   # build inputs, never committed

pin() { grep -oE "\"$1==[^\"]+\"" "$ROOT/pyproject.toml" | tr -d '"'; }
# `pip download --no-deps` resolves each pin exactly as an install here would, without the network
# for files that lie on disk; it copies the wheel into $OUT.
for req in "$(pin torch)" "$(pin torchvision)"; do
  name="${req%%==*}"; version="${req##*==}"
  if ! ls "$OUT/$name-$version-"*.whl >/dev/null 2>&1; then
    "$PIP" download -q --no-deps --only-binary=:all: -d "$OUT" "$req"
  fi
done
llama="$(pin llama-cpp-python)"
found="$(find "${PIP_CACHE_DIR:-$HOME/.cache/pip}/wheels" -name "llama_cpp_python-${llama##*==}-*.whl" 2>/dev/null | head -1)"
if [ -n "$found" ]; then
  ln -f "$found" "$OUT/" 2>/dev/null || cp "$found" "$OUT/"
fi
# The CA bundle this machine's pip trusts (a network that re-signs TLS needs it inside the build too).
cert="${PIP_CERT:-$("$PIP" config get global.cert 2>/dev/null || true)}"
if [ -n "$cert" ] && [ -f "$cert" ]; then cp "$cert" "$OUT/ca.crt"; fi
ls -l "$OUT"
