import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../audit/audit-log.js';
import { loadConfig, type Config } from '../config.js';
import { Store } from '../store/store.js';
import type { Task } from '../store/tasks.js';
import { dashboardGroups } from './dashboard-groups.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');

describe('dashboardGroups', () => {
  let dir: string;
  let store: Store;
  let audit: AuditLog;
  let config: Config;
  let ran: Task[];
  let finishRun: (outcome: { ok: boolean; summary: string }) => void;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-dashgroups-'));
    config = loadConfig(
      {
        NANOCELL_HOME: path.join(dir, 'data'),
        NANOCELL_CONFIG_DIR: path.join(dir, 'config'),
        TZ: 'Europe/Berlin',
      },
      () => undefined,
    );
    fs.mkdirSync(config.configDir, { recursive: true });
    store = Store.open(':memory:');
    audit = AuditLog.open(path.join(dir, 'audit.log'), { now: () => NOW });
    store.groups.create({ name: 'main', isAdmin: true });
    ran = [];
  });
  afterEach(() => {
    audit.close();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const api = (
    cells: ReturnType<Parameters<typeof dashboardGroups>[0]['cells']> = [],
    runtime = 'bwrap',
  ) =>
    dashboardGroups({
      store,
      config,
      audit,
      cells: () => cells,
      runtime,
      memoryOf: (pid) => (pid === 7 ? 42 * 1024 * 1024 : null),
      queue: () => [{ groupId: 1, running: true, waiting: 2 }],
      runTask: (task) => {
        ran.push(task);
        return new Promise((resolve) => (finishRun = resolve));
      },
      lastRun: (groupId) =>
        groupId === 1
          ? { startedAt: 'a', finishedAt: 'b', truncated: false, changes: [] }
          : undefined,
      now: () => NOW,
    });
  const changes = () =>
    audit
      .tail(50)
      .map((r) => r.event)
      .filter((e) => e.type === 'group_change' || e.type === 'task_change');

  it('creates a group with a chat, binds and unbinds another, and audits each as the dashboard', () => {
    const created = api().changeGroup('', { action: 'create', name: 'family', chat: 'web:family' });
    expect(created).toMatchObject({ ok: true, group: { name: 'family', requiresTrigger: true } });
    expect(api().changeGroup('family', { action: 'bind', chat: 'telegram:42' })).toMatchObject({
      ok: true,
      group: { chats: ['web:family', 'terminal:family', 'telegram:42'] },
    });
    expect(api().changeGroup('family', { action: 'unbind', chat: 'telegram:42' })).toMatchObject({
      ok: true,
      group: { chats: ['web:family', 'terminal:family'] },
    });

    expect(changes()).toEqual([
      expect.objectContaining({ action: 'created', group: 'family', by: 'owner (dashboard)' }),
      expect.objectContaining({ summary: 'bound telegram:42', by: 'owner (dashboard)' }),
      expect.objectContaining({ summary: 'unbound telegram:42', by: 'owner (dashboard)' }),
    ]);
  });

  it('names the field a refusal is about', () => {
    api().changeGroup('', { action: 'create', name: 'family' });

    expect(api().changeGroup('', { action: 'create', name: 'family' })).toEqual({
      ok: false,
      reason: 'a group named "family" already exists',
      field: 'name',
    });
    expect(api().changeGroup('family', { action: 'bind', chat: 'carrier-pigeon:1' })).toMatchObject(
      { ok: false, field: 'chat', reason: expect.stringContaining('unknown channel') },
    );
    expect(api().changeGroup('', { action: 'create', name: 'Bad Name' })).toMatchObject({
      ok: false,
      field: 'name',
      reason: expect.stringContaining('invalid group name "Bad Name": use lowercase letters'),
    });
    expect(api().changeGroup('main', { action: 'unbind', chat: 'web:family' })).toMatchObject({
      ok: false,
      field: 'chat',
      reason: 'chat web:family is not bound to group "main"',
    });
  });

  it('never removes the admin group', () => {
    expect(api().changeGroup('main', { action: 'remove' })).toMatchObject({
      ok: false,
      reason: 'the admin group cannot be removed',
    });
    expect(store.groups.byName('main')).toBeDefined();
  });

  it('sets and clears the trigger, and sets the model back to the default', () => {
    api().changeGroup('', { action: 'create', name: 'family' });

    expect(
      api().changeGroup('family', { action: 'trigger', requiresTrigger: true, trigger: '@Bob' }),
    ).toMatchObject({ ok: true, group: { requiresTrigger: true, trigger: '@Bob' } });
    expect(
      api().changeGroup('family', { action: 'trigger', requiresTrigger: false }),
    ).toMatchObject({ ok: true, group: { requiresTrigger: false, trigger: null } });
    expect(
      api().changeGroup('family', { action: 'model', model: 'llama3.2', provider: 'openai' }),
    ).toMatchObject({ ok: true, group: { model: 'openai llama3.2' } });
    expect(api().changeGroup('family', { action: 'model', model: 'default' })).toMatchObject({
      ok: true,
      group: { model: null },
    });
    expect(api().changeGroup('family', { action: 'model', model: 'x', provider: 'acme' })).toEqual({
      ok: false,
      reason: 'unknown provider "acme": use one of anthropic, openai',
      field: 'provider',
    });
  });

  it('mounts a folder under an allowed root and refuses one outside it with the reason', () => {
    const photos = path.join(dir, 'photos');
    fs.mkdirSync(photos);
    fs.writeFileSync(
      path.join(config.configDir, 'mount-allowlist.json'),
      JSON.stringify({ allowedRoots: [{ path: photos }] }),
    );
    api().changeGroup('', { action: 'create', name: 'family' });

    expect(
      api().changeGroup('family', { action: 'mount', hostPath: photos, readOnly: true }),
    ).toMatchObject({ ok: true, group: { mounts: [{ hostPath: photos, readOnly: true }] } });
    const elsewhere = path.join(dir, 'elsewhere');
    fs.mkdirSync(elsewhere);
    const refused = api().changeGroup('family', {
      action: 'mount',
      hostPath: elsewhere,
      readOnly: true,
    });
    expect(refused).toMatchObject({ ok: false, field: 'hostPath' });
    expect(refused.ok === false && refused.reason).toMatch(/^refused: .*allowed root/);
    expect(api().changeGroup('family', { action: 'unmount', hostPath: photos })).toMatchObject({
      ok: true,
      group: { mounts: [] },
    });
  });

  it("previews the next three runs of a cron schedule in the owner's time zone", () => {
    expect(api().previewSchedule({ kind: 'cron', expr: '0 9 * * *' })).toEqual({
      ok: true,
      description: expect.stringContaining('0 9 * * *'),
      timezone: 'Europe/Berlin',
      nextRuns: [
        '2026-03-02T08:00:00.000Z',
        '2026-03-03T08:00:00.000Z',
        '2026-03-04T08:00:00.000Z',
      ],
    });
    expect(api().previewSchedule({ kind: 'cron', expr: '0 9 * *' })).toEqual({
      ok: false,
      error: expect.stringMatching(
        /^Invalid schedule: invalid cron expression "0 9 \* \*": it has 4 fields/,
      ),
    });
  });

  it('creates a task and runs it now without moving its schedule, recording the run', async () => {
    const created = api().createTask({
      group: 'main',
      prompt: 'water the plants',
      schedule: { kind: 'interval', everyMs: 3_600_000 },
    });
    expect(created).toMatchObject({ ok: true });
    const id = (created as { id: number }).id;
    const before = store.tasks.byId(id)!.nextRunAt;

    expect(api().runTaskNow(id)).toEqual({ ok: true });
    expect(ran.map((t) => t.id)).toEqual([id]);
    expect(store.tasks.recentRuns(id)[0]).toMatchObject({ status: 'running' });
    finishRun({ ok: true, summary: 'watered' });
    await new Promise<void>((resolve) => queueMicrotask(resolve));

    expect(store.tasks.recentRuns(id)[0]).toMatchObject({ status: 'ok', summary: 'watered' });
    expect(store.tasks.byId(id)!.nextRunAt).toBe(before);
    expect(changes().map((e) => ('summary' in e ? e.summary : e.action))).toEqual([
      'created',
      'run now',
    ]);
  });

  it('refuses a task with a bad schedule, and running a paused one', () => {
    expect(
      api().createTask({ group: 'main', prompt: 'x', schedule: { kind: 'interval', everyMs: 5 } }),
    ).toMatchObject({ ok: false, field: 'schedule', reason: expect.stringMatching(/too short/) });
    const task = store.tasks.create(
      {
        groupId: 1,
        prompt: 'x',
        schedule: { kind: 'interval', everyMs: 60_000 },
        contextMode: 'group',
      },
      NOW,
    );
    store.tasks.setStatus(task.id, 'paused');

    expect(api().runTaskNow(task.id)).toEqual({
      ok: false,
      reason: `task #${task.id} is paused; resume it first to run it`,
    });
  });

  it('shows live cells with their memory (unknown when unmeasured) and the queue per group', () => {
    const activity = api([
      {
        group: 'main',
        cellId: 'c1',
        pid: 7,
        memoryPid: null,
        role: 'run',
        state: 'alive',
        startedAtMs: NOW.getTime(),
      },
      {
        group: 'main',
        cellId: null,
        pid: null,
        memoryPid: null,
        role: 'spare',
        state: 'starting',
        startedAtMs: 0,
      },
    ]).activity();

    expect(activity).toEqual({
      runtime: 'bwrap',
      cells: [
        expect.objectContaining({ cellId: 'c1', memoryBytes: 42 * 1024 * 1024 }),
        expect.objectContaining({ role: 'spare', memoryBytes: null }),
      ],
      queue: [{ group: 'main', running: true, waiting: 2 }],
      totals: { running: 1, waiting: 2 },
    });
  });

  it("reads a container cell's memory under its own first process, never the engine's client", () => {
    const cell = {
      group: 'main',
      cellId: 'c2',
      role: 'run' as const,
      state: 'alive' as const,
      startedAtMs: NOW.getTime(),
    };
    const found = api([{ ...cell, pid: 99, memoryPid: 7 }], 'docker').activity();
    const unknown = api([{ ...cell, pid: 7, memoryPid: null }], 'docker').activity();
    expect(found.cells[0]?.memoryBytes).toBe(42 * 1024 * 1024);
    expect(unknown.cells[0]?.memoryBytes).toBeNull();
  });

  it('adds up usage per group for today, 7 and 30 days, with the budget', () => {
    const main = store.groups.byName('main')!;
    const record = (at: Date, input: number) =>
      store.usage.record({
        runId: `r${input}`,
        groupId: main.id,
        provider: 'anthropic',
        model: 'claude-sonnet-4',
        at,
        inputTokens: input,
        outputTokens: 10,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      });
    record(new Date('2026-03-01T08:00:00Z'), 100);
    record(new Date('2026-02-26T08:00:00Z'), 1000);
    record(new Date('2026-02-05T08:00:00Z'), 10000);
    store.groupBudgets.set(main.id, { tokens: 5000 });

    const [row] = api().usage().groups;

    expect(row).toMatchObject({
      group: 'main',
      today: { requests: 1, inputTokens: 100 },
      week: { requests: 2, inputTokens: 1100 },
      month: { requests: 3, inputTokens: 11100 },
      budget: { tokens: 5000, usd: null },
    });
    expect(row!.month.usd).toBeGreaterThan(row!.week.usd);
  });

  it('browses the group folder read-only and never follows a planted link', () => {
    const folder = path.join(config.home, 'groups', 'main');
    fs.mkdirSync(path.join(folder, 'notes'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'notes', 'todo.md'), 'buy bread\n');
    const secret = path.join(dir, 'secret.txt');
    fs.writeFileSync(secret, 'host secret');
    fs.symlinkSync(secret, path.join(folder, 'steal.txt'));

    expect(api().files('main', '')).toEqual({
      ok: true,
      view: {
        kind: 'dir',
        path: '',
        truncated: false,
        entries: [
          { name: 'notes', kind: 'dir', size: null },
          { name: 'steal.txt', kind: 'link', size: null },
        ],
      },
    });
    expect(api().files('main', 'notes/todo.md')).toMatchObject({
      ok: true,
      view: { kind: 'file', text: 'buy bread\n', size: 10 },
    });
    expect(api().files('main', 'steal.txt')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('symbolic link'),
    });
    expect(api().files('main', '../../secret.txt')).toMatchObject({ ok: false });
    expect(JSON.stringify(api().files('main', 'steal.txt'))).not.toContain('host secret');
  });

  it("answers what the group's last run changed, or that none ran yet", () => {
    store.groups.create({ name: 'family', isAdmin: false, requiresTrigger: true });
    expect(api().changes('main')).toMatchObject({
      ok: true,
      changes: { lastRun: { changes: [] } },
    });
    expect(api().changes('family')).toEqual({ ok: true, changes: { lastRun: null } });
  });
});
