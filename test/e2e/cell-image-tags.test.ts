import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

// A docker stand-in that keeps "tag id" lines in a file: import makes a new image id,
// tag points a tag at a tag's image, rmi drops a tag, images lists them.
const FAKE_DOCKER = `#!/bin/bash
set -u
state="$FAKE_STATE"
touch "$state"
tagof() { local r="\${1#localhost/}"; echo "\${r##*:}"; }
case "$1" in
  image)
    t="$(tagof "\${@: -1}")"
    grep -q "^$t " "$state" || exit 1
    [[ $3 == --format ]] && echo 1000000
    exit 0 ;;
  import)
    cat >/dev/null
    t="$(tagof "\${@: -1}")"
    id="$(od -An -N6 -tx1 /dev/urandom | tr -d ' \\n')"
    sed -i "/^$t /d" "$state"; echo "$t $id" >>"$state" ;;
  tag)
    id="$(awk -v t="$(tagof "$2")" '$1 == t { print $2 }' "$state")"
    [[ -n $id ]] || exit 1
    t="$(tagof "$3")"
    sed -i "/^$t /d" "$state"; echo "$t $id" >>"$state" ;;
  images) cat "$state" ;;
  rmi)
    t="$(tagof "$2")"
    grep -q "^$t " "$state" || exit 1
    sed -i "/^$t /d" "$state" ;;
  *) exit 2 ;;
esac
`;

const V1 = 'aaaaaaaaaaaa';
const V2 = 'bbbbbbbbbbbb';

describe('cell image tags (scripts/cell-image-tags.sh)', () => {
  const dirs: Array<{ cleanup: () => void }> = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

  function engine() {
    const dir = tempHome('nanocell-fake-docker-');
    dirs.push(dir);
    const bin = path.join(dir.dir, 'docker');
    fs.writeFileSync(bin, FAKE_DOCKER, { mode: 0o755 });
    const state = path.join(dir.dir, 'images');
    /** Build VERSION as the checkout whose claim id is CHECKOUT; returns what it said. */
    const build = (checkout: string, version: string) =>
      execFileSync(
        'bash',
        [
          '-c',
          `set -euo pipefail
           say() { echo "$*"; }; die() { echo "error: $*" >&2; exit 1; }
           rootfs_tar() { echo rootfs; }
           IMAGE_REPO=nanocell-cell VERSION="$1" IMAGE="nanocell-cell:$1"
           CLAIM="nanocell-cell:co-$2" FORCE=0 NODE_VERSION=v20 IMPORT_CHANGES=()
           source scripts/cell-image-tags.sh
           import_image docker`,
          'build',
          version,
          checkout,
        ],
        {
          cwd: REPO_ROOT,
          env: { PATH: `${dir.dir}:${process.env.PATH}`, FAKE_STATE: state },
          encoding: 'utf8',
        },
      );
    const tags = () =>
      new Map(
        fs
          .readFileSync(state, 'utf8')
          .trim()
          .split('\n')
          .map((l) => l.split(' ') as [string, string]),
      );
    return { build, tags };
  }

  it("keeps a version another checkout still runs, and removes it once nobody's claim points at it", () => {
    const { build, tags } = engine();
    build('111111111111', V1);
    build('222222222222', V1);
    const v1 = tags().get(V1);
    expect(tags().get('co-222222222222')).toBe(v1);

    // Checkout 1 moves on to V2: checkout 2 still runs V1, so V1 stays tagged.
    expect(build('111111111111', V2)).toContain(`kept nanocell-cell:${V1}`);
    expect(tags().get(V1)).toBe(v1);
    expect(tags().get(V2)).toBeDefined();
    expect(tags().get('latest')).toBe(tags().get(V2));
    expect(tags().get('co-111111111111')).toBe(tags().get(V2));

    // Checkout 2 follows: nobody claims V1 any more.
    expect(build('222222222222', V2)).toContain(`removed old image nanocell-cell:${V1}`);
    expect(tags().has(V1)).toBe(false);
    expect(tags().get(V2)).toBe(tags().get('co-222222222222'));
  });

  it('re-uses an image of the same version instead of importing it again', () => {
    const { build, tags } = engine();
    build('111111111111', V1);
    const id = tags().get(V1);
    expect(build('222222222222', V1)).toContain(`docker image up to date: nanocell-cell:${V1}`);
    expect(tags().get(V1)).toBe(id);
  });
});
