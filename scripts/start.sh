#!/usr/bin/env bash
# Set everything up (scripts/setup.sh), then start the assistant in the terminal.
# Needs ANTHROPIC_API_KEY in the environment (and ANTHROPIC_BASE_URL for another endpoint).
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
bash "$here/scripts/setup.sh" --quiet </dev/null
if [ -z "${ANTHROPIC_API_KEY:-}" ]; then
  echo "nanocell: set ANTHROPIC_API_KEY first, e.g.  export ANTHROPIC_API_KEY=sk-ant-...  then run this again." >&2
  exit 1
fi
"$here/nanocell" doctor || true
exec "$here/nanocell" chat "$@"
