#!/usr/bin/env bash
# Build the nanocell "cell" root filesystem offline, from the host's own
# binaries, into build/cell-rootfs/, and (when a docker daemon is reachable)
# import it as the docker image nanocell-cell:<version> + nanocell-cell:latest,
# and the same into podman when podman is installed.
#
# <version> is a content hash. The tag this checkout built is recorded in
# build/cell-image.tag, and nanocell's default NANOCELL_CELL_IMAGE is that tag, so
# two checkouts on one machine each run their own image (`latest` is only the
# last one built). Each checkout also holds a claim tag nanocell-cell:co-<id>
# (<id> from its path) on its image; an older version is removed only when no
# checkout's claim points at it, so one checkout never untags another's image.
#
# Nothing is downloaded: every file comes from the host (Debian 12 packages
# already installed, plus the host's node). The version is a content hash of
# every input file and of this script, so the build is skipped when nothing
# changed (stamp: build/cell-rootfs.stamp).
#
# Usage: scripts/build-cell-image.sh [--rootfs-only] [--force] [--quiet]
#   --rootfs-only  build the rootfs only; never touch docker or podman
#   --force        rebuild the rootfs and re-import the image even if up to date
#   --quiet        print only warnings and errors
#
# Per-group packages: each file NANOCELL_CONFIG_DIR/cell-packages/GROUP (default
# ~/.config/nanocell/cell-packages/GROUP) lists Debian packages, one a line (# comments).
# Their files, copied from the host's installed packages with the libraries they need,
# are merged over the base into build/cell-groups/GROUP/rootfs (that group's bwrap root)
# and imported as nanocell-cell:<hash>-GROUP; build/cell-groups.json tells nanocell which
# group runs which. A package not installed on the host is refused: apt-get install it.
#
# The same rootfs serves every sandbox: bubblewrap binds it read-only as "/",
# docker, podman and gVisor run the imported image. Users with a registry can build
# the equivalent image from src/cells/image/Dockerfile instead.
set -euo pipefail

SCRIPT_PATH="$(readlink -f -- "${BASH_SOURCE[0]}")"
REPO_ROOT="$(cd -- "$(dirname -- "$SCRIPT_PATH")/.." && pwd -P)"
# NANOCELL_CELL_BUILD_DIR: build elsewhere (the tests do); nanocell reads <checkout>/build
BUILD_DIR="${NANOCELL_CELL_BUILD_DIR:-$REPO_ROOT/build}"
ROOTFS="$BUILD_DIR/cell-rootfs"
STAMP="$BUILD_DIR/cell-rootfs.stamp"
IMAGE_REPO="nanocell-cell"
CELL_UID=10001
CELL_GID=10001

ROOTFS_ONLY=0
FORCE=0
QUIET=0
for arg in "$@"; do
  case "$arg" in
    --rootfs-only) ROOTFS_ONLY=1 ;;
    --force) FORCE=1 ;;
    --quiet | -q) QUIET=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$SCRIPT_PATH" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "[cell-image] unknown option: $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

say() { [[ $QUIET == 1 ]] || echo "[cell-image] $*"; }
warn() { echo "[cell-image] warning: $*" >&2; }
die() {
  echo "[cell-image] error: $*" >&2
  exit 1
}

export LC_ALL=C

# ---------------------------------------------------------------------------
# 1. Host packages the rootfs is assembled from.
# ---------------------------------------------------------------------------
# package -> a file that proves it is installed
declare -A NEED_PKG=(
  [bash]=/bin/bash
  [dash]=/bin/dash
  [coreutils]=/bin/ls
  [grep]=/bin/grep
  [sed]=/bin/sed
  [findutils]=/usr/bin/find
  [diffutils]=/usr/bin/diff
  [tar]=/bin/tar
  [gzip]=/bin/gzip
  [debianutils]=/usr/bin/which
  [procps]=/bin/ps
  [git]=/usr/bin/git
  [curl]=/usr/bin/curl
  [ca-certificates]=/etc/ssl/certs/ca-certificates.crt
  [python3]=/usr/bin/python3
  [jq]=/usr/bin/jq
  [sqlite3]=/usr/bin/sqlite3
  [ripgrep]=/usr/bin/rg
  [unzip]=/usr/bin/unzip
  [zip]=/usr/bin/zip
  [file]=/usr/bin/file
  [less]=/usr/bin/less
  [gawk]=/usr/bin/gawk
  [xz-utils]=/usr/bin/xz
)

command -v dpkg >/dev/null 2>&1 || die "dpkg not found: this script builds the cell rootfs from a Debian/Ubuntu host's packages"

missing=()
for pkg in "${!NEED_PKG[@]}"; do
  if [[ ! -e ${NEED_PKG[$pkg]} ]]; then missing+=("$pkg"); fi
done
if ! command -v awk >/dev/null 2>&1; then missing+=(mawk); fi
if ((${#missing[@]})); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "installing host packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! timeout 600 apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
      say "apt-get install failed; refreshing package lists (apt-get update) and retrying"
      timeout 300 apt-get update -q >/dev/null || die "apt-get update failed"
      timeout 600 apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
        die "could not install: ${missing[*]}"
    fi
  else
    die "missing host packages; run as root: DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  fi
fi

NODE_BIN="$(command -v node || true)"
[[ -n $NODE_BIN ]] || die "node not found on PATH (need node >= 20 on the host; it is copied into the cell)"
NODE_BIN="$(readlink -f -- "$NODE_BIN")"

# ---------------------------------------------------------------------------
# 2. Collect the file list: what goes where, with every shared library.
# ---------------------------------------------------------------------------
say "collecting input files"

declare -A ENTRY=()    # dest path -> "F <src>" | "L <target>" | "D"
declare -A DIRCACHE=() # dir -> dir with symlinks resolved
ELF_TOP=()             # ELF files whose shared libraries must come along

# canon PATH -> $CANON: symlinks resolved in the directory part only
# (merged-usr: /bin/cat -> /usr/bin/cat). Builtins only: this runs ~500 times.
canon() {
  local d="${1%/*}" b="${1##*/}"
  [[ -n $d ]] || d=/
  [[ -n ${DIRCACHE[$d]+x} ]] || DIRCACHE[$d]="$(readlink -f -- "$d")"
  d="${DIRCACHE[$d]}"
  [[ $d != / ]] || d=""
  CANON="$d/$b"
}

is_elf() {
  local magic=""
  IFS= read -r -N 4 magic <"$1" 2>/dev/null || true
  [[ $magic == $'\x7fELF' ]]
}

# add_path SRC [DEST] [nolibs]
#   symlink  -> copy its final target, recreate the link (relative, flattened)
#   file     -> copy; ELF files also pull in what `ldd` lists (incl. loader)
add_path() {
  local src="$1" dest="${2:-}" libs="${3:-libs}" c real rel
  canon "$src"
  c="$CANON"
  [[ -n $dest ]] || dest="$c"
  [[ -z ${ENTRY[$dest]:-} ]] || return 0
  if [[ -L $c ]]; then
    real="$(readlink -f -- "$c")"
    [[ -e $real ]] || die "dangling symlink: $c"
    [[ -d $real ]] && die "symlink to a directory is not supported: $c"
    if [[ $dest != "$c" ]]; then # explicit destination: copy the target there
      add_path "$real" "$dest" "$libs"
      return 0
    fi
    add_path "$real" "" "$libs"
    if [[ ${real%/*} == "${dest%/*}" ]]; then
      rel="${real##*/}"
    else
      rel="$(realpath -s -m --relative-to="${dest%/*}" -- "$real")"
    fi
    ENTRY[$dest]="L $rel"
  elif [[ -f $c ]]; then
    ENTRY[$dest]="F $c"
    if [[ $libs == libs ]] && is_elf "$c"; then ELF_TOP+=("$c"); fi
  elif [[ -e $c ]]; then
    die "not a regular file or symlink: $c"
  else
    die "missing input file: $src"
  fi
}

# add_tree DIR [exclude-name-pattern...]: a whole directory, preserving empty dirs; an
# excluded name leaves out that file or that whole subdirectory
add_tree() {
  local dir="$1" p x prune=()
  shift
  [[ -d $dir ]] || die "missing input directory: $dir"
  dir="$(readlink -f -- "$dir")"
  for x in "$@"; do prune+=(${prune[@]:+-o} -name "$x"); done
  ((${#prune[@]})) || prune=(-false)
  while IFS= read -r -d '' p; do
    if [[ -d $p && ! -L $p ]]; then
      ENTRY[$p]="D"
    else
      add_path "$p"
    fi
  done < <(find "$dir" \( "${prune[@]}" \) -prune -o -print0)
}

# every shared library (and the dynamic loader) of the collected ELF files,
# resolved by one batched `ldd` run
add_all_libs() {
  local out lib
  ((${#ELF_TOP[@]})) || return 0
  out="$(printf '%s\0' "${ELF_TOP[@]}" | xargs -0 ldd -- 2>&1 || true)"
  if grep -q 'not found' <<<"$out"; then
    die "unresolved shared libraries:"$'\n'"$(grep -E ':$|not found' <<<"$out" | grep -B1 'not found')"
  fi
  while read -r lib; do
    [[ -n $lib ]] && add_path "$lib" "" nolibs
  done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// && $1 !~ /:$/ { print $1 }' <<<"$out" | sort -u)
}

pkg_bins() {
  dpkg -L "$1" 2>/dev/null | grep -E '^(/usr)?/s?bin/[^/]+$' || true
}

for pkg in coreutils grep sed findutils diffutils tar gzip; do
  while read -r f; do
    # rmt/tarcat-style helpers in sbin are not wanted; dpkg also lists
    # diverted/absent paths now and then, so skip what is not there.
    [[ -e $f || -L $f ]] || continue
    case "$f" in */sbin/rmt-tar | */sbin/tarcat | */sbin/rmt) continue ;; esac
    add_path "$f"
  done < <(pkg_bins "$pkg")
done
while read -r f; do
  case "$f" in */sbin/*) continue ;; esac
  [[ -e $f || -L $f ]] && add_path "$f"
done < <(pkg_bins procps)

add_path /bin/bash
add_path /bin/dash
ENTRY[/usr/bin/sh]="L dash"
# awk is gawk (what most scripts expect)
add_path /usr/bin/gawk
ENTRY[/usr/bin/awk]="L gawk"
which_real="$(readlink -f -- /usr/bin/which)"
add_path "$which_real"
ENTRY[/usr/bin/which]="L $(basename -- "$which_real")"
add_path /usr/bin/curl
add_path /usr/bin/git
# git's helpers and templates; server-side / rarely used big binaries are left out.
add_tree /usr/lib/git-core git-daemon git-http-backend git-http-push git-http-fetch \
  git-imap-send git-shell scalar git-instaweb
add_tree /usr/share/git-core/templates
add_path /etc/ssl/certs/ca-certificates.crt
# OpenSSL's default paths (python's ssl, git over https) point here
ENTRY[/usr/lib/ssl/cert.pem]="L ../../../etc/ssl/certs/ca-certificates.crt"
ENTRY[/usr/lib/ssl/certs]="L ../../../etc/ssl/certs"
# The everyday tools an agent reaches for
for f in /usr/bin/jq /usr/bin/sqlite3 /usr/bin/rg /usr/bin/unzip /usr/bin/zip /usr/bin/file \
  /usr/bin/less /usr/bin/lesspipe; do
  add_path "$f"
done
while read -r f; do
  [[ -e $f || -L $f ]] && add_path "$f"
done < <(pkg_bins xz-utils)
add_path /usr/lib/file/magic.mgc
ENTRY[/usr/share/misc/magic.mgc]="L ../../lib/file/magic.mgc"
# python3 with its standard library, minus test suites, bytecode caches, the GUI
# toolkits and the bundled pip wheels
py_real="$(readlink -f -- /usr/bin/python3)"
py_name="${py_real##*/}"
add_path "$py_real"
ENTRY[/usr/bin/python3]="L $py_name"
ENTRY[/usr/bin/python]="L $py_name"
add_tree "/usr/lib/$py_name" test tests idle_test __pycache__ idlelib tkinter turtledemo \
  ensurepip "config-*" EXTERNALLY-MANAGED "*.pyc"
add_path "$NODE_BIN" /usr/bin/node
# Small extras that keep things working: the C.UTF-8 locale and terminfo
# (bash line editing, top, watch).
[[ -d /usr/lib/locale/C.utf8 ]] && add_tree /usr/lib/locale/C.utf8
[[ -d /usr/lib/terminfo ]] && add_tree /usr/lib/terminfo
add_all_libs

# ---------------------------------------------------------------------------
# 3. Version = hash of (this script, the file list, every input's content).
# ---------------------------------------------------------------------------
MANIFEST="$(for d in "${!ENTRY[@]}"; do printf '%s %s\n' "$d" "${ENTRY[$d]}"; done | sort)"
FILE_SRCS="$(awk '$2 == "F" { print $3 }' <<<"$MANIFEST" | sort -u)"
mapfile -t SRC_LIST <<<"$FILE_SRCS"
declare -A SRC_SUM=() SRC_MODE=()
while read -r sum path; do SRC_SUM[$path]="$sum"; done < <(printf '%s\0' "${SRC_LIST[@]}" | xargs -0 sha256sum --)
while read -r mode path; do SRC_MODE[$path]="$mode"; done < <(printf '%s\0' "${SRC_LIST[@]}" | xargs -0 stat -c '%a %n' --)
HASH="$({
  sha256sum <"$SCRIPT_PATH"
  printf '%s\n' "$MANIFEST"
  for s in "${SRC_LIST[@]}"; do printf '%s %s %s\n' "${SRC_SUM[$s]}" "${SRC_MODE[$s]}" "$s"; done
} | sha256sum | cut -c1-64)"
VERSION="${HASH:0:12}"
NODE_VERSION="$("$NODE_BIN" --version)"
say "version $VERSION ($(wc -l <<<"$MANIFEST") entries, node $NODE_VERSION)"

# ---------------------------------------------------------------------------
# 4. Build the rootfs (skipped when the stamp matches).
# ---------------------------------------------------------------------------
stamp_version() { [[ -f $STAMP ]] && sed -n 's/^version=//p' "$STAMP" | head -1 || true; }

if [[ $FORCE == 0 && -d $ROOTFS && -x $ROOTFS/usr/bin/node && "$(stamp_version)" == "$VERSION" ]]; then
  say "rootfs up to date: $ROOTFS"
else
  mkdir -p "$BUILD_DIR"
  TMP_ROOT="$(mktemp -d "$BUILD_DIR/.cell-rootfs.tmp.XXXXXX")"
  trap 'rm -rf -- "$TMP_ROOT"' EXIT
  chmod 0755 "$TMP_ROOT"
  say "building rootfs in $ROOTFS"

  # merged-usr layout
  mkdir -p "$TMP_ROOT"/usr/{bin,sbin,lib,lib64}
  ln -s usr/bin "$TMP_ROOT/bin"
  ln -s usr/sbin "$TMP_ROOT/sbin"
  ln -s usr/lib "$TMP_ROOT/lib"
  ln -s usr/lib64 "$TMP_ROOT/lib64"

  # directories first, then files (identical files become hard links), then links
  while read -r dest kind rest; do
    [[ $kind == D ]] && mkdir -p -- "$TMP_ROOT$dest"
  done <<<"$MANIFEST"
  declare -A BY_SUM=()
  while read -r dest kind src; do
    [[ $kind == F ]] || continue
    mkdir -p -- "$TMP_ROOT$(dirname -- "$dest")"
    key="${SRC_SUM[$src]}:${SRC_MODE[$src]}"
    if [[ -n ${BY_SUM[$key]:-} ]]; then
      ln -- "$TMP_ROOT${BY_SUM[$key]}" "$TMP_ROOT$dest"
    else
      cp -p -- "$src" "$TMP_ROOT$dest"
      BY_SUM[$key]="$dest"
    fi
  done <<<"$MANIFEST"
  while read -r dest kind target; do
    [[ $kind == L ]] || continue
    mkdir -p -- "$TMP_ROOT$(dirname -- "$dest")"
    ln -sfn -- "$target" "$TMP_ROOT$dest"
  done <<<"$MANIFEST"

  # configuration
  say "writing /etc files"
  mkdir -p "$TMP_ROOT"/{etc,tmp,var/tmp,run,run/nanocell,root,home/cell,workspace/group,workspace/global,workspace/extra,opt/nanocell,proc,dev,sys}
  chmod 1777 "$TMP_ROOT/tmp" "$TMP_ROOT/var/tmp"
  chmod 0700 "$TMP_ROOT/root"
  cat >"$TMP_ROOT/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/bash
cell:x:$CELL_UID:$CELL_GID::/home/cell:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  cat >"$TMP_ROOT/etc/group" <<EOF
root:x:0:
cell:x:$CELL_GID:
nogroup:x:65534:
EOF
  cat >"$TMP_ROOT/etc/nsswitch.conf" <<'EOF'
passwd:   files
group:    files
shadow:   files
hosts:    files dns
networks: files
protocols: files
services: files
EOF
  cat >"$TMP_ROOT/etc/hosts" <<'EOF'
127.0.0.1	localhost
::1	localhost
EOF
  echo cell >"$TMP_ROOT/etc/hostname"
  : >"$TMP_ROOT/etc/resolv.conf"
  # Workspaces are bind-mounted from the host and owned by another uid;
  # git would refuse them as "dubious ownership" without this.
  cat >"$TMP_ROOT/etc/gitconfig" <<'EOF'
[safe]
	directory = *
[init]
	defaultBranch = main
EOF
  cat >"$TMP_ROOT/etc/os-release" <<EOF
NAME="nanocell cell"
ID=nanocell-cell
ID_LIKE=debian
VERSION_ID=$VERSION
PRETTY_NAME="nanocell cell $VERSION"
BUILD_HASH=$HASH
BUILT_FROM="host binaries ($(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}" || echo unknown))"
NODE_VERSION=$NODE_VERSION
CELL_UID=$CELL_UID
EOF
  ln -s os-release "$TMP_ROOT/etc/nanocell-cell"
  if [[ $(id -u) == 0 ]]; then
    chown -R 0:0 "$TMP_ROOT"
    chown "$CELL_UID:$CELL_GID" "$TMP_ROOT/home/cell"
  else
    # cannot chown as a normal user: leave home writable for the cell uid
    chmod 1777 "$TMP_ROOT/home/cell"
  fi

  # quick sanity check: the copied node and git start with only the rootfs libs
  if command -v bwrap >/dev/null 2>&1 &&
    bwrap --unshare-all --die-with-parent --ro-bind "$TMP_ROOT" / --proc /proc --dev /dev \
      --tmpfs /tmp /bin/sh -c 'true' >/dev/null 2>&1; then
    bwrap --unshare-all --die-with-parent --ro-bind "$TMP_ROOT" / --proc /proc --dev /dev --tmpfs /tmp \
      --setenv PATH /usr/bin:/bin /bin/bash -c 'node -e 0 && git --version && curl --version && ps -p 1 && awk "BEGIN{}" && which ls && python3 -c "import ssl, sqlite3, json, zlib" && jq --version && sqlite3 --version && rg --version && file /bin/sh && xz --version && unzip -v && zip -v' \
      >/dev/null 2>&1 || die "sanity check failed inside the new rootfs (node/git/curl/ps/awk/which/python3/jq/sqlite3/rg/file/xz/unzip/zip)"
    say "sanity check passed (bwrap)"
  else
    # fall back to the dynamic loader with the rootfs libraries only
    "$TMP_ROOT/usr/lib64/ld-linux-x86-64.so.2" --library-path "$TMP_ROOT/usr/lib/x86_64-linux-gnu" \
      "$TMP_ROOT/usr/bin/node" -e 0 2>/dev/null || warn "could not sanity-check node inside the rootfs"
  fi

  rm -rf -- "$ROOTFS"
  mv -- "$TMP_ROOT" "$ROOTFS"
  trap - EXIT
  printf 'version=%s\nhash=%s\nnode=%s\n' "$VERSION" "$HASH" "$NODE_VERSION" >"$STAMP"
  say "rootfs ready: $ROOTFS ($(du -sh "$ROOTFS" | cut -f1))"
fi

# ---------------------------------------------------------------------------
# 4b. Per-group layers: the packages the owner lists in
#     NANOCELL_CONFIG_DIR/cell-packages/GROUP, copied from the host's installed
#     packages (dpkg -L, plus the shared libraries they need) on top of the base into
#     build/cell-groups/GROUP/rootfs (hard links to the base's files: cheap), which is
#     that group's bwrap root and what its docker/podman image is imported from.
#     bubblewrap 0.8 (Debian 12) has no --overlay-src, hence a merged tree.
# ---------------------------------------------------------------------------
# shellcheck source=scripts/cell-packages.sh
source "$REPO_ROOT/scripts/cell-packages.sh"
CONFIG_DIR="${NANOCELL_CONFIG_DIR:-$HOME/.config/nanocell}"
PACKAGES_DIR="$CONFIG_DIR/cell-packages"
GROUPS_DIR="$BUILD_DIR/cell-groups"
GROUPS_MANIFEST="$BUILD_DIR/cell-groups.json"
GROUP_NAMES=()
declare -A GROUP_VERSION=()

# add_package_path PATH: a file from a package; links to directories stay links
add_package_path() {
  local c
  canon "$1"
  c="$CANON"
  [[ -z ${ENTRY[$c]:-} ]] || return 0
  if [[ -L $c ]]; then
    [[ -e $c ]] || return 0 # dangling in the host's own install: nothing to copy
    if [[ -d $c ]]; then
      ENTRY[$c]="L $(readlink -- "$c")"
      return 0
    fi
  fi
  add_path "$c"
}

build_group_layer() {
  local group="$1" f k manifest hash version dest kind src dir tmp
  local -a layer=()
  ELF_TOP=()
  while IFS= read -r f; do add_package_path "$f"; done < <(cell_package_files "${CELL_PACKAGES[@]}")
  add_all_libs
  for k in "${!ENTRY[@]}"; do [[ -n ${BASE_ENTRY[$k]+x} ]] || layer+=("$k"); done
  manifest="$(for k in "${layer[@]}"; do printf '%s %s\n' "$k" "${ENTRY[$k]}"; done | sort)"
  hash="$({
    printf '%s\n%s\n' "$HASH" "$manifest"
    awk '$2 == "F" { print $3 }' <<<"$manifest" | sort -u | tr '\n' '\0' | xargs -0 -r sha256sum --
  } | sha256sum | cut -c1-12)"
  version="$hash-$group"
  GROUP_NAMES+=("$group")
  GROUP_VERSION[$group]="$version"
  dir="$GROUPS_DIR/$group"
  if [[ $FORCE == 0 && -x $dir/rootfs/usr/bin/node && "$(cat "$dir/version" 2>/dev/null || true)" == "$version" ]]; then
    say "group $group: layer up to date (${CELL_PACKAGES[*]})"
  else
    say "group $group: building its layer (${#layer[@]} files from ${CELL_PACKAGES[*]})"
    mkdir -p "$GROUPS_DIR"
    tmp="$(mktemp -d "$GROUPS_DIR/.$group.tmp.XXXXXX")"
    trap 'rm -rf -- "$tmp"' EXIT
    cp -al -- "$ROOTFS" "$tmp/rootfs"
    # new inodes for every layer file (--remove-destination): a hard-linked base file is
    # never written through
    while read -r dest kind src; do
      [[ -n $dest ]] || continue
      mkdir -p -- "$tmp/rootfs$(dirname -- "$dest")"
      case "$kind" in
        D) mkdir -p -- "$tmp/rootfs$dest" ;;
        F) cp -p --remove-destination -- "$src" "$tmp/rootfs$dest" ;;
        L) rm -rf -- "$tmp/rootfs$dest" && ln -s -- "$src" "$tmp/rootfs$dest" ;;
      esac
    done <<<"$manifest"
    printf 'CELL_PACKAGES="%s"\n' "${CELL_PACKAGES[*]}" >"$tmp/rootfs/etc/nanocell-cell-packages"
    printf '%s\n' "$version" >"$tmp/version"
    rm -rf -- "$dir"
    mv -- "$tmp" "$dir"
    trap - EXIT
    say "group $group: rootfs ready: $dir/rootfs"
  fi
  for k in "${layer[@]}"; do unset "ENTRY[$k]"; done
}

declare -A BASE_ENTRY=()
for k in "${!ENTRY[@]}"; do BASE_ENTRY[$k]="${ENTRY[$k]}"; done
if [[ -d $PACKAGES_DIR ]]; then
  for file in "$PACKAGES_DIR"/*; do
    [[ -e $file || -L $file ]] || continue
    group="${file##*/}"
    [[ $group =~ $CELL_GROUP_NAME_RE ]] ||
      die "$file: the file name must be a group's name (lowercase letters, digits, - and _; at most 63)"
    read_cell_packages "$file"
    if ((${#CELL_PACKAGES[@]} == 0)); then
      say "group $group: no packages listed; it runs the base image"
      continue
    fi
    check_cell_packages_installed "$group" "${CELL_PACKAGES[@]}"
    build_group_layer "$group"
  done
fi
# layers of groups no longer listed go
if [[ -d $GROUPS_DIR ]]; then
  for dir in "$GROUPS_DIR"/*; do
    [[ -d $dir ]] || continue
    [[ -n ${GROUP_VERSION[${dir##*/}]+x} ]] || rm -rf -- "$dir"
  done
fi
[[ $REPO_ROOT != *[\"\\]* ]] || die "the checkout path must not contain \" or \\: $REPO_ROOT"
# src/config.ts reads this: each listed group's rootfs (bwrap) and image (docker, podman)
{
  printf '{"groups":{'
  sep=""
  for group in "${GROUP_NAMES[@]}"; do
    printf '%s"%s":{"rootfs":"%s","image":"%s:%s"}' "$sep" "$group" "$GROUPS_DIR/$group/rootfs" \
      "$IMAGE_REPO" "${GROUP_VERSION[$group]}"
    sep=","
  done
  printf '}}\n'
} >"$GROUPS_MANIFEST"

# ---------------------------------------------------------------------------
# 5. Images for docker and podman (each only when it answers): the same rootfs,
#    imported offline with the same metadata, tagged <version> and latest.
# ---------------------------------------------------------------------------
if [[ $ROOTFS_ONLY == 1 ]]; then
  say "skipping docker and podman (--rootfs-only)"
  exit 0
fi

IMAGE="$IMAGE_REPO:$VERSION"
IMAGE_TAG_FILE="$BUILD_DIR/cell-image.tag"
CHECKOUT_ID="$(printf '%s' "$REPO_ROOT" | sha256sum | cut -c1-12)"
CLAIM="$IMAGE_REPO:co-$CHECKOUT_ID"
IMPORT_CHANGES=(
  --change "USER $CELL_UID"
  --change 'WORKDIR /workspace/group'
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin'
  --change 'ENV HOME=/home/cell'
  --change 'ENV LANG=C.UTF-8'
  --change 'CMD ["/bin/bash"]'
)

# rootfs_tar [DIR]: the base rootfs, or a group's, as a tar stream
rootfs_tar() {
  local tar_owner=()
  [[ $(id -u) == 0 ]] || tar_owner=(--owner=0 --group=0)
  tar -C "${1:-$ROOTFS}" --numeric-owner "${tar_owner[@]}" -c .
}

# import_group_images ENGINE: each group's image, imported from its merged rootfs
import_group_images() {
  local engine="$1" group ref quiet=() prefix=""
  if [[ $engine == podman ]]; then
    prefix="localhost/"
    quiet=(--quiet)
  fi
  for group in "${GROUP_NAMES[@]}"; do
    ref="$IMAGE_REPO:${GROUP_VERSION[$group]}"
    if [[ $FORCE == 0 ]] && "$engine" image inspect "$prefix$ref" >/dev/null 2>&1; then
      say "$engine: group image up to date: $ref"
      continue
    fi
    say "importing $ref into $engine"
    rootfs_tar "$GROUPS_DIR/$group/rootfs" | timeout 600 "$engine" import "${quiet[@]}" "${IMPORT_CHANGES[@]}" \
      --message "nanocell cell $VERSION for group $group" - "$ref" >/dev/null ||
      die "$engine import of $ref failed"
  done
  for group in "${GROUP_NAMES[@]}"; do
    # this checkout's claim on the group's image, as for the base (cell-image-tags.sh)
    "$engine" tag "$prefix$IMAGE_REPO:${GROUP_VERSION[$group]}" "$CLAIM-$group" || die "$engine tag failed"
    drop_unclaimed_group_versions "$engine" "$group"
  done
}

# drop_unclaimed_group_versions ENGINE GROUP: older <hash>-GROUP images no checkout claims
drop_unclaimed_group_versions() {
  local engine="$1" group="$2" tag id claimed
  claimed="$("$engine" images "$IMAGE_REPO" --format '{{.Tag}} {{.ID}}' 2>/dev/null |
    awk -v g="$group" '$1 ~ /^co-[0-9a-f]+-/ && substr($1, index($1, "-") + 1) ~ ("^[0-9a-f]+-" g "$") { print $2 }' | sort -u || true)"
  while read -r tag id; do
    [[ $tag == *"-$group" && ${tag%-"$group"} =~ ^[0-9a-f]{12}$ && $tag != "${GROUP_VERSION[$group]}" ]] || continue
    if grep -qxF -- "$id" <<<"$claimed"; then
      say "$engine: kept $IMAGE_REPO:$tag (another checkout on this machine uses it)"
      continue
    fi
    "$engine" rmi "$IMAGE_REPO:$tag" >/dev/null 2>&1 && say "$engine: removed old image $IMAGE_REPO:$tag" || true
  done < <("$engine" images "$IMAGE_REPO" --format '{{.Tag}} {{.ID}}' 2>/dev/null || true)
}

# import_image ENGINE and the version tags (scripts/cell-image-tags.sh)
# shellcheck source=scripts/cell-image-tags.sh
source "$REPO_ROOT/scripts/cell-image-tags.sh"

if ! command -v docker >/dev/null 2>&1; then
  say "docker not installed: skipping its image (bwrap cells still work)"
elif ! timeout 20 docker info >/dev/null 2>&1; then
  say "docker daemon not reachable: skipping its image (bwrap cells still work)"
else
  import_image docker
  import_group_images docker
fi

if ! command -v podman >/dev/null 2>&1; then
  say "podman not installed: skipping its image"
elif ! timeout 60 podman info >/dev/null 2>&1; then
  warn "podman is installed but \`podman info\` fails: skipping its image"
else
  import_image podman
  import_group_images podman
fi

# nanocell's default NANOCELL_CELL_IMAGE (src/config.ts reads this file)
printf '%s\n' "$IMAGE" >"$IMAGE_TAG_FILE"
say "this checkout's cell image: $IMAGE (recorded in $IMAGE_TAG_FILE)"
