#!/usr/bin/env bash
# Check that a model provider is configured (scripts/check-provider.sh: at once, before
# anything is installed), set everything up (scripts/setup.sh), then run the assistant: the
# long-running host with the local web chat, scheduled tasks and the outbox
# (`./nanocell start`). Talk to it in the browser at the address it prints, or at the
# terminal with `./nanocell chat` in another shell.
# Needs ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL for another endpoint), in the environment
# or in ~/.config/nanocell/config.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
bash "$here/scripts/check-provider.sh"
bash "$here/scripts/setup.sh" --quiet </dev/null
"$here/nanocell" doctor || true
exec "$here/nanocell" start "$@"
