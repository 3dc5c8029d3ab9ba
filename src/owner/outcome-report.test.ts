import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostEvent } from '../control/host-events.js';
import { Store } from '../store/store.js';
import { OutcomeReport } from './outcome-report.js';
import { OwnerNotifier } from './owner-notifier.js';

describe('OutcomeReport and OwnerNotifier', () => {
  let store: Store;
  let sent: Array<{ groupId: number; to: string; text: string }>;
  let events: HostEvent[];
  let report: OutcomeReport;
  let adminId: number;
  let familyId: number;

  beforeEach(() => {
    store = Store.open(':memory:');
    adminId = store.groups.create({ name: 'main', isAdmin: true }).id;
    store.groups.bindChat('web', 'owner', adminId);
    store.groups.bindChat('terminal', 'main', adminId);
    familyId = store.groups.create({ name: 'family', isAdmin: false }).id;
    store.groups.bindChat('web', 'family', familyId);
    store.groups.bindChat('terminal', 'family', familyId);
    sent = [];
    events = [];
    const outbox = {
      send: (groupId: number, channel: string, chatId: string, text: string) =>
        sent.push({ groupId, to: `${channel}:${chatId}`, text }),
    };
    const owner = new OwnerNotifier({
      store,
      outbox,
      adminGroupId: adminId,
      assistantName: 'Andy',
    });
    report = new OutcomeReport({
      store,
      outbox,
      owner,
      assistantName: 'Andy',
      events: (e) => events.push(e),
    });
  });
  afterEach(() => store.close());

  const task = (groupId: number, prompt: string) =>
    store.tasks.create({
      groupId,
      prompt,
      schedule: { kind: 'interval', everyMs: 3_600_000 },
      contextMode: 'group',
    });

  it("sends the owner's own task result to every owner surface but the one that has it", () => {
    const t = task(adminId, 'check the weather');
    store.taskChats.set(t.id, { channel: 'web', chatId: 'owner' });
    report.taskRun(t.id, adminId, { ok: true, reply: 'sunny', messageId: 1, toolCalls: 0 });
    expect(sent).toEqual([
      { groupId: adminId, to: 'terminal:main', text: `[task #${t.id}: check the weather] sunny` },
    ]);
    expect(events).toEqual([{ type: 'task_ran', group: 'main', taskId: t.id, ok: true }]);
  });

  it("keeps another group's task result in that group's chat", () => {
    const t = task(familyId, 'dinner');
    report.taskRun(t.id, familyId, { ok: true, reply: 'ready', messageId: 1, toolCalls: 0 });
    expect(sent).toEqual([]);
  });

  it("tells a task's failure to its chat and to the owner, labelled", () => {
    const t = task(familyId, 'dinner');
    store.taskChats.set(t.id, { channel: 'terminal', chatId: 'family' });
    report.taskRun(t.id, familyId, {
      ok: false,
      kind: 'budget',
      error: 'over budget',
      retryable: false,
    });
    const label = `[task #${t.id}: dinner] failed: over budget`;
    expect(sent).toEqual([
      { groupId: familyId, to: 'terminal:family', text: label },
      { groupId: adminId, to: 'web:owner', text: `family: ${label}` },
      { groupId: adminId, to: 'terminal:main', text: `family: ${label}` },
    ]);
    expect(events).toEqual([
      { type: 'task_ran', group: 'family', taskId: t.id, ok: false, error: 'over budget' },
    ]);
  });

  it("tells a task paused by its group's daily budget to its chat only (the owner heard once already)", () => {
    const t = task(familyId, 'dinner');
    store.taskChats.set(t.id, { channel: 'terminal', chatId: 'family' });
    report.taskRun(t.id, familyId, {
      ok: false,
      kind: 'group_budget',
      error: 'Group family used 1,200 of its 1,000 tokens today; runs are paused.',
      retryable: false,
    });
    expect(sent.map((s) => s.to)).toEqual(['terminal:family']);
  });

  it('tells a message run that finally failed to the chat it answers, and the owner an event', () => {
    report.messageRun(
      familyId,
      { channel: 'web', chatId: 'family' },
      {
        ok: false,
        kind: 'model_server',
        error: 'the model failed',
        retryable: true,
      },
    );
    expect(sent).toEqual([
      {
        groupId: familyId,
        to: 'web:family',
        text: 'Sorry, I could not answer that: the model failed',
      },
    ]);
    expect(events).toEqual([
      { type: 'run_failed', group: 'family', error: 'the model failed', source: 'web:family' },
    ]);
  });
});
