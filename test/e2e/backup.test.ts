import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

describe('./nanocell backup and restore', () => {
  const dirs: Array<{ dir: string; cleanup: () => void }> = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));
  const dir = (prefix?: string) => {
    const d = tempHome(prefix);
    dirs.push(d);
    return d.dir;
  };

  it('round-trips the store, group folders and audit log into a new data dir', async () => {
    const config = dir('nanocell-config-');
    const home = dir();
    const env = { NANOCELL_HOME: home, NANOCELL_CONFIG_DIR: config };
    expect((await runCli(['groups', 'add', 'family'], env)).code).toBe(0);
    fs.writeFileSync(path.join(home, 'groups', 'family', 'notes.txt'), 'milk\n');
    // A link a cell planted is kept as a link, never followed into the host.
    fs.symlinkSync('/etc/shadow', path.join(home, 'groups', 'family', 'planted'));

    const file = path.join(dir('nanocell-backups-'), 'nanocell.tar');
    const b = await runCli(['backup', file], env);
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const members = execFileSync('tar', ['--list', '--file', file], { encoding: 'utf8' });
    expect(members).toContain('nanocell.db');
    expect(members).toContain('audit/audit.log');
    expect(members).not.toMatch(/shadow|^config/m);

    const restored = dir();
    const renv = { NANOCELL_HOME: restored, NANOCELL_CONFIG_DIR: config };
    const r = await runCli(['restore', file], renv);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await runCli(['groups', 'list'], renv)).stdout).toContain('family');
    expect(fs.readFileSync(path.join(restored, 'groups', 'family', 'notes.txt'), 'utf8')).toBe(
      'milk\n',
    );
    expect(fs.lstatSync(path.join(restored, 'groups', 'family', 'planted')).isSymbolicLink()).toBe(
      true,
    );
    expect(fs.readFileSync(path.join(restored, 'audit', 'audit.log'), 'utf8')).toBe(
      fs.readFileSync(path.join(home, 'audit', 'audit.log'), 'utf8'),
    );
    const verify = await runCli(['audit', 'verify'], renv);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('audit log intact');
  });

  it('refuses to restore over a store unless --replace, which moves it aside', async () => {
    const config = dir('nanocell-config-');
    const home = dir();
    const env = { NANOCELL_HOME: home, NANOCELL_CONFIG_DIR: config };
    await runCli(['groups', 'add', 'family'], env);
    const file = path.join(dir('nanocell-backups-'), 'b.tar');
    expect((await runCli(['backup', file], env)).code).toBe(0);
    await runCli(['groups', 'add', 'work'], env);

    const refused = await runCli(['restore', file], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('restore --replace');
    const replaced = await runCli(['restore', file, '--replace'], env);
    expect(replaced.code).toBe(0);
    const list = (await runCli(['groups', 'list'], env)).stdout;
    expect(list).toContain('family');
    expect(list).not.toContain('work');
    expect(fs.readdirSync(home).some((e) => e.startsWith('replaced-'))).toBe(true);
  });

  it('backs up the config dir only when asked, and restores it with --with-config', async () => {
    const config = dir('nanocell-config-');
    const home = dir();
    fs.writeFileSync(path.join(config, 'config'), 'NANOCELL_ASSISTANT_NAME=Robin\n');
    const env = { NANOCELL_HOME: home, NANOCELL_CONFIG_DIR: config };
    await runCli(['status'], env);
    const file = path.join(dir('nanocell-backups-'), 'b.tar');
    expect((await runCli(['backup', file, '--with-config'], env)).code).toBe(0);
    const newConfig = dir('nanocell-config-');
    const renv = { NANOCELL_HOME: dir(), NANOCELL_CONFIG_DIR: newConfig };
    expect((await runCli(['restore', file, '--with-config'], renv)).code).toBe(0);
    expect(fs.readFileSync(path.join(newConfig, 'config'), 'utf8')).toBe(
      'NANOCELL_ASSISTANT_NAME=Robin\n',
    );
  });

  it('refuses an archive that is not a backup, or holds paths outside it', async () => {
    const work = dir('nanocell-backups-');
    fs.writeFileSync(path.join(work, 'evil.txt'), 'x');
    const evil = path.join(work, 'evil.tar');
    execFileSync('tar', ['--create', '--file', evil, '-C', work, 'evil.txt']);
    const env = { NANOCELL_HOME: dir(), NANOCELL_CONFIG_DIR: dir('nanocell-config-') };
    const r = await runCli(['restore', evil], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not a nanocell backup (it holds "evil.txt")');
    expect((await runCli(['restore', path.join(work, 'missing.tar')], env)).code).toBe(1);
  });
});
