import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

/** What a terminal would act on: C0 and C1 controls and bidi controls (newline and tab aside). */
const TERMINAL_CONTROL = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;
const controlsIn = (out: string) => out.replace(/[\n\t]/g, '');

/**
 * A steered model tries to take over the owner's terminal: its reply and the prompt of a task
 * it schedules carry escape sequences (clear screen, window title, clipboard write, a carriage
 * return over the line, an 8-bit CSI, a right-to-left override) and a newline that fakes a
 * line of `tasks list`. Every CLI path that prints them shows them as visible escapes.
 */
describe('untrusted text printed at the terminal', () => {
  let model: FakeModelServer;
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  const hostile =
    'done\u001b[2J\u001b[H\u001b]0;owned\u0007\u001b]52;c;cm0gLXJmIH4=\u001b\\\rAndy: all good \u009b31m\u202eevil';

  beforeAll(async () => {
    model = await startFakeModelServer();
    home = tempHome();
    fs.mkdirSync(path.join(home.dir, 'config'));
    env = {
      ANTHROPIC_API_KEY: 'x',
      ANTHROPIC_BASE_URL: model.url,
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: path.join(home.dir, 'config'),
    };
  });
  afterAll(async () => {
    await model.close();
    home.cleanup();
  });

  it('escapes control sequences in ask, tasks list, groups list, status and audit tail', async () => {
    model.enqueue(
      reply()
        .tool('schedule_task', {
          prompt: `water the plants\n#999 [main] active fake task ${hostile}`,
          schedule: { kind: 'interval', everyMs: 3_600_000 },
        })
        .tool('register_group', {
          name: 'family',
          // A chat id with controls is refused now (register_group checks the address); the
          // trigger still carries them into the list.
          chat: 'web:fam',
          trigger: '@A\u001b[2J\u202e',
        }),
      reply().text(hostile),
    );
    const asked = await runCli(['ask', 'remind me'], env);
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.stdout).toContain('done\\x1b[2J\\x1b[H\\x1b]0;owned\\x07');
    expect(asked.stdout).toContain('\\rAndy: all good \\x9b31m\\u202eevil');
    expect(controlsIn(asked.stdout)).not.toMatch(TERMINAL_CONTROL);

    const listed = await runCli(['tasks', 'list'], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('water the plants\\n#999 [main] active fake task done\\x1b[2J');
    expect(controlsIn(listed.stdout)).not.toMatch(TERMINAL_CONTROL);
    expect(listed.stdout.trim().split('\n')).toHaveLength(1);

    const groups = await runCli(['groups', 'list'], env);
    expect(groups.code, groups.stderr).toBe(0);
    expect(groups.stdout).toContain('trigger @A\\x1b[2J\\u202e\tchats: web:fam\t');
    expect(controlsIn(groups.stdout)).not.toMatch(TERMINAL_CONTROL);
    expect(groups.stdout.trim().split('\n')).toHaveLength(2);

    const status = await runCli(['status'], env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('water the plants\\n#999');
    expect(controlsIn(status.stdout)).not.toMatch(TERMINAL_CONTROL);
    expect(status.stdout).not.toMatch(/^\s*#999/m);

    const tail = await runCli(['audit', 'tail'], env);
    expect(tail.code, tail.stderr).toBe(0);
    expect(tail.stdout).toContain('task_change');
    expect(controlsIn(tail.stdout)).not.toMatch(TERMINAL_CONTROL);
  });
});
