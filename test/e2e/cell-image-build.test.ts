import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGroupCellImages } from '../../src/cells/group-cell-images.js';
import { REPO_ROOT } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

// The real scripts/build-cell-image.sh (--rootfs-only, into a build dir of the test's own)
// with per-group package lists: the layer is copied from the host's installed packages.
const canBuild =
  spawnSync('dpkg-query', ['-W', 'bc'], { encoding: 'utf8' }).status === 0 &&
  spawnSync('bwrap', ['--version']).status === 0;

describe.skipIf(!canBuild && !process.env.CI)('per-group cell layers (build-cell-image.sh)', () => {
  let home: { dir: string; cleanup: () => void };
  let buildDir: string;
  let configDir: string;
  const build = () =>
    spawnSync('bash', ['scripts/build-cell-image.sh', '--rootfs-only', '--quiet'], {
      cwd: REPO_ROOT,
      env: { ...process.env, NANOCELL_CELL_BUILD_DIR: buildDir, NANOCELL_CONFIG_DIR: configDir },
      encoding: 'utf8',
      timeout: 300_000,
    });

  beforeAll(() => {
    home = tempHome('nanocell-cell-build-');
    fs.chmodSync(home.dir, 0o755);
    buildDir = path.join(home.dir, 'build');
    configDir = path.join(home.dir, 'config');
    fs.mkdirSync(path.join(configDir, 'cell-packages'), { recursive: true });
    fs.writeFileSync(path.join(configDir, 'cell-packages', 'research'), '# a calculator\nbc\n');
    fs.writeFileSync(path.join(configDir, 'cell-packages', 'family'), '# nothing yet\n');
  });
  afterAll(() => home?.cleanup());

  it("builds a listed group's layer over the base, leaves the base alone, and says where it is", () => {
    const r = build();
    expect(r.status, r.stderr).toBe(0);
    const manifestFile = path.join(buildDir, 'cell-groups.json');
    const manifest = parseGroupCellImages(fs.readFileSync(manifestFile, 'utf8'), manifestFile);
    expect(manifest.ok).toBe(true);
    if (!manifest.ok) return;
    // A group with an empty list runs the base: it has no entry.
    expect(Object.keys(manifest.groups)).toEqual(['research']);
    const group = manifest.groups.research!;
    expect(group.rootfs).toBe(path.join(buildDir, 'cell-groups', 'research', 'rootfs'));
    expect(group.image).toMatch(/^nanocell-cell:[0-9a-f]{12}-research$/);

    const base = path.join(buildDir, 'cell-rootfs');
    expect(fs.existsSync(path.join(base, 'usr', 'bin', 'bc'))).toBe(false);
    expect(fs.statSync(path.join(group.rootfs, 'usr', 'bin', 'bc')).isFile()).toBe(true);
    // The base's files are shared (hard links), the layer's are its own.
    const ino = (root: string, f: string) => fs.statSync(path.join(root, f)).ino;
    expect(ino(group.rootfs, 'usr/bin/node')).toBe(ino(base, 'usr/bin/node'));
    expect(fs.readdirSync(path.join(group.rootfs, 'usr', 'share'))).not.toContain('doc');

    const calc = spawnSync(
      'bwrap',
      [
        '--unshare-all',
        '--die-with-parent',
        '--ro-bind',
        group.rootfs,
        '/',
        '--proc',
        '/proc',
        '--dev',
        '/dev',
        '--setenv',
        'PATH',
        '/usr/bin:/bin',
        '/bin/sh',
        '-c',
        'echo "6*7" | bc; cat /etc/nanocell-cell-packages',
      ],
      { encoding: 'utf8', env: {} },
    );
    expect(calc.stdout).toBe('42\nCELL_PACKAGES="bc"\n');
  }, 300_000);

  it('refuses a package the host has not installed, naming apt-get install, and keeps the last build', () => {
    const manifestFile = path.join(buildDir, 'cell-groups.json');
    const before = fs.readFileSync(manifestFile, 'utf8');
    fs.writeFileSync(
      path.join(configDir, 'cell-packages', 'research'),
      'bc\nno-such-package-nanocell\n',
    );
    const r = build();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      'group research lists packages that are not installed on the host: no-such-package-nanocell',
    );
    expect(r.stderr).toContain(
      'apt-get install -y --no-install-recommends no-such-package-nanocell',
    );
    expect(fs.readFileSync(manifestFile, 'utf8')).toBe(before);
  }, 300_000);

  it('refuses a list file not named for a group', () => {
    fs.writeFileSync(path.join(configDir, 'cell-packages', 'research'), 'bc\n');
    fs.writeFileSync(path.join(configDir, 'cell-packages', 'Bad Name'), 'bc\n');
    const r = build();
    fs.rmSync(path.join(configDir, 'cell-packages', 'Bad Name'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("the file name must be a group's name");
  }, 300_000);
});
