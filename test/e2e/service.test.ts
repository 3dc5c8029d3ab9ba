import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
if (!hasAnalyze && process.env.CI) {
  throw new Error('systemd-analyze is missing; scripts/test.sh installs it (package systemd)');
}

/** `nanocell service` through the real CLI; systemd itself is not running in a test. */
describe('nanocell service', () => {
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  let bin: string;
  beforeEach(() => {
    home = tempHome();
    bin = path.join(home.dir, 'bin');
    fs.mkdirSync(bin);
    // A systemctl that records what it was asked, as a real one would be on a booted system.
    fs.writeFileSync(
      path.join(bin, 'systemctl'),
      `#!/bin/sh\necho "$*" >> "${path.join(home.dir, 'systemctl.log')}"\n` +
        `[ "$1" = status ] && { echo "inactive (dead)"; exit 3; }\nexit 0\n`,
      { mode: 0o755 },
    );
    env = {
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: path.join(home.dir, 'config'),
      PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    };
  });
  afterEach(() => home.cleanup());

  it.skipIf(!hasAnalyze)(
    'prints a system unit and a user unit that systemd-analyze verifies',
    async () => {
      for (const scope of ['--system', '--user']) {
        const printed = await runCli(['service', 'install', '--print', scope], env);
        expect(printed.code).toBe(0);
        expect(printed.stdout).toContain(`Environment="NANOCELL_HOME=${env.NANOCELL_HOME}"`);
        const dir = fs.mkdtempSync(path.join(home.dir, 'unit-'));
        fs.writeFileSync(path.join(dir, 'nanocell.service'), printed.stdout);
        const runtimeDir = fs.mkdtempSync(path.join(home.dir, 'xdg-'));
        const verify = spawnSync(
          'systemd-analyze',
          [...(scope === '--user' ? ['--user'] : []), 'verify', path.join(dir, 'nanocell.service')],
          { env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir }, encoding: 'utf8' },
        );
        expect(verify.stderr).toBe('');
        expect(verify.status).toBe(0);
      }
    },
  );

  it('installs, reports status, and uninstalls without touching the data dir', async () => {
    const units = path.join(home.dir, 'units');
    const install = await runCli(['service', 'install', '--system', '--dir', units], {
      ...env,
      ANTHROPIC_API_KEY: 'sk-only-in-this-shell',
    });
    expect(install.code).toBe(0);
    expect(install.stderr).toMatch(/will not see ANTHROPIC_API_KEY.*nanocell config set/s);
    expect(install.stderr).not.toContain('sk-only-in-this-shell');
    expect(install.stdout).toContain(
      `installed and started ${path.join(units, 'nanocell.service')}`,
    );
    const status = await runCli(['service', 'status', '--system', '--dir', units], env);
    expect(status.stdout).toContain('inactive (dead)');
    const uninstall = await runCli(['service', 'uninstall', '--system', '--dir', units], env);
    expect(uninstall.code).toBe(0);
    expect(uninstall.stdout).toMatch(/removed .*nanocell\.service; the data dir .* is kept/);
    expect(fs.existsSync(path.join(units, 'nanocell.service'))).toBe(false);
    expect(fs.readFileSync(path.join(home.dir, 'systemctl.log'), 'utf8').split('\n')).toEqual([
      'daemon-reload',
      'enable --now nanocell.service',
      'status --no-pager nanocell.service',
      'disable --now nanocell.service',
      'daemon-reload',
      '',
    ]);
  });

  it('refuses bad usage with the reason', async () => {
    const bad = await runCli(['service', 'install', '--name', 'Bad Name'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--name "Bad Name" is not a service name/);
    const none = await runCli(['service'], env);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/service needs one of: install, uninstall/);
  });
});
