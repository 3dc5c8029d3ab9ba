import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cell, CellRuntime, CellSpec } from '../../src/cells/cell-runtime.js';
import { loadConfig } from '../../src/config.js';
import { runtimesUnderTest, shouldRun } from '../support/runtimes.js';
import { bashIn, cellFixture, type CellFixture } from './cell-fixture.js';

// The everyday tools the cell image carries (scripts/build-cell-image.sh), each run in a real
// cell: a binary that is there but misses a library or its data fails here.
const TOOLS: Array<[string, RegExp]> = [
  ['python3 -c "import ssl, sqlite3, json, zlib, lzma; print(ssl.OPENSSL_VERSION)"', /OpenSSL/],
  ['python3 -c "import urllib.request, email, csv, decimal, asyncio; print(\'stdlib\')"', /stdlib/],
  ["echo '{\"a\": [1, 2]}' | jq -c '.a | add'", /^3$/m],
  ["sqlite3 :memory: 'select 6 * 7'", /^42$/m],
  ['git --version', /git version/],
  ['rg --version', /ripgrep/],
  ['curl --version', /curl .*OpenSSL/],
  ['unzip -v | head -1; zip -v | head -2', /UnZip[\s\S]*Zip/],
  ['file -L /bin/sh /etc/os-release', /ELF[\s\S]*text/],
  ['echo hi | xz | xz -d; echo hi | gzip | gunzip', /hi\nhi/],
  ['awk --version | head -1', /GNU Awk/],
  ['echo paged | less -F', /paged/],
  [
    'printf "b\\na\\n" | sort | tr -d "\\n"; find /etc -maxdepth 1 -name os-release',
    /ab\/etc\/os-release/,
  ],
  ['. /etc/os-release && echo "$ID $ID_LIKE"', /nanocell-cell debian/],
  [
    'test -s /etc/ssl/certs/ca-certificates.crt && python3 -c "import ssl; print(ssl.get_default_verify_paths().openssl_cafile)"',
    /cert\.pem/,
  ],
];

for (const rt of runtimesUnderTest()) {
  describe.skipIf(!(await shouldRun(rt.make())))(`cell image: ${rt.name}`, () => {
    let fx: CellFixture;
    let cell: Cell;
    const bash = bashIn(() => cell);

    beforeAll(async () => {
      fx = await cellFixture();
      cell = await rt.make().start(fx.spec());
    });
    afterAll(async () => {
      await cell?.stop();
      await fx?.close();
    });

    it.each(TOOLS)('runs %s', async (command, expected) => {
      const r = await bash(command);
      expect(r.output).toMatch(expected);
      expect(r.ok).toBe(true);
    });

    it("does not carry python's test suites or bytecode caches", async () => {
      const r = await bash(
        'ls -d /usr/lib/python3*/test /usr/lib/python3*/unittest/test 2>/dev/null | wc -l; find /usr/lib/python3* -name __pycache__ | wc -l',
      );
      expect(r.output.trim().split(/\s+/)).toEqual(['0', '0']);
    });
  });
}

// A group's own cell (the packages its owner listed) reaches the runtime through the spec:
// here a copy of the base with a marker file stands in for a built layer.
describe('a group cell built from its own root filesystem or image', () => {
  const config = loadConfig({});
  const rootfsTop = path.dirname(config.cellRootfs);
  let groupRoot = '';
  let fx: CellFixture;

  beforeAll(async () => {
    fx = await cellFixture();
    if (!fs.existsSync(path.join(config.cellRootfs, 'usr', 'bin', 'node'))) return;
    // Hard links, on the build's own file system: the marker is a new file, the base untouched.
    groupRoot = fs.mkdtempSync(path.join(rootfsTop, '.test-group-'));
    fs.chmodSync(groupRoot, 0o755); // the cell's uid traverses it
    execFileSync('cp', ['-al', '--', config.cellRootfs, path.join(groupRoot, 'rootfs')]);
    fs.writeFileSync(
      path.join(groupRoot, 'rootfs', 'etc', 'nanocell-cell-packages'),
      'CELL_PACKAGES="marker"\n',
    );
  });
  afterAll(async () => {
    if (groupRoot) fs.rmSync(groupRoot, { recursive: true, force: true });
    await fx?.close();
  });

  async function markerIn(runtime: CellRuntime, extra: Partial<CellSpec>): Promise<string> {
    const cell = await runtime.start({ ...fx.spec(), ...extra });
    try {
      const r = await cell.call({
        tool: 'bash',
        input: { command: 'cat /etc/nanocell-cell-packages 2>/dev/null || echo none' },
      });
      return r.output.trim();
    } finally {
      await cell.stop();
    }
  }

  for (const rt of runtimesUnderTest()) {
    it.skipIf(!process.env.CI && !fs.existsSync(config.cellRootfs))(
      `${rt.name}: runs the group's own root, and the base without one`,
      async (ctx) => {
        if (!(await shouldRun(rt.make()))) return ctx.skip();
        const runtime = rt.make();
        expect(await markerIn(runtime, {})).toBe('none');
        if (rt.name === 'bwrap') {
          expect(await markerIn(runtime, { rootfs: path.join(groupRoot, 'rootfs') })).toBe(
            'CELL_PACKAGES="marker"',
          );
          return;
        }
        const image = 'nanocell-cell:000000000000-contract';
        const tar = execFileSync('tar', ['-C', path.join(groupRoot, 'rootfs'), '-c', '.'], {
          maxBuffer: 1024 * 1024 * 1024,
        });
        execFileSync(rt.name, ['import', '--change', 'USER 10001', '-', image], { input: tar });
        try {
          expect(await markerIn(runtime, { image })).toBe('CELL_PACKAGES="marker"');
        } finally {
          execFileSync(rt.name, ['rmi', image]);
        }
      },
      120_000,
    );
  }
});
