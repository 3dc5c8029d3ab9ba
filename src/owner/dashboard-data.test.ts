import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../audit/audit-log.js';
import { Store } from '../store/store.js';
import { dashboardData } from './dashboard-data.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');

describe('dashboardData', () => {
  let dir: string;
  let store: Store;
  let audit: AuditLog;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-dashdata-'));
    store = Store.open(':memory:');
    audit = AuditLog.open(path.join(dir, 'audit.log'), { now: () => NOW });
  });
  afterEach(() => {
    audit.close();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const data = () => dashboardData({ store, audit, assistantName: 'Andy', now: () => NOW });

  it("lists the web chats of every group, the owner's own first", () => {
    const family = store.groups.create({ name: 'family', isAdmin: false, requiresTrigger: true });
    const main = store.groups.create({ name: 'main', isAdmin: true });
    store.groups.bindChat('web', 'family', family.id);
    store.groups.bindChat('telegram', '42', family.id);
    store.groups.bindChat('web', 'owner', main.id);

    expect(data().chats()).toEqual([
      { chatId: 'owner', group: 'main', isAdmin: true },
      { chatId: 'family', group: 'family', isAdmin: false },
    ]);
    expect(data().groups()).toEqual([
      {
        name: 'family',
        isAdmin: false,
        chats: ['web:family', 'telegram:42'],
        trigger: '@Andy',
        model: null,
      },
      { name: 'main', isAdmin: true, chats: ['web:owner'], trigger: null, model: null },
    ]);
  });

  it('shows only approvals still waiting, with their exact input', () => {
    const base = {
      fingerprint: 'fp',
      groupName: 'family',
      taskId: null,
      tool: 'bash',
      input: { command: 'rm -rf build', cwd: '/workspace/group' },
      createdAt: '2026-03-01T11:55:00.000Z',
    };
    store.approvals.insert({ ...base, code: 'AAAAAA', expiresAt: '2026-03-01T12:05:00.000Z' });
    store.approvals.insert({ ...base, code: 'BBBBBB', expiresAt: '2026-03-01T11:59:00.000Z' });

    expect(data().approvals()).toEqual([
      {
        code: 'AAAAAA',
        group: 'family',
        tool: 'bash',
        input: { command: 'rm -rf build', cwd: '/workspace/group' },
        createdAt: '2026-03-01T11:55:00.000Z',
        expiresAt: '2026-03-01T12:05:00.000Z',
      },
    ]);
  });

  it('pauses a task and writes the change to the audit log, which then verifies', () => {
    const main = store.groups.create({ name: 'main', isAdmin: true });
    const task = store.tasks.create(
      {
        groupId: main.id,
        prompt: 'water the plants',
        schedule: { kind: 'interval', everyMs: 3_600_000 },
        contextMode: 'group',
      },
      NOW,
    );

    const paused = data().changeTask(task.id, 'pause');
    const missing = data().changeTask(999, 'resume');

    expect(paused).toMatchObject({
      ok: true,
      task: { id: task.id, status: 'paused', nextRunAt: null },
    });
    expect(missing).toEqual({ ok: false, reason: 'no task #999' });
    expect(data().audit(10)).toEqual([
      {
        seq: 1,
        ts: NOW.toISOString(),
        type: 'task_change',
        detail: { group: 'main', task: String(task.id), action: 'paused', by: 'owner (dashboard)' },
      },
    ]);
    expect(data().verifyAudit()).toEqual({ ok: true, records: 1 });
  });

  it("shows a task's latest runs, newest first, with why one failed", () => {
    const main = store.groups.create({ name: 'main', isAdmin: true });
    const task = store.tasks.create(
      {
        groupId: main.id,
        prompt: 'check the mail',
        schedule: { kind: 'interval', everyMs: 3_600_000 },
        contextMode: 'isolated',
      },
      NOW,
    );
    const later = (ms: number) => new Date(NOW.getTime() + ms);
    const run = (
      at: number,
      outcome: { status: 'ok' | 'error'; summary?: string; error?: string },
    ) => {
      const due = store.tasks.byId(task.id)!.nextRunAt!;
      const id = store.tasks.markRunStarted(task.id, {
        dueAt: due,
        nextRunAt: later(at + 3_600_000),
        now: later(at),
      })!;
      store.tasks.markRunFinished(id, { ...outcome, now: later(at + 2000) });
    };
    run(3_600_000, { status: 'ok', summary: 'no new mail' });
    run(7_200_000, { status: 'error', error: 'model unreachable' });

    const [shown] = data().tasks();

    expect(shown!.runs.map((r) => [r.status, r.summary])).toEqual([
      ['error', 'model unreachable'],
      ['ok', 'no new mail'],
    ]);
    expect(shown!.runs[1]!.finishedAt).toBe(later(3_602_000).toISOString());
  });

  it('reports a broken chain with where it broke', () => {
    const main = store.groups.create({ name: 'main', isAdmin: true });
    audit.append({ type: 'group_change', group: main.name, action: 'created', by: 'owner (cli)' });
    audit.append({ type: 'group_change', group: main.name, action: 'updated', by: 'owner (cli)' });
    const file = path.join(dir, 'audit.log');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('updated', 'removed'));

    const verdict = data().verifyAudit();

    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.problems[0]).toMatch(/^line 2: /);
  });
});
