# Sourced by scripts/build-cell-image.sh (and its test): import the cell image into
# docker or podman and keep its tags. Expects IMAGE_REPO, IMAGE (repo:version), VERSION,
# CLAIM (this checkout's claim tag), FORCE, IMPORT_CHANGES, NODE_VERSION and the functions
# say, die and rootfs_tar.
#
# Tags: IMAGE_REPO:<version> (a content hash; what this checkout runs), IMAGE_REPO:latest
# (the last one built on this machine) and IMAGE_REPO:co-<checkout id> (this checkout's
# claim). An older version is removed only when no checkout's claim points at it.

# import_image ENGINE: docker or podman; import, tag latest, drop older versions
import_image() {
  local engine="$1" ref="$IMAGE" tag quiet=()
  # podman names local images localhost/NAME (docker has no such prefix) and
  # prints its progress unless told not to
  if [[ $engine == podman ]]; then
    ref="localhost/$IMAGE"
    quiet=(--quiet)
  fi
  if [[ $FORCE == 0 ]] && "$engine" image inspect "$ref" >/dev/null 2>&1; then
    say "$engine image up to date: $IMAGE"
  else
    say "importing $IMAGE into $engine"
    rootfs_tar | timeout 600 "$engine" import "${quiet[@]}" "${IMPORT_CHANGES[@]}" \
      --message "nanocell cell $VERSION (host binaries, node $NODE_VERSION)" \
      - "$IMAGE" >/dev/null || die "$engine import failed"
  fi
  "$engine" tag "$ref" "$IMAGE_REPO:latest" || die "$engine tag failed"
  "$engine" tag "$ref" "$CLAIM" || die "$engine tag failed"
  say "$engine: tagged $IMAGE_REPO:latest and this checkout's $CLAIM -> $IMAGE ($("$engine" image inspect --format '{{.Size}}' "$ref" 2>/dev/null | awk '{ printf "%d MB", $1 / 1000000 }'))"
  drop_unclaimed_versions "$engine"
}

# drop_unclaimed_versions ENGINE: remove older version tags no checkout's claim
# tag points at (best effort: an image still used by a container stays)
drop_unclaimed_versions() {
  local engine="$1" tag id claimed
  claimed="$("$engine" images "$IMAGE_REPO" --format '{{.Tag}} {{.ID}}' 2>/dev/null |
    awk '$1 ~ /^co-[0-9a-f]+$/ { print $2 }' | sort -u || true)"
  while read -r tag id; do
    [[ $tag =~ ^[0-9a-f]{12}$ && $tag != "$VERSION" ]] || continue
    if grep -qxF -- "$id" <<<"$claimed"; then
      say "$engine: kept $IMAGE_REPO:$tag (another checkout on this machine uses it)"
      continue
    fi
    "$engine" rmi "$IMAGE_REPO:$tag" >/dev/null 2>&1 && say "$engine: removed old image $IMAGE_REPO:$tag" || true
  done < <("$engine" images "$IMAGE_REPO" --format '{{.Tag}} {{.ID}}' 2>/dev/null || true)
}

