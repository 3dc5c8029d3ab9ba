import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { claimTag, cliEngine, tagsToRemove } from '../service/cell-images.js';
import type { CommandResult } from '../service/service-manager.js';
import { uninstallCommand, type UninstallDeps } from './uninstall.js';

const dockerUp = spawnSync('docker', ['image', 'ls', '-q']).status === 0;
if (!dockerUp && process.env.CI && process.env.NANOCELL_REQUIRE_DOCKER) {
  throw new Error('docker is required in CI (scripts/setup.sh starts dockerd)');
}

describe('which image tags uninstall removes', () => {
  const claim = claimTag('/src/nanocell');
  it("removes the checkout's claim and the image's other tags when no one else claims it", () => {
    const tags = [
      { tag: claim, id: 'aaa' },
      { tag: '0123456789ab', id: 'aaa' },
      { tag: 'latest', id: 'aaa' },
      { tag: 'ba9876543210', id: 'bbb' },
    ];
    expect(tagsToRemove(tags, claim)).toEqual({ remove: [claim, '0123456789ab', 'latest'] });
  });
  it('keeps an image another checkout claims, removing only this claim', () => {
    const tags = [
      { tag: claim, id: 'aaa' },
      { tag: 'co-ffffffffffff', id: 'aaa' },
      { tag: '0123456789ab', id: 'aaa' },
    ];
    expect(tagsToRemove(tags, claim)).toEqual({
      remove: [claim],
      kept: 'another checkout on this machine uses it',
    });
  });
  it('removes nothing when this checkout holds no claim', () => {
    expect(tagsToRemove([{ tag: 'latest', id: 'aaa' }], claim)).toEqual({ remove: [] });
  });
});

describe('nanocell uninstall', () => {
  let root: string;
  let out: string;
  let calls: string[][];
  let deps: UninstallDeps;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'uninstall-'));
    const checkout = path.join(root, 'checkout');
    for (const d of ['build', 'dist', 'src'])
      fs.mkdirSync(path.join(checkout, d), { recursive: true });
    const unitDir = path.join(root, 'home', '.config', 'systemd', 'user');
    fs.mkdirSync(unitDir, { recursive: true });
    fs.writeFileSync(path.join(unitDir, 'nanocell.service'), '[Service]\n');
    const config = loadConfig(
      {
        NANOCELL_HOME: path.join(root, 'data'),
        NANOCELL_CONFIG_DIR: path.join(root, 'config'),
      },
      () => undefined,
    );
    fs.mkdirSync(config.home);
    fs.mkdirSync(config.configDir);
    out = '';
    calls = [];
    deps = {
      config,
      out: { write: (s: string) => (out += s) },
      err: { write: (s: string) => (out += s) },
      repoRoot: checkout,
      platform: 'linux',
      uid: 1000,
      homeDir: path.join(root, 'home'),
      run: async (file: string, args: string[]): Promise<CommandResult> => {
        calls.push([file, ...args]);
        return { code: 0, stdout: '', stderr: '' };
      },
      engines: [],
      hostRunning: () => false,
    };
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('without --yes lists what it would remove and changes nothing', async () => {
    expect(await uninstallCommand([], deps)).toBe(0);
    expect(out).toContain('would remove:');
    expect(out).toContain(
      `systemd user unit ${path.join(root, 'home', '.config', 'systemd', 'user', 'nanocell.service')}`,
    );
    expect(out).toContain(`built files ${path.join(root, 'checkout', 'build')}`);
    expect(out).toMatch(/keep your data dir .* and your config dir .*--purge/);
    expect(calls).toEqual([]);
    expect(fs.existsSync(path.join(root, 'checkout', 'build'))).toBe(true);
  });

  it('with --yes removes the service and the build, and keeps the data and config', async () => {
    expect(await uninstallCommand(['--yes'], deps)).toBe(0);
    expect(calls[0]).toEqual(['systemctl', '--user', 'disable', '--now', 'nanocell.service']);
    expect(fs.existsSync(path.join(root, 'checkout', 'build'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'checkout', 'dist'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'checkout', 'src'))).toBe(true);
    expect(fs.existsSync(deps.config.home)).toBe(true);
    expect(fs.existsSync(deps.config.configDir)).toBe(true);
    expect(out).toMatch(/kept your data dir/);
  });

  it('--purge also removes the data dir and the config dir', async () => {
    expect(await uninstallCommand(['--yes', '--purge'], deps)).toBe(0);
    expect(fs.existsSync(deps.config.home)).toBe(false);
    expect(fs.existsSync(deps.config.configDir)).toBe(false);
  });

  it('refuses while a host runs on the data dir', async () => {
    expect(await uninstallCommand(['--yes'], { ...deps, hostRunning: () => true })).toBe(1);
    expect(out).toMatch(/stop it first/);
    expect(fs.existsSync(path.join(root, 'checkout', 'build'))).toBe(true);
  });

  it.skipIf(!dockerUp)("removes this checkout's cell image tags from docker", async () => {
    const claim = claimTag(deps.repoRoot);
    const version = 'feedfacecafe';
    const empty = path.join(root, 'empty');
    fs.mkdirSync(empty);
    const tar = execFileSync('tar', ['-c', '-C', empty, '.']);
    execFileSync('docker', ['import', '-', `nanocell-cell:${version}`], { input: tar });
    execFileSync('docker', ['tag', `nanocell-cell:${version}`, `nanocell-cell:${claim}`]);
    try {
      expect(await uninstallCommand(['--yes'], { ...deps, engines: [cliEngine('docker')] })).toBe(
        0,
      );
      expect(out).toContain(`docker: removed nanocell-cell:${claim}, nanocell-cell:${version}`);
      const left = execFileSync('docker', [
        'images',
        'nanocell-cell',
        '--format',
        '{{.Tag}}',
      ]).toString();
      expect(left).not.toContain(claim);
      expect(left).not.toContain(version);
    } finally {
      spawnSync('docker', ['rmi', '-f', `nanocell-cell:${version}`, `nanocell-cell:${claim}`]);
    }
  });
});
