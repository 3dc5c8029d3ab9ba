import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSetting, describeSettings, SETTING_KEYS } from '../config.js';
import { configCommand, writeConfigFile } from './config.js';

const FILE = '/owner/config/config';

/** `nanocell config ARGS` over an in-memory config file and the given environment. */
function run(args: string[], env: NodeJS.ProcessEnv = {}, initial?: string) {
  const disk = new Map<string, string>(initial === undefined ? [] : [[FILE, initial]]);
  let stdout = '';
  let stderr = '';
  const read = (f: string) => disk.get(f);
  const code = configCommand(args, {
    ...describeSettings({ NANOCELL_CONFIG_DIR: '/owner/config', ...env }, read),
    keys: SETTING_KEYS,
    check: checkSetting,
    readFile: read,
    writeFile: (f, text) => disk.set(f, text),
    out: { write: (s: string) => (stdout += s) },
    err: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr, file: disk.get(FILE) };
}

describe('nanocell config', () => {
  it('show lists every setting with its source and masks secrets', () => {
    const r = run(
      ['show'],
      { ANTHROPIC_API_KEY: 'sk-ant-api03-verysecretvalue' },
      'NANOCELL_MODEL=m1\n',
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ANTHROPIC_API_KEY\s+sk-a…\*\*\*\* \(28 chars\)\s+\[environment\]$/m);
    expect(r.stdout).not.toContain('verysecret');
    expect(r.stdout).toMatch(/^NANOCELL_MODEL\s+m1\s+\[file\]$/m);
    expect(r.stdout).toMatch(/^NANOCELL_WEB_PORT\s+7420\s+\[default\]$/m);
    expect(r.stdout).toMatch(/^NANOCELL_HOME\s+\(unset\)\s+\[default\]$/m);
  });

  it('show still lists the settings of a broken file, then names the problem and fails', () => {
    const r = run(['show'], {}, 'NANOCELL_WEB_PORT=high\n');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('NANOCELL_WEB_PORT');
    expect(r.stderr).toContain('NANOCELL_WEB_PORT: Invalid input');
  });

  it('get prints the effective value unmasked, and the environment wins', () => {
    expect(run(['get', 'NANOCELL_MODEL'], {}, 'NANOCELL_MODEL=m1\n').stdout).toBe('m1\n');
    expect(
      run(['get', 'NANOCELL_MODEL'], { NANOCELL_MODEL: 'm2' }, 'NANOCELL_MODEL=m1\n').stdout,
    ).toBe('m2\n');
    expect(run(['get', 'ANTHROPIC_API_KEY'], {}, 'ANTHROPIC_API_KEY=sk-1234567890\n').stdout).toBe(
      'sk-1234567890\n',
    );
  });

  it('get exits 1 with nothing printed for a setting that is unset', () => {
    expect(run(['get', 'NANOCELL_HOME'])).toMatchObject({ code: 1, stdout: '' });
  });

  it('set writes a valid value, keeping the rest of the file', () => {
    const r = run(['set', 'NANOCELL_WEB_PORT', '7421'], {}, '# mine\nNANOCELL_MODEL=m1\n');
    expect(r.code).toBe(0);
    expect(r.file).toBe('# mine\nNANOCELL_MODEL=m1\nNANOCELL_WEB_PORT=7421\n');
  });

  it('set refuses a bad value, naming the key and why, and writes nothing', () => {
    const r = run(['set', 'NANOCELL_CELL_REUSE', 'sometimes'], {}, 'NANOCELL_MODEL=m1\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'NANOCELL_CELL_REUSE: must be "run" (a fresh cell per run) or "group"',
    );
    expect(r.file).toBe('NANOCELL_MODEL=m1\n');
  });

  it('set refuses an unknown key with a suggestion, and NANOCELL_CONFIG_DIR', () => {
    const typo = run(['set', 'NANOCELL_WEB_PROT', '1']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(
      'NANOCELL_WEB_PROT is not a nanocell setting (did you mean NANOCELL_WEB_PORT?)',
    );
    const dir = run(['set', 'NANOCELL_CONFIG_DIR', '/x']);
    expect(dir.code).toBe(2);
    expect(dir.stderr).toContain('set it in the environment');
    expect(dir.file).toBeUndefined();
  });

  it('set refuses a value that would add a line to the file', () => {
    const r = run(['set', 'NANOCELL_MODEL', 'm1\nNANOCELL_RUNTIME=docker']);
    expect(r.code).toBe(2);
    expect(r.file).toBeUndefined();
  });

  it('set can fix the file that breaks start-up', () => {
    const r = run(['set', 'NANOCELL_WEB_PORT', '7421'], {}, 'NANOCELL_WEB_PORT=high\n');
    expect(r).toMatchObject({ code: 0, file: 'NANOCELL_WEB_PORT=7421\n' });
  });

  it('set says when the environment overrides what it wrote', () => {
    const r = run(['set', 'NANOCELL_MODEL', 'm1'], { NANOCELL_MODEL: 'm2' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('NANOCELL_MODEL is also set in the environment, which wins');
  });

  it('unset removes the key and fails for a key the file does not set', () => {
    expect(run(['unset', 'NANOCELL_MODEL'], {}, 'A=1\nNANOCELL_MODEL=m1\n').file).toBe('A=1\n');
    expect(run(['unset', 'NANOCELL_MODEL'], {}, '# x\n').code).toBe(1);
  });

  it.each([[[]], [['frobnicate']], [['get']], [['set', 'NANOCELL_MODEL']]])(
    'exits 2 with the usage for %j',
    (args) => {
      const r = run(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('usage: nanocell config');
    },
  );
});

describe('writeConfigFile', () => {
  it('writes the file 0600 in a 0700 dir and replaces a symlink instead of following it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-config-'));
    try {
      const target = path.join(dir, 'elsewhere');
      fs.writeFileSync(target, 'untouched');
      const file = path.join(dir, 'cfg', 'config');
      fs.mkdirSync(path.dirname(file), { mode: 0o700 });
      fs.symlinkSync(target, file);
      writeConfigFile(file, 'NANOCELL_MODEL=m1\n');
      expect(fs.lstatSync(file).isFile()).toBe(true);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(file, 'utf8')).toBe('NANOCELL_MODEL=m1\n');
      expect(fs.readFileSync(target, 'utf8')).toBe('untouched');
      const fresh = path.join(dir, 'new', 'config');
      writeConfigFile(fresh, 'X=1\n');
      expect(fs.statSync(path.dirname(fresh)).mode & 0o777).toBe(0o700);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
