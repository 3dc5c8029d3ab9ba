#!/usr/bin/env bash
# Set everything up (scripts/setup.sh), then run the assistant: the long-running host with the
# local web chat, scheduled tasks and the outbox (`./nanocell start`). Talk to it in the
# browser at the address it prints, or at the terminal with `./nanocell chat` in another shell.
# Needs ANTHROPIC_API_KEY in the environment (and ANTHROPIC_BASE_URL for another endpoint).
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
bash "$here/scripts/setup.sh" --quiet </dev/null
if [ -z "${ANTHROPIC_API_KEY:-}" ]; then
  echo "nanocell: set ANTHROPIC_API_KEY first, e.g.  export ANTHROPIC_API_KEY=sk-ant-...  then run this again." >&2
  exit 1
fi
"$here/nanocell" doctor || true
exec "$here/nanocell" start "$@"
