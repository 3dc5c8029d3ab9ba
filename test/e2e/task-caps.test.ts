import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

/** A steered model schedules tasks in a loop; the real run stops it at the caps. */
describe('task caps through the real CLI and run', () => {
  let model: FakeModelServer;
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  const task = (n: number) =>
    reply().tool('schedule_task', {
      prompt: `spam ${n}`,
      schedule: { kind: 'interval', everyMs: 3_600_000 },
    });

  beforeAll(async () => {
    model = await startFakeModelServer();
    home = tempHome();
    env = {
      ANTHROPIC_API_KEY: 'x',
      ANTHROPIC_BASE_URL: model.url,
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: path.join(home.dir, 'config'),
      NANOCELL_MAX_TASKS_PER_RUN: '2',
      NANOCELL_MAX_TASKS_PER_GROUP: '3',
    };
  });
  afterAll(async () => {
    await model.close();
    home.cleanup();
  });

  it('refuses tasks past the per-run cap in one run, then past the group cap in the next', async () => {
    model.enqueue(task(1), task(2), task(3), reply().text('tried three'));
    const first = await runCli(['ask', 'schedule three'], env);
    expect(first.code, first.stderr).toBe(0);
    // What the model got back for its third call, as the last tool result it was sent.
    const results = JSON.stringify(model.requests.at(-1)?.body?.messages);
    expect(results).toContain('NANOCELL_MAX_TASKS_PER_RUN=2');

    model.enqueue(task(4), task(5), reply().text('tried two more'));
    const second = await runCli(['ask', 'schedule two more'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.stringify(model.requests.at(-1)?.body?.messages)).toContain(
      'NANOCELL_MAX_TASKS_PER_GROUP=3',
    );

    const listed = await runCli(['tasks', 'list'], env);
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .map((l) => /: (spam \d)$/.exec(l)?.[1]),
    ).toEqual(['spam 1', 'spam 2', 'spam 4']);
  });
});
