import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

const COMMANDS = [
  'setup',
  'start',
  'chat',
  'ask',
  'groups',
  'tasks',
  'status',
  'doctor',
  'audit',
  'policy',
];

/** The command table, through the real CLI: help, version, mistypes, audited changes. */
describe('./nanocell commands', () => {
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;

  beforeAll(() => {
    home = tempHome();
    env = {
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: path.join(home.dir, 'cfg'),
    };
  });
  afterAll(() => home.cleanup());

  it('lists every command with what it does', async () => {
    const r = await runCli(['help'], env);
    expect(r.code).toBe(0);
    for (const name of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
  });

  it.each(COMMANDS)('prints the usage of %s for --help, opening nothing', async (name) => {
    const never = path.join(home.dir, 'never-made');
    const r = await runCli([name, '--help'], { NANOCELL_HOME: never });
    expect(r.code, r.stderr).toBe(0);
    expect(fs.existsSync(never)).toBe(false);
    expect(r.stdout).toMatch(new RegExp(`^usage:\\s+nanocell ${name}`, 'm'));
    expect(r.stderr).toBe('');
  });

  it('prints its version', async () => {
    const r = await runCli(['--version'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^nanocell \d+\.\d+\.\d+\n$/);
  });

  it('suggests the command meant by a typo, and exits 2', async () => {
    const r = await runCli(['stauts'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "stauts" — did you mean "status"?');
  });

  it('refuses a bad flag with the command’s usage', async () => {
    const r = await runCli(['start', '--loud'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--loud'");
    expect(r.stderr).toContain('usage: nanocell start [--quiet]');
  });

  it('audits every change to groups and mounts as it happens', async () => {
    expect((await runCli(['groups', 'add', 'club', '--chat', 'web:club'], env)).code).toBe(0);
    const projects = path.join(home.dir, 'projects');
    fs.mkdirSync(path.join(projects, 'recipes'), { recursive: true });
    fs.mkdirSync(path.join(home.dir, 'cfg'), { recursive: true });
    fs.writeFileSync(
      path.join(home.dir, 'cfg', 'mount-allowlist.json'),
      JSON.stringify({ allowedRoots: [{ path: projects, allowReadWrite: false }] }),
    );
    const recipes = path.join(projects, 'recipes');
    const mounted = await runCli(['groups', 'mount', 'club', recipes], env);
    expect(mounted.code, mounted.stderr).toBe(0);
    expect((await runCli(['groups', 'unmount', 'club', recipes], env)).code).toBe(0);
    expect((await runCli(['groups', 'remove', 'club'], env)).code).toBe(0);
    const tail = await runCli(['audit', 'tail', '-n', '20'], env);
    const changes = tail.stdout.split('\n').filter((l) => l.includes('group_change'));
    expect(changes).toHaveLength(4);
    expect(changes[0]).toMatch(/created/);
    expect(changes[1]).toMatch(/mount .*recipes/);
    expect(changes[2]).toMatch(/unmount .*recipes/);
    expect(changes[3]).toMatch(/removed/);
  });
});
