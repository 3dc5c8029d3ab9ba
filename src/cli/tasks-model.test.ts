import fs from 'node:fs';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempHome } from '../../test/support/temp-home.js';
import { openBase, type Base } from '../app.js';
import { loadConfig } from '../config.js';
import { tasksCommand } from './tasks.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { stream, text: () => text };
}

describe('tasks set ID --model', () => {
  let home: ReturnType<typeof tempHome>;
  let base: Base;
  let taskId: number;
  const run = (positionals: string[], flags: { model?: string; provider?: string }) => {
    const out = capture();
    const err = capture();
    const code = tasksCommand(base, { positionals, ...flags }, out.stream, err.stream);
    return { code, out: out.text(), err: err.text() };
  };

  beforeEach(() => {
    home = tempHome();
    base = openBase(
      loadConfig({
        NANOCELL_HOME: home.dir,
        NANOCELL_CONFIG_DIR: `${home.dir}-config`,
        NANOCELL_LOG_LEVEL: 'silent',
      }),
    );
    const group = base.store.groups.create({ name: 'family', isAdmin: false });
    taskId = base.store.tasks.create({
      groupId: group.id,
      prompt: 'p',
      schedule: { kind: 'interval', everyMs: 3_600_000 },
      contextMode: 'isolated',
    }).id;
  });
  afterEach(() => {
    base.close();
    home.cleanup();
    fs.rmSync(`${home.dir}-config`, { recursive: true, force: true });
  });

  it("gives a task its own model, on the configured provider unless told, and back to its group's", () => {
    const set = run(['set', String(taskId)], { model: 'claude-haiku-5' });
    expect(set).toMatchObject({
      code: 0,
      out: `task #${taskId}: runs use anthropic claude-haiku-5 from its next run on\n`,
    });
    expect(base.store.models.forTask(taskId)).toEqual({
      provider: 'anthropic',
      model: 'claude-haiku-5',
    });
    run(['set', String(taskId)], { model: 'llama3.2', provider: 'openai' });
    expect(base.store.models.forTask(taskId)).toEqual({ provider: 'openai', model: 'llama3.2' });
    expect(run(['set', String(taskId)], { model: 'default' }).out).toContain("its group's model");
    expect(base.store.models.forTask(taskId)).toBeUndefined();
  });

  it('refuses an unknown provider, a missing task and a missing --model, changing nothing', () => {
    expect(run(['set', String(taskId)], { model: 'x', provider: 'ollama' })).toMatchObject({
      code: 1,
      err: expect.stringContaining('unknown provider "ollama": use one of anthropic, openai'),
    });
    expect(run(['set', '999'], { model: 'x' })).toMatchObject({
      code: 1,
      err: expect.stringContaining('no task #999'),
    });
    expect(run(['set', String(taskId)], {})).toMatchObject({
      code: 2,
      err: expect.stringContaining('--model MODEL'),
    });
    expect(base.store.models.forTask(taskId)).toBeUndefined();
  });
});
