#!/bin/sh
# nanocell's container entrypoint: refresh dist/, make the cell image when cells are sibling
# containers, forward the web port for `start`, then run the CLI (`start` unless told otherwise).
set -eu
app=/opt/nanocell

# With the docker socket, cells bind-mount the tool server from dist/: the host's daemon looks
# for it at the same path, so compose.yaml mounts a host folder there and it is refreshed here.
mkdir -p "$app/dist"
cp -a "$app/dist.image/." "$app/dist/"

if [ -S /var/run/docker.sock ]; then
  # Imports the cell root filesystem as nanocell-cell:<version> into the host's daemon;
  # skipped when that version is there already.
  "$app/scripts/build-cell-image.sh" --quiet
fi

if [ "${1:-start}" = start ]; then
  # nanocell answers on the container's loopback only; a published port arrives on eth0.
  socat "TCP-LISTEN:7421,fork,reuseaddr" "TCP:127.0.0.1:${NANOCELL_WEB_PORT:-7420}" &
fi

exec node "$app/dist/main.js" "$@"
