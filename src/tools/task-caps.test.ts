import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempHome } from '../../test/support/temp-home.js';
import type { ToolOutcome } from '../agent/agent-loop.js';
import type { RunContext } from '../run/run.js';
import { Outbox } from '../router/outbox.js';
import type { Group } from '../store/groups.js';
import { Store } from '../store/store.js';
import { AssistantHostTools } from './host-tools.js';
import { taskTools } from './task-tools.js';

const NOW = new Date('2026-03-01T10:00:00.000Z');
const hourly = { kind: 'interval', everyMs: 3_600_000 };

describe('task caps: a steered model cannot flood the scheduler', () => {
  let store: Store;
  let home: { dir: string; cleanup: () => void };
  let tools: AssistantHostTools;
  let main: Group;
  let family: Group;

  const newRun = (group: Group): RunContext => ({
    group,
    channel: 'web',
    chatId: `${group.name}-chat`,
  });
  const schedule = async (
    ctx: RunContext,
    extra: Record<string, unknown> = {},
  ): Promise<ToolOutcome> => {
    const outcome = tools.execute(ctx, 'schedule_task', {
      prompt: 'spam',
      schedule: hourly,
      ...extra,
    });
    if (!outcome) throw new Error('schedule_task is not a host tool');
    return outcome;
  };
  const tasksOf = (g: Group) => store.tasks.listForGroup(g.id);

  beforeEach(() => {
    store = Store.open(':memory:');
    home = tempHome();
    fs.mkdirSync(path.join(home.dir, 'groups'));
    tools = new AssistantHostTools(
      taskTools({ store, timezone: 'UTC', now: () => NOW, limits: { perGroup: 3, perRun: 2 } }),
      {
        store,
        outbox: new Outbox(store, pino({ level: 'silent' }), { now: () => NOW }),
        home: home.dir,
        assistantName: 'Andy',
      },
    );
    main = store.groups.create({ name: 'main', isAdmin: true, requiresTrigger: false });
    family = store.groups.create({ name: 'family', isAdmin: false, requiresTrigger: true });
  });
  afterEach(() => {
    store.close();
    home.cleanup();
  });

  it('refuses the task past the per-run cap with a tool error naming the setting, and stores none', async () => {
    const run = newRun(family);
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push(await schedule(run));
    expect(outcomes.map((o) => o.isError ?? false)).toEqual([false, false, true, true, true]);
    expect(outcomes[2]?.output).toMatch(
      /^Not scheduled: this run has already scheduled 2 tasks.*NANOCELL_MAX_TASKS_PER_RUN=2/,
    );
    expect(tasksOf(family)).toHaveLength(2);
  });

  it('gives each run its own per-run allowance', async () => {
    expect((await schedule(newRun(family))).isError).toBeFalsy();
    expect((await schedule(newRun(family))).isError).toBeFalsy();
    expect(tasksOf(family)).toHaveLength(2);
  });

  it('refuses the task past the per-group cap across runs, and says how to free a place', async () => {
    for (let i = 0; i < 3; i++) expect((await schedule(newRun(family))).isError).toBeFalsy();
    const over = await schedule(newRun(family));
    expect(over.isError).toBe(true);
    expect(over.output).toMatch(
      /^Not scheduled in group "family": the group already has 3 active or paused tasks.*NANOCELL_MAX_TASKS_PER_GROUP=3.*cancel_task/,
    );
    expect(tasksOf(family)).toHaveLength(3);
  });

  it('counts paused tasks (they can be resumed) and frees a place when one is cancelled', async () => {
    for (let i = 0; i < 3; i++) await schedule(newRun(family));
    const [first, second] = tasksOf(family);
    expect(store.tasks.setStatus(first!.id, 'paused', NOW).ok).toBe(true);
    expect((await schedule(newRun(family))).isError).toBe(true);
    expect(store.tasks.setStatus(second!.id, 'cancelled', NOW).ok).toBe(true);
    expect((await schedule(newRun(family))).isError).toBeFalsy();
    expect(store.tasks.countOpen(family.id)).toBe(3);
  });

  it('caps the admin group on its own tasks too', async () => {
    for (let i = 0; i < 3; i++) expect((await schedule(newRun(main))).isError).toBeFalsy();
    const over = await schedule(newRun(main));
    expect(over.isError).toBe(true);
    expect(over.output).toMatch(/^Not scheduled in group "main"/);
    expect(tasksOf(main)).toHaveLength(3);
  });

  it('counts tasks the admin schedules into another group against that group, and against the run', async () => {
    const run = newRun(main);
    expect((await schedule(run, { group: 'family' })).isError).toBeFalsy();
    expect((await schedule(run, { group: 'family' })).isError).toBeFalsy();
    // The run's allowance is spent, whichever group the next task is for.
    expect((await schedule(run)).output).toMatch(/NANOCELL_MAX_TASKS_PER_RUN/);
    expect((await schedule(newRun(main), { group: 'family' })).isError).toBeFalsy();
    const over = await schedule(newRun(main), { group: 'family' });
    expect(over.output).toMatch(/^Not scheduled in group "family".*NANOCELL_MAX_TASKS_PER_GROUP/);
    expect(tasksOf(family)).toHaveLength(3);
    expect(tasksOf(main)).toHaveLength(0);
  });

  it('does not spend the run allowance on a refused task', async () => {
    const run = newRun(family);
    const bad = await schedule(run, { schedule: { kind: 'interval', everyMs: 5 } });
    expect(bad.isError).toBe(true);
    expect((await schedule(run)).isError).toBeFalsy();
    expect((await schedule(run)).isError).toBeFalsy();
    expect(tasksOf(family)).toHaveLength(2);
  });
});
