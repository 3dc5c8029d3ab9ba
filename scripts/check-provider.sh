#!/usr/bin/env bash
# Is a model provider configured? Run first by scripts/start.sh, before the minutes of
# setup, so a missing key is said at once. Reads what nanocell reads: the environment, then
# the config file (NANOCELL_CONFIG_DIR/config, default ~/.config/nanocell/config), where the
# environment wins. Exit 0 when ready, 1 with what to set when not.
set -euo pipefail

config_file="${NANOCELL_CONFIG_DIR:-$HOME/.config/nanocell}/config"

# setting KEY: the environment's value, else the config file's (last KEY= line, quotes off)
setting() {
  local key="$1" v
  v="${!key:-}"
  if [[ -z $v && -r $config_file ]]; then
    v="$(sed -n "s/^[[:space:]]*$key[[:space:]]*=[[:space:]]*//p" "$config_file" | tail -n 1)"
    v="${v%"${v##*[![:space:]]}"}"
    if [[ $v == \"*\" || $v == \'*\' ]]; then v="${v:1:${#v}-2}"; fi
  fi
  printf '%s' "$v"
}

missing() {
  echo "nanocell: $1" >&2
  echo "  either:  export $2   and run this again" >&2
  echo "  or keep it in $config_file (one KEY=VALUE a line; nanocell config set KEY VALUE writes it):" >&2
  echo "           $2" >&2
  exit 1
}

provider="$(setting NANOCELL_PROVIDER)"
case "${provider:-anthropic}" in
  anthropic)
    [[ -n "$(setting ANTHROPIC_API_KEY)" ]] ||
      missing "no model API key: set ANTHROPIC_API_KEY (or NANOCELL_PROVIDER=openai for an OpenAI-compatible server)" \
        "ANTHROPIC_API_KEY=sk-ant-..."
    ;;
  openai)
    # local servers (Ollama, vLLM) need no key, but the model has no default
    [[ -n "$(setting NANOCELL_MODEL)" ]] ||
      missing "NANOCELL_PROVIDER=openai needs the server's model name in NANOCELL_MODEL" "NANOCELL_MODEL=llama3.2"
    ;;
  *)
    echo "nanocell: NANOCELL_PROVIDER=$provider is not a provider: use anthropic or openai" >&2
    exit 1
    ;;
esac
