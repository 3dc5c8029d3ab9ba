import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

/** Extra mounts: granted through the CLI, checked against the owner's allowlist, real cells. */
describe('extra mounts through the allowlist', () => {
  let model: FakeModelServer;
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  let projects: string;

  beforeAll(async () => {
    model = await startFakeModelServer();
  });
  afterAll(() => model.close());
  beforeEach(() => {
    model.reset();
    home = tempHome();
    projects = path.join(home.dir, 'projects');
    fs.mkdirSync(path.join(projects, 'notes'), { recursive: true });
    fs.writeFileSync(path.join(projects, 'notes', 'todo.txt'), 'buy milk\n');
    fs.mkdirSync(path.join(projects, '.ssh'), { recursive: true });
    const configDir = path.join(home.dir, 'config');
    fs.mkdirSync(configDir, { recursive: true });
    fs.writeFileSync(
      path.join(configDir, 'mount-allowlist.json'),
      JSON.stringify({ allowedRoots: [{ path: projects, allowReadWrite: false }] }),
    );
    env = {
      ANTHROPIC_API_KEY: 'x',
      ANTHROPIC_BASE_URL: model.url,
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: configDir,
    };
  });
  afterEach(() => home.cleanup());

  it('refuses what the allowlist does not allow, each time saying why', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[path.join(projects, '.ssh')], /\.ssh/],
      [[path.join(projects, 'notes'), '--rw'], /read-only|allowReadWrite/],
      [['/etc'], /not under an allowed root|allowed root/],
      [[path.join(home.dir, 'config')], /config|allowlist/],
    ];
    for (const [args, reason] of cases) {
      const r = await runCli(['groups', 'mount', 'main', ...args], env);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(reason);
    }
  });

  it('mounts an allowed folder read-only at /workspace/extra/NAME in the cell', async () => {
    const add = await runCli(
      ['groups', 'mount', 'main', path.join(projects, 'notes'), '--at', 'notes'],
      env,
    );
    expect(add.code, add.stderr).toBe(0);
    model.enqueue(
      reply().tool('bash', {
        command:
          'cat /workspace/extra/notes/todo.txt; (echo x > /workspace/extra/notes/new.txt) 2>/dev/null && echo WROTE || echo READ_ONLY',
      }),
      reply().text('read it'),
    );
    const r = await runCli(['ask', 'what is on my list?'], env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.stringify(model.requests[1]!.body!.messages!.at(-1));
    expect(out, out).toContain('buy milk');
    expect(out).toContain('READ_ONLY');
    expect(fs.existsSync(path.join(projects, 'notes', 'new.txt'))).toBe(false);
  });
});
