#!/usr/bin/env bash
# The two commands of the README:
#   ./run.sh serve   set up what is missing, then start the service on the embedded defaults
#   ./run.sh test    set up what is missing, then run the test suite
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cmd="${1:-serve}"; shift || true
"$ROOT/scripts/bootstrap.sh"
# Nothing may download at run time; these make the libraries fail fast instead of trying.
export HF_HUB_OFFLINE=1 YOLO_OFFLINE=1
case "$cmd" in
  serve) exec "$ROOT/.venv/bin/jimoku" serve "$@" ;;
  test)  cd "$ROOT" && exec "$ROOT/.venv/bin/python" -m pytest "$@" ;;
  *) echo "usage: ./run.sh serve|test [args...]" >&2; exit 2 ;;
esac
