import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

/** Run a script of scripts/ with exactly this environment (plus PATH unless given). */
function script(name: string, env: Record<string, string>) {
  const r = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', name)], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    input: '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the provider check comes first (scripts/check-provider.sh, scripts/start.sh)', () => {
  const dirs: Array<{ dir: string; cleanup: () => void }> = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));
  const configDir = (config?: string) => {
    const d = tempHome('nanocell-config-');
    dirs.push(d);
    if (config !== undefined) fs.writeFileSync(path.join(d.dir, 'config'), config);
    return { HOME: d.dir, NANOCELL_CONFIG_DIR: d.dir };
  };

  it('refuses without a key, saying both ways to give one', () => {
    const env = configDir();
    const r = script('check-provider.sh', env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('export ANTHROPIC_API_KEY=sk-ant-...');
    expect(r.stderr).toContain(path.join(env.NANOCELL_CONFIG_DIR, 'config'));
  });

  it.each([
    ['the environment', undefined, { ANTHROPIC_API_KEY: 'sk-ant-x' }],
    ['the config file', '# mine\nANTHROPIC_API_KEY=sk-ant-x\n', {}],
    ['the config file, quoted', 'ANTHROPIC_API_KEY = "sk-ant-x"\n', {}],
    [
      'an OpenAI-compatible server with a model',
      'NANOCELL_PROVIDER=openai\nNANOCELL_MODEL=llama3.2\n',
      {},
    ],
  ])('accepts a key from %s', (_from, config, extra) => {
    expect(script('check-provider.sh', { ...configDir(config), ...extra }).code).toBe(0);
  });

  it('refuses an empty key and an OpenAI-compatible server without a model', () => {
    expect(script('check-provider.sh', configDir('ANTHROPIC_API_KEY=\n')).code).toBe(1);
    const openai = script('check-provider.sh', configDir('NANOCELL_PROVIDER=openai\n'));
    expect(openai.code).toBe(1);
    expect(openai.stderr).toContain('NANOCELL_MODEL');
  });

  it('start.sh stops at the missing key before setup runs', () => {
    const r = script('start.sh', configDir());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ANTHROPIC_API_KEY');
    expect(r.stdout + r.stderr).not.toContain('[setup]');
  });
});

describe('scripts/setup.sh steps', () => {
  const dirs: Array<{ dir: string; cleanup: () => void }> = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

  it('names a failing step, its time and the fix: Node 18 on Debian 12 / Ubuntu 24.04', () => {
    const bin = tempHome('nanocell-fake-bin-');
    dirs.push(bin);
    // node 18, and a distribution whose own nodejs is 18 too (so setup installs nothing)
    fs.writeFileSync(
      path.join(bin.dir, 'node'),
      '#!/bin/sh\ncase "$2" in *split*) echo 18 ;; *) echo 18.19.0 ;; esac\n',
      { mode: 0o755 },
    );
    fs.writeFileSync(
      path.join(bin.dir, 'apt-cache'),
      '#!/bin/sh\necho "nodejs:"\necho "  Candidate: 18.19.0+dfsg-6~deb12u2"\n',
      { mode: 0o755 },
    );
    const r = script('setup.sh', { PATH: `${bin.dir}:${process.env.PATH}` });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('[setup] [1/5] node and npm\n');
    expect(r.stderr).toMatch(
      /\[setup\] error: \[1\/5\] node and npm failed after \d+s: node 18\.19\.0 \(.*\) is too old: nanocell needs Node\.js 20 or later/,
    );
    expect(r.stderr).toMatch(/\[setup\] fix: Debian 12 and Ubuntu 24\.04 ship Node 18/);
    expect(r.stdout).not.toContain('[2/5]');
  });
});
