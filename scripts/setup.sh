#!/usr/bin/env bash
# nanocell setup: everything a fresh Debian 12 machine (or a CI run) needs.
# Non-interactive, safe to run again (a second run takes a few seconds).
#
#   1. node >= 20 and npm
#   2. Debian packages (bubblewrap, docker.io, podman, runsc, native build tools, ...)
#   3. npm dependencies (npm ci), then `npm run build`
#   4. a running docker daemon, when docker is installed, with gVisor's runsc
#      declared in /etc/docker/daemon.json (runtimeArgs --network=none)
#   5. the cell image: build/cell-rootfs (bwrap) + nanocell-cell:<version> (docker, podman)
#
# Each step prints "[setup] [N/5] NAME", then "done (Ns)"; a long step says every 30 s
# that it is still running, with the last line of its log. A failing step prints its log
# tail and a "fix:" line, then exits 1.
#
# Usage: scripts/setup.sh [--quiet]
# Environment:
#   NANOCELL_SKIP_BUILD=1     skip `npm run build`
#   NANOCELL_NO_DOCKER=1      neither install nor start docker (bwrap only; no gVisor)
#   NANOCELL_NO_PODMAN=1      do not install podman
#   NANOCELL_NO_GVISOR=1      do not install gVisor (runsc)
#   NANOCELL_REQUIRE_DOCKER=1 fail when the docker daemon cannot be started
set -euo pipefail

SCRIPT_PATH="$(readlink -f -- "${BASH_SOURCE[0]}")"
REPO_ROOT="$(cd -- "$(dirname -- "$SCRIPT_PATH")/.." && pwd -P)"
cd "$REPO_ROOT"

QUIET=0
for arg in "$@"; do
  case "$arg" in
    --quiet | -q) QUIET=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$SCRIPT_PATH" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "[setup] unknown option: $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

say() { [[ $QUIET == 1 ]] || echo "[setup] $*"; }
warn() { echo "[setup] warning: $*" >&2; }

# Steps: a name, a number and a time, even with --quiet, so a long setup never looks hung.
STEP_TOTAL=5
STEP_N=0
STEP_NAME=""
STEP_TS=$SECONDS
step() {
  end_step
  STEP_N=$((STEP_N + 1))
  STEP_NAME="$1"
  STEP_TS=$SECONDS
  echo "[setup] [$STEP_N/$STEP_TOTAL] $STEP_NAME"
}
end_step() {
  [[ -n $STEP_NAME ]] && echo "[setup] [$STEP_N/$STEP_TOTAL] $STEP_NAME: done ($((SECONDS - STEP_TS))s)"
  STEP_NAME=""
}
# die WHAT [FIX]: the failing step, its time, what went wrong and how to fix it
die() {
  echo "[setup] error: [$STEP_N/$STEP_TOTAL] ${STEP_NAME:-setup} failed after $((SECONDS - STEP_TS))s: $1" >&2
  [[ -z ${2:-} ]] || echo "[setup] fix: $2" >&2
  exit 1
}

exec </dev/null # never wait for input
export DEBIAN_FRONTEND=noninteractive
IS_ROOT=0
[[ $(id -u) == 0 ]] && IS_ROOT=1
DOCKERD_LOG=/var/log/nanocell-dockerd.log
BUILD_DIR="$REPO_ROOT/build"
SETUP_LOG="$BUILD_DIR/setup.log"
mkdir -p "$BUILD_DIR"
START_TS=$SECONDS

# run_logged DESC CMD...: show output normally; with --quiet keep it in
# build/setup.log and print its tail only on failure. Either way, say every
# 30 s that the step is still running (with --quiet, with the log's last line
# as its progress), so a long step never looks hung.
run_logged() {
  local desc="$1" rc=0 pid t=0
  shift
  if [[ $QUIET == 1 ]]; then
    echo "=== $(date -u +%FT%TZ) $desc: $*" >>"$SETUP_LOG"
    "$@" >>"$SETUP_LOG" 2>&1 &
  else
    "$@" &
  fi
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    t=$((t + 1))
    if ((t % 30 == 0)) && kill -0 "$pid" 2>/dev/null; then
      local last=""
      [[ $QUIET == 1 ]] && last="$(tail -n 1 "$SETUP_LOG" 2>/dev/null | tr -d '\r' | cut -c1-100)"
      echo "[setup]   ... still running: $desc (${t}s)${last:+: $last}"
    fi
  done
  wait "$pid" || rc=$?
  if ((rc != 0)) && [[ $QUIET == 1 ]]; then
    echo "[setup] $desc failed (exit $rc); last lines of $SETUP_LOG:" >&2
    tail -n 30 "$SETUP_LOG" >&2
  fi
  return $rc
}

# ---------------------------------------------------------------------------
# 1. node and npm
# ---------------------------------------------------------------------------
step "node and npm"
node_major() { command -v node >/dev/null 2>&1 && node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
NODE_HOW="Debian 12 and Ubuntu 24.04 ship Node 18, which is too old: install Node 20 or later from NodeSource's apt repository (github.com/nodesource/distributions) or with nvm (nvm install 20), then run this again. Where the distribution's own nodejs is 20 or later (Debian 13), setup as root installs it: sudo apt-get install -y nodejs npm"
if (($(node_major) < 20)) && [[ $IS_ROOT == 1 ]] && command -v apt-cache >/dev/null 2>&1; then
  # the distribution's nodejs, when it is new enough (Debian 13 has 20)
  candidate="$(apt-cache policy nodejs 2>/dev/null | awk '/Candidate:/ { print $2 }')"
  candidate="${candidate#*:}"
  if [[ ${candidate%%.*} =~ ^[0-9]+$ ]] && ((${candidate%%.*} >= 20)); then
    say "installing the distribution's nodejs $candidate"
    run_logged "apt-get install nodejs" timeout 900 apt-get install -y -q --no-install-recommends \
      -o DPkg::Lock::Timeout=120 nodejs npm || die "apt-get install nodejs npm failed" "$NODE_HOW"
  fi
fi
command -v node >/dev/null 2>&1 || die "node not found: nanocell needs Node.js 20 or later" "$NODE_HOW"
NODE_VERSION="$(node -p 'process.versions.node')"
NODE_MAJOR="${NODE_VERSION%%.*}"
((NODE_MAJOR >= 20)) || die "node $NODE_VERSION ($(command -v node)) is too old: nanocell needs Node.js 20 or later" "$NODE_HOW"
command -v npm >/dev/null 2>&1 || die "npm not found" "install npm (sudo apt-get install -y npm, or the npm that comes with your Node 20), then run this again"
say "node $NODE_VERSION, npm $(npm --version 2>/dev/null)"

# ---------------------------------------------------------------------------
# 2. Debian packages
# ---------------------------------------------------------------------------
step "system packages"
PKGS=(bubblewrap python3 make g++ git curl procps iproute2 ca-certificates util-linux)
[[ ${NANOCELL_NO_DOCKER:-0} == 1 ]] || PKGS+=(docker.io)
# podman runs cells with runc (crun fails on cgroup v1 hosts), --init needs catatonit and
# rootless podman (a non-root owner) needs uidmap's newuidmap/newgidmap
[[ ${NANOCELL_NO_PODMAN:-0} == 1 ]] || PKGS+=(podman runc catatonit uidmap)
[[ ${NANOCELL_NO_DOCKER:-0} == 1 || ${NANOCELL_NO_GVISOR:-0} == 1 ]] || PKGS+=(runsc)
# The test suite's own peers (scripts/test.sh sets NANOCELL_TEST_PACKAGES=1): Chromium for the
# dashboard's browser tests, dovecot and postfix for the email channel, systemd-analyze for the
# service unit.
if [[ ${NANOCELL_TEST_PACKAGES:-0} == 1 ]]; then
  PKGS+=(chromium dovecot-imapd postfix systemd)
  # postfix asks how to configure itself; the tests write their own configuration.
  if command -v debconf-set-selections >/dev/null 2>&1 && [[ $IS_ROOT == 1 ]]; then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  fi
fi

if command -v dpkg-query >/dev/null 2>&1; then
  mapfile -t MISSING < <(
    for p in "${PKGS[@]}"; do
      s="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
      [[ $s == installed ]] || echo "$p"
    done
  )
  if ((${#MISSING[@]} == 0)); then
    say "system packages present"
  elif [[ $IS_ROOT == 1 ]]; then
    say "installing system packages: ${MISSING[*]} (apt-get update + install, up to a few minutes)"
    run_logged "apt-get update" timeout 300 apt-get update -q ||
      die "apt-get update failed" "check that the Debian mirror in /etc/apt/sources.list is reachable (the log above says which), then run this again"
    run_logged "apt-get install" timeout 900 apt-get install -y -q --no-install-recommends \
      -o DPkg::Lock::Timeout=120 "${MISSING[@]}" ||
      die "apt-get install failed for: ${MISSING[*]}" "read the log tail above; another apt may hold the lock (wait and run again), or install them by hand: apt-get install -y ${MISSING[*]}"
  else
    die "missing system packages: ${MISSING[*]}" "install them as root, then run this again: sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${MISSING[*]}"
  fi
else
  warn "not a Debian-based system: install yourself: ${PKGS[*]}"
fi

# ---------------------------------------------------------------------------
# 3. npm dependencies and build
# ---------------------------------------------------------------------------
step "npm dependencies and build"
[[ -f package.json ]] || die "package.json not found in $REPO_ROOT" "run this script from a nanocell checkout"

# Offline machines cannot download node headers for native modules; use the
# ones installed next to node when there are any.
if [[ -z ${npm_config_nodedir:-} ]]; then
  node_prefix="$(dirname -- "$(dirname -- "$(readlink -f -- "$(command -v node)")")")"
  if [[ -f $node_prefix/include/node/node_version.h ]] && ! npm config get nodedir 2>/dev/null | grep -q '^/'; then
    export npm_config_nodedir="$node_prefix"
  fi
fi

need_install=""
if [[ ! -d node_modules ]]; then
  need_install="node_modules is missing"
elif [[ ! -f node_modules/.package-lock.json ]]; then
  need_install="node_modules looks incomplete"
elif [[ -f package-lock.json && package-lock.json -nt node_modules/.package-lock.json ]]; then
  need_install="package-lock.json changed"
elif [[ ! -f package-lock.json && package.json -nt node_modules/.package-lock.json ]]; then
  need_install="package.json changed"
fi
if [[ -n $need_install ]]; then
  if grep -q '"better-sqlite3"' package.json package-lock.json 2>/dev/null; then
    say "installing npm dependencies ($need_install); better-sqlite3 compiles from source: a minute or two"
  else
    say "installing npm dependencies ($need_install)"
  fi
  if [[ -f package-lock.json ]]; then
    run_logged "npm ci" timeout 1200 npm ci --no-audit --no-fund ||
      die "npm ci failed" "read the log tail above: a missing compiler needs sudo apt-get install -y make g++ python3; no network to the npm registry needs a proxy (npm config set proxy URL)"
  else
    run_logged "npm install" timeout 1200 npm install --no-audit --no-fund ||
      die "npm install failed" "read the log tail above: a missing compiler needs sudo apt-get install -y make g++ python3"
  fi
  # npm leaves node_modules/.package-lock.json older than package-lock.json
  # when nothing had to change; mark it so the next run skips the install.
  [[ -f node_modules/.package-lock.json ]] && touch node_modules/.package-lock.json
else
  say "npm dependencies up to date"
fi

BUILD_STAMP="$BUILD_DIR/.ts-build.stamp"
if [[ ${NANOCELL_SKIP_BUILD:-0} == 1 ]]; then
  say "skipping npm run build (NANOCELL_SKIP_BUILD=1)"
elif [[ -f $BUILD_STAMP && -d dist && -z "$(find src package.json package-lock.json tsconfig*.json node_modules/.package-lock.json -newer "$BUILD_STAMP" -print -quit 2>/dev/null)" ]]; then
  say "build up to date (nothing changed since the last npm run build)"
else
  say "building (npm run build)"
  run_logged "npm run build" timeout 600 npm run build --silent ||
    die "npm run build failed" "the TypeScript errors are above; run npx tsc -p tsconfig.build.json to see them again"
  touch "$BUILD_STAMP"
fi

# ---------------------------------------------------------------------------
# 4. docker daemon
# ---------------------------------------------------------------------------
step "docker daemon"
DOCKER_UP=0
docker_ok() { timeout 15 docker info >/dev/null 2>&1; }

# does /etc/docker/daemon.json set KEY? (then the same flag must not be passed)
daemon_json_has() {
  [[ -f /etc/docker/daemon.json ]] || return 1
  node -e 'const c=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")||"{}");process.exit(process.argv[2] in c?0:1)' \
    /etc/docker/daemon.json "$1" 2>/dev/null
}

# Add our keys to /etc/docker/daemon.json without touching the others.
write_daemon_json() {
  local want='{}'
  if command -v runsc >/dev/null 2>&1; then
    # --oci-seccomp: runsc applies the container's seccomp profile (nanocell's) inside the sandbox.
    want="{\"runtimes\":{\"runsc\":{\"path\":\"$(command -v runsc)\",\"runtimeArgs\":[\"--network=none\",\"--oci-seccomp\"]}}}"
  fi
  mkdir -p /etc/docker
  node - /etc/docker/daemon.json "$want" <<'EOF'
const fs = require("fs");
const [file, wantJson] = process.argv.slice(2);
const want = JSON.parse(wantJson);
let cur = {};
const exists = fs.existsSync(file);
if (exists) {
  try {
    const text = fs.readFileSync(file, "utf8").trim();
    cur = text ? JSON.parse(text) : {};
  } catch (e) {
    console.log(`[setup] warning: ${file} is not valid JSON, left alone: ${e.message}`);
    process.exit(0);
  }
}
let changed = false;
const merge = (dst, src) => {
  for (const [k, v] of Object.entries(src)) {
    if (!(k in dst)) {
      dst[k] = v;
      changed = true;
    } else if (k === "runtimeArgs" && Array.isArray(v) && Array.isArray(dst[k])) {
      // An older setup's runsc entry gets the flags it lacks; the owner's own stay.
      for (const arg of v) if (!dst[k].includes(arg)) (dst[k].push(arg), (changed = true));
    } else if (v && typeof v === "object" && !Array.isArray(v) && dst[k] && typeof dst[k] === "object") {
      merge(dst[k], v);
    }
  }
};
merge(cur, want);
if (changed || !exists) {
  fs.writeFileSync(file, JSON.stringify(cur, null, 2) + "\n");
  console.log(`[setup] wrote ${file}${"runtimes" in want ? " (gVisor runtime runsc)" : ""}`);
}
EOF
}

# wait_docker PID SECONDS: 0 = up, 2 = dockerd exited, 1 = timed out
wait_docker() {
  local pid="$1" limit="$2" t=0
  while ((t < limit)); do
    docker_ok && return 0
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then return 2; fi
    sleep 1
    t=$((t + 1))
    if ((t % 10 == 0)); then say "  still waiting for dockerd (${t}s of ${limit}s)"; fi
  done
  return 1
}

start_dockerd() {
  local pidfile=/var/run/docker.pid old
  # a dockerd killed earlier leaves its pid file behind, and a new one refuses to start
  if [[ -f $pidfile ]]; then
    old="$(cat "$pidfile" 2>/dev/null || true)"
    if [[ -z $old ]] || ! kill -0 "$old" 2>/dev/null; then rm -f "$pidfile"; fi
  fi
  echo "=== $(date -u +%FT%TZ) scripts/setup.sh: dockerd $*" >>"$DOCKERD_LOG"
  # own session, no stdin, output to the log: survives this script and does
  # not keep any caller's pipes open
  setsid nohup dockerd "$@" >>"$DOCKERD_LOG" 2>&1 </dev/null &
  DOCKERD_PID=$!
}

ensure_docker() {
  if docker_ok; then
    say "docker daemon running"
    return 0
  fi
  if [[ $IS_ROOT != 1 ]]; then
    if timeout 15 docker info 2>&1 | grep -qi 'permission denied'; then
      warn "docker is running but your user may not use its socket: add yourself to the docker group (sudo usermod -aG docker $(id -un)), then log out and in (or run: newgrp docker)"
    else
      warn "docker daemon not reachable and not root: start it with 'sudo systemctl start docker' (or sudo dockerd)"
    fi
    return 1
  fi
  write_daemon_json

  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    say "starting docker (systemctl start docker, waiting up to 60s)"
    timeout 60 systemctl start docker || true
    wait_docker "" 60 && return 0
    warn "systemctl start docker did not bring docker up; see: journalctl -u docker"
    return 1
  fi

  command -v dockerd >/dev/null 2>&1 || {
    warn "the docker client is installed but dockerd is not (apt-get install docker.io)"
    return 1
  }
  local existing
  existing="$(pgrep -x dockerd | head -1 || true)"
  if [[ -n $existing ]]; then
    say "dockerd (pid $existing) is running but not answering yet; waiting up to 60s"
    wait_docker "$existing" 60 && return 0
    return 1
  fi

  # Try the defaults first. If dockerd exits, fall back to what works inside
  # VMs/containers with restricted kernels: no iptables/bridge (cells run with
  # --network none anyway), then the vfs storage driver (no overlayfs).
  local attempts=("") flags rc
  local nonet=() vfs=()
  daemon_json_has iptables || nonet+=(--iptables=false)
  daemon_json_has bridge || nonet+=(--bridge=none)
  daemon_json_has storage-driver || vfs+=(--storage-driver=vfs)
  attempts+=("${nonet[*]}" "${nonet[*]} ${vfs[*]}")
  for flags in "${attempts[@]}"; do
    # shellcheck disable=SC2086 # flags is a list of simple words
    say "starting dockerd${flags:+ $flags} in the background (log: $DOCKERD_LOG; waiting up to 60s)"
    # shellcheck disable=SC2086
    start_dockerd $flags
    rc=0
    wait_docker "$DOCKERD_PID" 60 || rc=$?
    case $rc in
      0)
        say "docker daemon up (pid $DOCKERD_PID)"
        return 0
        ;;
      1)
        warn "dockerd (pid $DOCKERD_PID) still not answering after 60s; left running"
        return 1
        ;;
      2) warn "dockerd exited: $(grep -E 'level=(fatal|error)|failed to start' "$DOCKERD_LOG" | tail -n 1 | cut -c1-300)" ;;
    esac
  done
  return 1
}

# gVisor needs runsc declared in daemon.json; a running dockerd rereads its
# runtimes on SIGHUP (no restart, running containers stay up).
ensure_gvisor() {
  command -v runsc >/dev/null 2>&1 || return 0
  if docker info --format '{{json .Runtimes}}' 2>/dev/null | grep '"runsc"' | grep -q -- '--oci-seccomp'; then
    say "gVisor runtime runsc registered with docker"
    return 0
  fi
  if [[ $IS_ROOT != 1 ]]; then
    warn "runsc is installed but docker does not know it: add it to /etc/docker/daemon.json as root"
    return 0
  fi
  write_daemon_json
  local pid t=0
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker; then
    timeout 60 systemctl reload docker || warn "systemctl reload docker failed"
  else
    pid="$(cat /var/run/docker.pid 2>/dev/null || pgrep -xo dockerd || true)"
    if [[ -n $pid ]]; then kill -HUP "$pid" 2>/dev/null || warn "could not signal dockerd ($pid)"; fi
  fi
  while ((t < 20)); do
    if docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'; then
      say "gVisor runtime runsc registered with docker (daemon.json reloaded)"
      return 0
    fi
    sleep 1
    t=$((t + 1))
  done
  warn "docker did not pick up runsc from /etc/docker/daemon.json; restart dockerd"
}

if [[ ${NANOCELL_NO_DOCKER:-0} == 1 ]]; then
  say "docker skipped (NANOCELL_NO_DOCKER=1)"
elif ! command -v docker >/dev/null 2>&1; then
  say "docker not installed: cells will use bubblewrap only"
elif ensure_docker; then
  DOCKER_UP=1
  ensure_gvisor
else
  if [[ -f $DOCKERD_LOG ]]; then
    echo "[setup] last lines of $DOCKERD_LOG:" >&2
    tail -n 15 "$DOCKERD_LOG" | cut -c1-300 >&2
  fi
  if [[ ${NANOCELL_REQUIRE_DOCKER:-0} == 1 ]]; then
    die "docker daemon could not be started (NANOCELL_REQUIRE_DOCKER=1)" "read the dockerd log tail above; unset NANOCELL_REQUIRE_DOCKER to go on with bwrap only"
  fi
  warn "continuing without docker: cells will use bubblewrap"
fi

# ---------------------------------------------------------------------------
# 5. cell image
# ---------------------------------------------------------------------------
step "cell image"
say "scripts/build-cell-image.sh"
img_args=()
[[ $QUIET == 1 ]] && img_args+=(--quiet)
# without docker, the script still imports the image into podman when it is there

bash "$REPO_ROOT/scripts/build-cell-image.sh" "${img_args[@]}" ||
  die "building the cell image failed" "read the [cell-image] error above; scripts/build-cell-image.sh --force rebuilds from scratch"

# smoke tests: both sandboxes start a shell and node in the cell
ROOTFS="$BUILD_DIR/cell-rootfs"
if command -v bwrap >/dev/null 2>&1; then
  as_cell=()
  [[ $IS_ROOT == 1 ]] && as_cell=(setpriv --reuid=10001 --regid=10001 --clear-groups)
  if out="$(timeout 30 "${as_cell[@]}" bwrap --unshare-all --die-with-parent --new-session --clearenv \
    --setenv PATH /usr/bin:/bin --ro-bind "$ROOTFS" / --proc /proc --dev /dev --tmpfs /tmp \
    /bin/sh -c 'node -e "process.stdout.write(String(process.getuid()))"' 2>&1)"; then
    say "bwrap sandbox ok (uid $out)"
  else
    warn "bwrap could not run the cell: $out"
  fi
fi
UID_PROBE=(node -e 'process.stdout.write(String(process.getuid()))')
# this checkout's versioned image (scripts/build-cell-image.sh records it)
CELL_IMAGE="$(cat "$BUILD_DIR/cell-image.tag" 2>/dev/null || echo nanocell-cell:latest)"
if [[ $DOCKER_UP == 1 ]]; then
  if out="$(timeout 60 docker run --rm --network none --read-only --user 10001:10001 --cap-drop ALL \
    --security-opt no-new-privileges "$CELL_IMAGE" "${UID_PROBE[@]}" 2>&1)"; then
    say "docker sandbox ok (uid $out)"
  else
    warn "docker could not run the cell: $out"
    [[ ${NANOCELL_REQUIRE_DOCKER:-0} == 1 ]] && die "docker cell smoke test failed"
  fi
  if command -v runsc >/dev/null 2>&1; then
    # As cells run under gVisor: with nanocell's profile for it (runsc applies it, --oci-seccomp).
    gvisor_profile="$(node --input-type=module -e "import('$REPO_ROOT/dist/cells/seccomp-profile.js').then((m) => process.stdout.write(m.writeSeccompProfile(process.arch, undefined, 'gvisor')))" 2>/dev/null || true)"
    gvisor_opts=()
    [[ -n $gvisor_profile ]] && gvisor_opts=(--security-opt "seccomp=$gvisor_profile")
    if out="$(timeout 60 docker run --rm --runtime runsc --network none --read-only --user 10001:10001 \
      --cap-drop ALL "${gvisor_opts[@]}" "$CELL_IMAGE" "${UID_PROBE[@]}" 2>&1)"; then
      say "gVisor sandbox ok (uid $out)"
    else
      warn "docker with runsc (gVisor) could not run the cell: $(tail -n 1 <<<"$out")"
    fi
    [[ -n $gvisor_profile ]] && rm -rf "$(dirname "$gvisor_profile")"
  fi
fi
if command -v podman >/dev/null 2>&1; then
  if out="$(timeout 60 podman run --rm --runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
    --network none --read-only --user 10001:10001 --cap-drop ALL "$CELL_IMAGE" "${UID_PROBE[@]}" 2>&1)"; then
    say "podman sandbox ok (uid $out)"
  else
    warn "podman could not run the cell: $(tail -n 1 <<<"$out")"
  fi
  if [[ $IS_ROOT != 1 ]]; then
    if ! command -v newuidmap >/dev/null 2>&1; then
      warn "rootless podman needs newuidmap/newgidmap: sudo apt-get install -y uidmap"
    elif ! grep -q "^$(id -un):" /etc/subuid 2>/dev/null; then
      warn "rootless podman needs subordinate ids for $(id -un): sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $(id -un)"
    fi
  fi
fi
# Without a cgroup of its own, bwrap limits each process (rlimits), not a cell as a whole.
if [[ $IS_ROOT != 1 ]] && command -v bwrap >/dev/null 2>&1; then
  own_cgroup="/sys/fs/cgroup$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup 2>/dev/null)"
  if [[ ! -w $own_cgroup ]]; then
    warn "bwrap cells: without a delegated cgroup, a cell's CPU and total memory are not limited (only per-process rlimits); run nanocell as a systemd service with Delegate=yes, or: systemd-run --user -p Delegate=yes --scope ./nanocell start"
  fi
fi

end_step
echo "[setup] done in $((SECONDS - START_TS))s"
