import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeCellRuntime, type FakeAnswer } from '../../test/support/fake-cell-runtime.js';
import { FakeModelProvider, type FakeStep } from '../../test/support/fake-model-provider.js';
import { hang, reply } from '../../test/support/fake-model-server.js';
import { manualTime } from '../../test/support/manual-time.js';
import { tempHome } from '../../test/support/temp-home.js';
import type { TurnEvent } from '../agent/agent-loop.js';
import { ModelError } from '../agent/model-provider.js';
import type { AuditEvent, AuditSink } from '../audit/audit-event.js';
import { CellPool } from '../cells/cell-pool.js';
import type { CellSpec } from '../cells/cell-runtime.js';
import { Approvals } from '../policy/approvals.js';
import type { BudgetLimits } from '../policy/budgets.js';
import { ToolGate } from '../policy/tool-gate.js';
import { Outbox } from '../router/outbox.js';
import type { Group } from '../store/groups.js';
import { Store } from '../store/store.js';
import { HOST_TOOL_NAMES } from '../tools/host-tools.js';
import type { GroupRunDeps, RunContext } from './run.js';
import { runGroup } from './run-group.js';

const log = pino({ level: 'silent' });

/** A run's collaborators: the real store on :memory:, a scripted model, a fake cell runtime. */
class RunFixture {
  readonly store = Store.open(':memory:');
  readonly home = tempHome();
  readonly audit: AuditEvent[] = [];
  readonly events: TurnEvent[] = [];
  readonly runtime: FakeCellRuntime;
  readonly provider: FakeModelProvider;
  readonly pool: CellPool;
  readonly group: Group;

  /** The budget's clock: `outOfTime()` moves it past any wall-time limit of these tests. */
  readonly time = manualTime();

  constructor(script: FakeStep[], answer?: FakeAnswer, onRequest?: () => void) {
    this.provider = new FakeModelProvider(script, onRequest);
    this.runtime = new FakeCellRuntime(answer);
    // Reuse `group`: a cell stopped here was stopped by the run, not by the end of the run.
    this.pool = new CellPool(this.runtime, 60_000, log, { reuse: 'group' });
    this.group = this.store.groups.create({ name: 'family', isAdmin: false });
    this.store.groups.bindChat('web', 'family', this.group.id);
  }

  inbound(text: string): number {
    return this.store.messages.add({
      groupId: this.group.id,
      channel: 'web',
      chatId: 'family',
      direction: 'in',
      sender: 'u1',
      senderName: 'Alice',
      text,
      triggered: true,
    }).id;
  }

  deps(extra: Partial<GroupRunDeps> = {}): GroupRunDeps {
    const sink: AuditSink = { append: (e) => void this.audit.push(e) };
    const spec: CellSpec = {
      groupName: 'family',
      mounts: [],
      env: {},
      workdir: '/workspace/group',
      toolServerPath: '/dev/null',
      limits: { memoryMb: 64, pids: 16, cpus: 1, callTimeoutMs: 5000, maxOutputBytes: 4096 },
      network: { mode: 'none' },
    };
    return {
      store: this.store,
      provider: this.provider,
      pool: this.pool,
      outbox: new Outbox(this.store, log),
      cellSpec: () => Promise.resolve(spec),
      audit: sink,
      tasks: this.store.tasks,
      onEvent: (_ctx: RunContext, event) => void this.events.push(event),
      budgetTime: { clock: this.time.clock, timers: this.time.timers },
      log,
      settings: {
        home: this.home.dir,
        assistantName: 'Andy',
        timezone: 'UTC',
        maxTokens: 512,
        maxToolRounds: 5,
      },
      ...extra,
    };
  }

  /** Later (not inside the caller's own step): the run's wall time passes. */
  outOfTimeSoon(): void {
    setImmediate(() => this.time.advance(60_000));
  }

  cursor(): number {
    return this.store.groups.byId(this.group.id)!.cursorMessageId;
  }

  outbound(): string[] {
    return this.store.messages
      .recent(this.group.id, 50)
      .filter((m) => m.direction === 'out')
      .map((m) => m.text);
  }

  async close(): Promise<void> {
    await this.pool.stopAll();
    this.store.close();
    this.home.cleanup();
  }
}

const withBudget = (limits: BudgetLimits): Partial<GroupRunDeps> => ({ budget: limits });

describe('a run, with a fake model, a fake cell runtime and the real store', () => {
  let f: RunFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('labels the session untrusted when the group has a mount the owner marked untrusted', async () => {
    f = new RunFixture([reply().text('ok')]);
    f.store.groups.addMountRequest(f.group.id, {
      hostPath: '/srv/downloads',
      readOnly: true,
      untrusted: true,
    });
    f.inbound('and now?');
    await runGroup(f.deps(), f.group.id);
    // (Alice, a web link user here, is someone else too.)
    expect(f.store.provenance.get(f.group.id).sources).toContainEqual({
      kind: 'mount',
      detail: '/srv/downloads',
    });
  });

  it('stores the reply, the history and the advanced cursor together', async () => {
    f = new RunFixture([reply().text('Hello Alice.')]);
    const last = f.inbound('hi there');

    const outcome = await runGroup(f.deps(), f.group.id);

    expect(outcome).toMatchObject({ ok: true, reply: 'Hello Alice.', toolCalls: 0 });
    expect(f.outbound()).toEqual(['Hello Alice.']);
    expect(f.cursor()).toBe(last);
    const history = f.store.history.load(f.group.id);
    expect(history.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(JSON.stringify(history[0])).toContain('[Alice] hi there');
  });

  it('cuts a flood of a reply to the cap, with a note, in the chat and in the history', async () => {
    f = new RunFixture([reply().text('x'.repeat(50_000))]);
    f.inbound('hi there');
    const deps = f.deps();

    await runGroup({ ...deps, settings: { ...deps.settings, maxReplyChars: 2000 } }, f.group.id);

    const [sent] = f.outbound();
    expect(sent!.length).toBeLessThanOrEqual(2000);
    expect(sent).toMatch(/this text was 50000 characters; only the first 2000 were kept/);
    const kept = JSON.stringify(f.store.history.load(f.group.id));
    expect(kept.length).toBeLessThan(5000);
  });

  it('sets aside a message the model API refuses (400) and answers the next one', async () => {
    f = new RunFixture([
      new ModelError('bad_request', 'The model API refused the request (HTTP 400).'),
      reply().text('Fine now.'),
    ]);
    const refused = f.inbound('a message the API refuses');

    const first = await runGroup(f.deps(), f.group.id);

    expect(first).toMatchObject({ ok: false, kind: 'model_bad_request', retryable: false });
    expect(f.cursor()).toBe(refused);
    expect(f.outbound()[0]).toMatch(/refused this message .*set it aside.*\/clear/s);
    expect(f.store.history.load(f.group.id)).toEqual([]);
    f.inbound('next one');
    const second = await runGroup(f.deps(), f.group.id);
    expect(second).toMatchObject({ ok: true, reply: 'Fine now.' });
    const asked = JSON.stringify(f.provider.requests.at(-1));
    expect(asked).toContain('next one');
    expect(asked).not.toContain('a message the API refuses');
  });

  it('does not advance the cursor when the agent fails, and says whether to retry', async () => {
    f = new RunFixture([new ModelError('server', 'The model API failed (HTTP 500).')]);
    f.inbound('hi there');
    const before = f.cursor();

    const outcome = await runGroup(f.deps(), f.group.id);

    expect(outcome).toEqual({
      ok: false,
      kind: 'model_server',
      error: 'The model API failed (HTTP 500).',
      retryable: true,
    });
    expect(f.cursor()).toBe(before);
    expect(f.outbound()).toEqual([]);
    expect(f.store.history.load(f.group.id)).toEqual([]);
  });

  it('runs a cell tool in the cell and audits the call with its decision and outcome', async () => {
    f = new RunFixture(
      [reply().tool('bash', { command: 'ls' }), reply().text('One file.')],
      () => ({ ok: true, output: 'notes.md' }),
    );
    f.inbound('what files do I have?');

    const outcome = await runGroup(f.deps(), f.group.id);

    expect(outcome).toMatchObject({ ok: true, reply: 'One file.', toolCalls: 1 });
    expect(f.runtime.calls).toEqual([{ tool: 'bash', input: { command: 'ls' } }]);
    const calls = f.audit.filter((e) => e.type === 'tool_call');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      type: 'tool_call',
      group: 'family',
      tool: 'bash',
      decision: 'allow',
      outcome: 'ok',
    });
    const results = JSON.stringify(f.provider.requests[1]?.messages.at(-1));
    expect(results).toContain('notes.md');
  });

  it('audits a refused input as an error without reaching the cell', async () => {
    f = new RunFixture([reply().tool('bash', { command: '' }), reply().text('Sorry.')]);
    f.inbound('run nothing');

    await runGroup(f.deps(), f.group.id);

    expect(f.runtime.calls).toEqual([]);
    expect(f.audit.find((e) => e.type === 'tool_call')).toMatchObject({ outcome: 'error' });
  });

  it('stops a run over its tool-call budget and leaves the messages pending', async () => {
    f = new RunFixture([
      reply().tool('bash', { command: 'ls' }).tool('bash', { command: 'pwd' }),
      reply().text('never asked'),
    ]);
    f.inbound('do two things');
    const before = f.cursor();

    const outcome = await runGroup(f.deps(withBudget({ toolCalls: 1 })), f.group.id);

    expect(outcome).toEqual({
      ok: false,
      kind: 'budget',
      error: 'this turn used its 1 tool call; stopped',
      retryable: false,
    });
    expect(f.runtime.calls).toHaveLength(1);
    expect(f.provider.requests).toHaveLength(1);
    expect(f.cursor()).toBe(before);
  });

  it('stops a run over its token budget after the model answers', async () => {
    f = new RunFixture([
      reply().tool('bash', { command: 'ls' }).usage({ input_tokens: 900, output_tokens: 200 }),
    ]);
    f.inbound('hello');

    const outcome = await runGroup(f.deps(withBudget({ modelTokens: 1000 })), f.group.id);

    expect(outcome).toMatchObject({
      ok: false,
      kind: 'budget',
      error: 'this turn used its 1,000 model tokens; stopped',
    });
    expect(f.runtime.calls).toEqual([]);
  });

  it('charges the egress requests the proxy made during a tool call to the run', async () => {
    let proxied = 0; // the proxy's count for this run
    f = new RunFixture(
      [
        reply().tool('bash', { command: 'curl a; curl b' }),
        reply().tool('bash', { command: 'ls' }),
      ],
      () => {
        proxied += 3;
        return { ok: true, output: 'fetched' };
      },
    );
    f.inbound('fetch two pages');

    const outcome = await runGroup(
      f.deps({
        budget: { egressRequests: 2 },
        beginEgressRun: () => ({
          usage: () => ({ requests: proxied, overBudget: 0 }),
          pass: () => 'unused',
          end() {},
        }),
      }),
      f.group.id,
    );

    expect(outcome).toMatchObject({
      ok: false,
      kind: 'budget',
      error: 'this turn made its 2 network requests; stopped',
    });
    expect(f.runtime.calls).toHaveLength(1);
  });

  it("holds a task run to its own budget where that is tighter than the host's", async () => {
    f = new RunFixture([reply().tool('bash', { command: 'ls' })]);
    const task = f.store.tasks.create({
      groupId: f.group.id,
      prompt: 'look around',
      schedule: { kind: 'interval', everyMs: 3_600_000 },
      contextMode: 'isolated',
    });

    const outcome = await runGroup(
      f.deps({ budget: { toolCalls: 10 }, taskBudget: () => ({ toolCalls: 0 }) }),
      f.group.id,
      { kind: 'task', taskId: task.id },
    );

    expect(outcome).toMatchObject({
      ok: false,
      kind: 'budget',
      error: `task #${task.id} used its 0 tool calls; stopped`,
    });
  });

  it('stops a run over its wall time even while the model request hangs', async () => {
    f = new RunFixture([hang()], undefined, () => f?.outOfTimeSoon());
    f.inbound('hello?');
    const before = f.cursor();

    const outcome = await runGroup(f.deps(withBudget({ wallTimeMs: 30_000 })), f.group.id);

    expect(outcome).toEqual({
      ok: false,
      kind: 'budget',
      error: 'this turn ran for its 30 seconds; stopped',
      retryable: false,
    });
    expect(f.provider.requests).toHaveLength(1);
    expect(f.cursor()).toBe(before);
  });

  it('stops a hung cell call when the run is out of time, and stops that cell', async () => {
    const never = new Promise<never>(() => {});
    f = new RunFixture([reply().tool('bash', { command: 'sleep 1000' })], () => {
      f?.outOfTimeSoon();
      return never;
    });
    f.inbound('wait forever');

    const outcome = await runGroup(f.deps(withBudget({ wallTimeMs: 30_000 })), f.group.id);

    expect(outcome).toMatchObject({ ok: false, kind: 'budget' });
    expect(f.runtime.calls).toHaveLength(1);
    expect(f.runtime.started.map((c) => c.stopped)).toEqual([true]);
    expect(f.audit.find((e) => e.type === 'tool_call')).toMatchObject({ outcome: 'error' });
  });

  it("stops the wait for the owner's approval when the run is out of time", async () => {
    f = new RunFixture([reply().tool('bash', { command: 'ls' })]);
    const policyDir = path.join(f.home.dir, 'policy');
    fs.mkdirSync(policyDir);
    fs.writeFileSync(path.join(policyDir, 'default.policy'), 'ask bash\n');
    const asked: string[] = [];
    const gate = new ToolGate({
      policyDir,
      hostTools: HOST_TOOL_NAMES,
      approvals: new Approvals({ store: f.store.approvals }),
      audit: { append: (e) => void f?.audit.push(e) },
      log,
      notifyOwner: (text) => {
        asked.push(text);
        f?.outOfTimeSoon();
      },
      canWait: true,
    });
    f.inbound('list my files');

    const outcome = await runGroup(f.deps({ gate, budget: { wallTimeMs: 30_000 } }), f.group.id);

    expect(outcome).toMatchObject({ ok: false, kind: 'budget' });
    expect(asked).toHaveLength(1);
    expect(f.runtime.calls).toEqual([]);
  });

  it('passes text deltas and tool starts to the sink as the turn runs', async () => {
    f = new RunFixture([
      reply().text('Checking.').tool('bash', { command: 'ls' }),
      reply().text('Done now.'),
    ]);
    f.inbound('check');

    await runGroup(f.deps(), f.group.id);

    const text = f.events.flatMap((e) => (e.type === 'text' ? [e.text] : [])).join('');
    expect(text).toBe('Checking.Done now.');
    expect(f.events.filter((e) => e.type === 'text').length).toBeGreaterThan(2);
    expect(f.events.filter((e) => e.type !== 'text').map((e) => e.type)).toEqual([
      'tool_start',
      'tool_step',
      'tool_end',
    ]);
    // The finished call as the dashboard's card shows it: input, output, decision, duration.
    expect(f.events.find((e) => e.type === 'tool_step')).toMatchObject({
      name: 'bash',
      input: { command: 'ls' },
      output: expect.any(String),
      decision: 'allow',
      durationMs: expect.any(Number),
    });
  });

  it("answers a task in the group's chat and leaves the message cursor alone", async () => {
    f = new RunFixture([reply().text('Daily summary.')]);
    const task = f.store.tasks.create({
      groupId: f.group.id,
      prompt: 'summarise the day',
      schedule: { kind: 'interval', everyMs: 3_600_000 },
      contextMode: 'isolated',
    });
    const before = f.cursor();

    const outcome = await runGroup(f.deps(), f.group.id, { kind: 'task', taskId: task.id });

    expect(outcome).toMatchObject({ ok: true, reply: 'Daily summary.' });
    expect(f.outbound()).toEqual([`[task #${task.id}: summarise the day] Daily summary.`]);
    expect(f.cursor()).toBe(before);
    expect(JSON.stringify(f.provider.requests[0]?.messages)).toContain(
      `[scheduled task #${task.id}] summarise the day`,
    );
  });
});

describe("a group's daily budget, with the real store", () => {
  let f: RunFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });
  const day1 = new Date('2026-12-03T09:00:00Z');
  const day2 = new Date('2026-12-04T00:00:01Z');

  it("records each model request's tokens under the run, group and model, also when the run fails later", async () => {
    f = new RunFixture([
      reply().tool('bash', { command: 'ls' }).usage({ input_tokens: 100, output_tokens: 10 }),
      new ModelError('server', 'The model API failed (HTTP 500).'),
    ]);
    f.inbound('hi');
    const outcome = await runGroup(f.deps({ clock: () => day1 }), f.group.id);
    expect(outcome).toMatchObject({ ok: false, kind: 'model_server' });
    expect(f.store.usage.totals('group', day1, f.group.id)).toEqual([
      {
        key: String(f.group.id),
        model: 'fake-model',
        requests: 1,
        inputTokens: 100,
        outputTokens: 10,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      },
    ]);
  });

  it('does not start a run over the token budget: the messages stay, the owner is told once a day, and the run resumes the next day', async () => {
    f = new RunFixture([
      reply().text('first').usage({ input_tokens: 900, output_tokens: 200 }),
      reply().text('answer to both'),
    ]);
    f.store.groupBudgets.set(f.group.id, { tokens: 1000 });
    const told: string[] = [];
    let now = day1;
    const deps = f.deps({ clock: () => now, notifyOwner: (text) => void told.push(text) });
    f.inbound('one');
    expect(await runGroup(deps, f.group.id)).toMatchObject({ ok: true, reply: 'first' });

    const kept = f.inbound('two');
    const before = f.cursor();
    const paused = await runGroup(deps, f.group.id);
    expect(paused).toMatchObject({ ok: false, kind: 'group_budget', retryable: false });
    if (paused.ok) throw new Error('ran');
    expect(paused.error).toContain('used 1,100 of its 1,000 tokens today');
    expect(f.cursor()).toBe(before);
    f.inbound('three');
    await runGroup(deps, f.group.id);
    expect(told).toHaveLength(1);
    expect(told[0]).toContain('Group family used 1,100');
    expect(f.provider.requests).toHaveLength(1);

    now = day2;
    const resumed = await runGroup(deps, f.group.id);
    expect(resumed).toMatchObject({ ok: true, reply: 'answer to both' });
    const asked = JSON.stringify(f.provider.requests.at(-1)?.messages.at(-1));
    expect(asked).toContain('two');
    expect(asked).toContain('three');
    expect(f.cursor()).toBeGreaterThan(kept);
  });

  it('runs again at once when the budget is raised, and tells the owner again if it is passed again', async () => {
    f = new RunFixture([
      reply().text('first').usage({ input_tokens: 500, output_tokens: 100 }),
      reply().text('second').usage({ input_tokens: 500, output_tokens: 100 }),
    ]);
    f.store.groupBudgets.set(f.group.id, { tokens: 500 });
    const told: string[] = [];
    const deps = f.deps({ clock: () => day1, notifyOwner: (text) => void told.push(text) });
    f.inbound('one');
    await runGroup(deps, f.group.id);
    f.inbound('two');
    expect(await runGroup(deps, f.group.id)).toMatchObject({ kind: 'group_budget' });
    f.store.groupBudgets.set(f.group.id, { tokens: 5000 });
    expect(await runGroup(deps, f.group.id)).toMatchObject({ ok: true, reply: 'second' });
    f.store.groupBudgets.set(f.group.id, { tokens: null, usd: 0.001 });
    f.inbound('three');
    const overUsd = await runGroup(deps, f.group.id);
    expect(overUsd).toMatchObject({ ok: false, kind: 'group_budget' });
    if (overUsd.ok) throw new Error('ran');
    // 1,000 input and 200 output tokens of an unknown model at the "*" price: $0.006.
    expect(overUsd.error).toContain('spent about $0.0060 of its $0.0010');
    expect(told).toHaveLength(2);
  });
});
