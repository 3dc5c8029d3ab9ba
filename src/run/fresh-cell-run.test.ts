import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeCellRuntime } from '../../test/support/fake-cell-runtime.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import type {
  ModelEvent,
  ModelProvider,
  ModelRequest,
  ModelResponse,
} from '../agent/model-provider.js';
import { CellPool, type CellReuse } from '../cells/cell-pool.js';
import type { CellSpec } from '../cells/cell-runtime.js';
import { Outbox } from '../router/outbox.js';
import { Store } from '../store/store.js';
import { runGroup } from './run-group.js';
import type { GroupRunDeps } from './run.js';

const log = pino({ level: 'silent' });

/** Asks for one `bash` call per run (the command is the run's message), then answers text. */
class ScriptedProvider implements ModelProvider {
  readonly name = 'scripted';
  async *stream(request: ModelRequest): AsyncGenerator<ModelEvent> {
    yield { type: 'done', response: this.answer(request) };
  }
  private answer(request: ModelRequest): ModelResponse {
    const last = request.messages.at(-1)!;
    const usage = { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 };
    if (last.content.some((b) => b.type === 'tool_result')) {
      return { content: [{ type: 'text', text: 'done' }], stopReason: 'end_turn', usage };
    }
    const text = last.content.find((b) => b.type === 'text');
    const command = text?.type === 'text' ? text.text : '';
    return {
      content: [{ type: 'tool_use', id: `t-${command}`, name: 'bash', input: { command } }],
      stopReason: 'tool_use',
      usage,
    };
  }
  async check() {
    return { ok: true, detail: 'scripted' };
  }
}

const grant = (groupName: string): CellSpec => ({
  groupName,
  mounts: [],
  env: { TZ: 'UTC' },
  workdir: '/workspace/group',
  toolServerPath: '/nonexistent',
  limits: { memoryMb: 64, pids: 16, cpus: 1, callTimeoutMs: 1000, maxOutputBytes: 100 },
  network: { mode: 'none' },
});

describe('a run and its cell', () => {
  let home: string;
  let store: Store;

  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-run-'));
    fs.mkdirSync(path.join(home, 'groups', 'main'), { recursive: true });
    store = Store.open(':memory:');
  });
  afterEach(() => {
    store.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  function setUp(reuse: CellReuse) {
    const runtime = new FakeCellRuntime();
    const pool = new CellPool(runtime, 60_000, log, { reuse, clock: new FakeClock() });
    const group = store.groups.create({ name: 'main', isAdmin: true });
    const deps: GroupRunDeps = {
      store,
      provider: new ScriptedProvider(),
      pool,
      outbox: new Outbox(store, log),
      cellSpec: async (g) => grant(g.name),
      log,
      settings: {
        home,
        assistantName: 'Andy',
        timezone: 'UTC',
        maxTokens: 100,
        maxToolRounds: 5,
      },
    };
    const message = async (text: string) => {
      store.messages.add({
        groupId: group.id,
        channel: 'terminal',
        chatId: 'main',
        direction: 'in',
        sender: 'owner',
        senderName: 'Owner',
        text,
        triggered: true,
      });
      const outcome = await runGroup(deps, group.id);
      expect(outcome.ok).toBe(true);
    };
    return { runtime, pool, message };
  }

  it('runs each message turn in a fresh cell, the second in the spare started when the first ended', async () => {
    const { runtime, pool, message } = setUp('run');
    await message('run-one');
    // The run is over: its cell is stopped and the spare for the next run is starting.
    await runtime.whenStarted(2);
    expect(runtime.started).toHaveLength(2);
    const [first, spare] = runtime.started;
    expect(first!.commands).toEqual(['run-one']);
    expect(first!.stopped).toBe(true);
    expect(spare!.commands).toEqual([]);
    expect(spare!.spec).toEqual(grant('main'));
    await message('run-two');
    expect(spare!.commands).toEqual(['run-two']);
    expect(runtime.started.slice(0, 2)).toEqual([first, spare]);
    await pool.stopAll();
  });

  it('with reuse "group", runs every message turn in the same cell', async () => {
    const { runtime, pool, message } = setUp('group');
    await message('run-one');
    await message('run-two');
    expect(runtime.started).toHaveLength(1);
    expect(runtime.started[0]!.commands).toEqual(['run-one', 'run-two']);
    await pool.stopAll();
  });
});
