import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

describe('./nanocell config and the config file', () => {
  const homes: Array<{ cleanup: () => void }> = [];
  afterEach(() => homes.splice(0).forEach((h) => h.cleanup()));

  function dirs() {
    const data = tempHome();
    const config = tempHome('nanocell-config-');
    homes.push(data, config);
    return {
      env: { NANOCELL_HOME: data.dir, NANOCELL_CONFIG_DIR: config.dir },
      file: path.join(config.dir, 'config'),
    };
  }

  it('set writes the file, get and show read it back, and the environment wins', async () => {
    const { env, file } = dirs();
    const set = await runCli(['config', 'set', 'NANOCELL_ASSISTANT_NAME', 'Robin'], env);
    expect(set.code).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe('NANOCELL_ASSISTANT_NAME=Robin\n');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    await runCli(['config', 'set', 'ANTHROPIC_API_KEY', 'sk-ant-e2e-secret-value'], env);

    expect((await runCli(['config', 'get', 'NANOCELL_ASSISTANT_NAME'], env)).stdout).toBe(
      'Robin\n',
    );
    const show = await runCli(['config', 'show'], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^NANOCELL_ASSISTANT_NAME\s+Robin\s+\[file\]$/m);
    expect(show.stdout).not.toContain('e2e-secret');
    const overridden = await runCli(['config', 'get', 'NANOCELL_ASSISTANT_NAME'], {
      ...env,
      NANOCELL_ASSISTANT_NAME: 'Kim',
    });
    expect(overridden.stdout).toBe('Kim\n');
  });

  it('a bad value in the file stops other commands with the file, line and reason', async () => {
    const { env, file } = dirs();
    fs.writeFileSync(file, '# tuned by hand\nNANOCELL_RUNTIME=lxc\n');
    const status = await runCli(['status'], env);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain(`NANOCELL_RUNTIME (${file} line 2): must be one of`);
    const fixed = await runCli(['config', 'set', 'NANOCELL_RUNTIME', 'bwrap'], env);
    expect(fixed.code).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe('# tuned by hand\nNANOCELL_RUNTIME=bwrap\n');
  });

  it('set refuses a value the schema refuses and leaves the file alone', async () => {
    const { env, file } = dirs();
    const r = await runCli(['config', 'set', 'NANOCELL_WEB_PORT', '99999'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('NANOCELL_WEB_PORT:');
    expect(fs.existsSync(file)).toBe(false);
  });
});
