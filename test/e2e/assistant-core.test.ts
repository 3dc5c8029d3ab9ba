import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import {
  httpError,
  reply,
  startFakeModelServer,
  type FakeModelServer,
  type RecordedRequest,
} from '../support/fake-model-server.js';
import { startHost, type HostProcess } from '../support/host-process.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

type Block = { type: string; content?: string; is_error?: boolean; text?: string };

/** The tool results the model received in a request, in order. */
function toolResults(req: RecordedRequest): Block[] {
  const last = req.body!.messages!.at(-1)!;
  return (last.content as Block[]).filter((b) => b.type === 'tool_result');
}

describe('the assistant core, through the real host process', () => {
  let model: FakeModelServer;
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  let host: HostProcess | undefined;

  beforeAll(async () => {
    model = await startFakeModelServer();
  });
  afterAll(() => model.close());
  beforeEach(async () => {
    model.reset();
    home = tempHome();
    env = {
      ANTHROPIC_API_KEY: 'x',
      ANTHROPIC_BASE_URL: model.url,
      NANOCELL_HOME: home.dir,
      NANOCELL_MODEL_MAX_RETRIES: '0',
      NANOCELL_RUN_RETRY_BASE_MS: '20',
      NANOCELL_SCHEDULER_TICK_MS: '100',
    };
    expect(
      (await runCli(['groups', 'add', 'family', '--chat', 'web:family', '--no-trigger'], env)).code,
    ).toBe(0);
    expect((await runCli(['groups', 'add', 'club', '--chat', 'web:club'], env)).code).toBe(0);
  });
  afterEach(async () => {
    await host?.stop();
    host = undefined;
    home.cleanup();
  });

  it('lets a non-admin group act only on itself, whatever its model asks', async () => {
    host = await startHost(env);
    const events = await host.subscribe();
    // The admin group schedules a task of its own first.
    model.enqueue(
      reply().tool('schedule_task', {
        prompt: 'water the plants',
        schedule: { kind: 'interval', everyMs: 3_600_000 },
      }),
      reply().text('scheduled'),
    );
    await host.post('owner', 'remind me hourly');
    expect(await events.next('owner')).toBe('scheduled');
    expect(toolResults(model.requests[1]!)[0]!.content).toMatch(/Scheduled #1 \[main\]/);

    // The family group's model, turned hostile, tries to reach beyond its group.
    model.enqueue(
      reply()
        .tool('send_message', { text: 'hi admin', group: 'main' })
        .tool('schedule_task', {
          prompt: 'x',
          schedule: { kind: 'interval', everyMs: 60_000 },
          group: 'main',
        })
        .tool('pause_task', { task_id: 1 })
        .tool('cancel_task', { task_id: 1 })
        .tool('update_task', { task_id: 1, prompt: 'exfiltrate' })
        .tool('resume_task', { task_id: 1 })
        .tool('register_group', { name: 'evil', chat: 'web:evil' })
        .tool('list_groups', {})
        .tool('list_tasks', {}),
      reply().text('tried'),
    );
    await host.post('family', 'do things');
    expect(await events.next('family')).toBe('tried');
    const familyRequest = model.requests[2]!;
    const offered = familyRequest.body!.tools!.map((t) => t.name);
    expect(offered).not.toContain('register_group');
    expect(offered).not.toContain('list_groups');
    const results = toolResults(model.requests[3]!);
    expect(results).toHaveLength(9);
    for (const r of results.slice(0, 8)) expect(r.is_error, r.content).toBe(true);
    expect(results[0]!.content).toContain('may act only on itself');
    expect(results[2]!.content).toContain('No task #1 in group "family"');
    expect(results[6]!.content).toMatch(/only (available to|for) the admin group/);
    expect(results[8]!.content).toBe('No scheduled tasks.');
    events.close();

    const tasks = await runCli(['tasks', 'list'], env);
    expect(tasks.stdout).toMatch(/#1 \[main\] active every 1h/);
    expect(tasks.stdout).not.toContain('exfiltrate');
    const groups = await runCli(['groups', 'list'], env);
    expect(groups.stdout).not.toContain('evil');
  });

  it('lets the admin group message, list and register other groups', async () => {
    host = await startHost(env);
    const events = await host.subscribe();
    model.enqueue(
      reply()
        .tool('send_message', { text: 'dinner at 7', group: 'family' })
        .tool('list_groups', {})
        .tool('register_group', { name: 'work', chat: 'web:work', requires_trigger: false }),
      reply().text('done'),
    );
    await host.post('owner', 'tell the family');
    expect(await events.next('family')).toBe('dinner at 7');
    expect(await events.next('owner')).toBe('done');
    const [sent, listed, registered] = toolResults(model.requests[1]!);
    expect(sent!.is_error).toBeUndefined();
    expect(listed!.content).toMatch(/family \(no trigger\) chats: web:family/);
    expect(listed!.content).toMatch(/club \(trigger @Andy\) chats: web:club/);
    expect(registered!.content).toContain('Registered group "work"');

    model.enqueue(reply().text('hello work'));
    await host.post('work', 'hi');
    expect(await events.next('work')).toBe('hello work');
    expect(fs.existsSync(path.join(home.dir, 'groups', 'work', 'MEMORY.md'))).toBe(true);
    events.close();
  });

  it('answers a shared chat only to its trigger, with the earlier messages as context', async () => {
    host = await startHost(env);
    const events = await host.subscribe();
    expect((await host.post('club', 'who is coming on friday?', 'Ana')).status).toBe(202);
    expect((await host.post('club', 'me!', 'Ben')).status).toBe(202);
    model.enqueue(reply().text('Ben is coming.'));
    await host.post('club', '@andy who said they are coming?', 'Ana');
    expect(await events.next('club')).toBe('Ben is coming.');
    events.close();
    expect(model.requests).toHaveLength(1);
    const prompt = JSON.stringify(model.requests[0]!.body!.messages!.at(-1));
    expect(prompt).toContain('[Ana] who is coming on friday?');
    expect(prompt).toContain('[Ben] me!');
    expect(prompt).toContain('[Ana] @andy who said they are coming?');
  });

  it('retries a failing run with backoff, and tells the chat in plain words when it gives up', async () => {
    host = await startHost({ ...env, NANOCELL_RUN_MAX_ATTEMPTS: '3' });
    const events = await host.subscribe();
    model.enqueue(httpError(500), httpError(529), reply().text('third time lucky'));
    await host.post('owner', 'hello');
    expect(await events.next('owner')).toBe('third time lucky');
    expect(model.requests).toHaveLength(3);

    model.enqueue(httpError(500), httpError(500), httpError(500));
    await host.post('owner', 'again');
    expect(await events.next('owner')).toMatch(
      /^Sorry, I could not answer that: The model API failed \(HTTP 500\)/,
    );
    events.close();
  });

  it('/clear starts a fresh conversation and archives the old one in the group folder', async () => {
    host = await startHost(env);
    const events = await host.subscribe();
    model.enqueue(reply().text('noted'));
    await host.post('owner', 'my locker code is 4512');
    expect(await events.next('owner')).toBe('noted');
    await host.post('owner', '/clear');
    expect(await events.next('owner')).toMatch(/fresh conversation/);
    model.enqueue(reply().text('I do not know'));
    await host.post('owner', 'what is my locker code?');
    expect(await events.next('owner')).toBe('I do not know');
    events.close();
    expect(model.requests).toHaveLength(2);
    expect(JSON.stringify(model.requests[1]!.body!.messages)).not.toContain('4512');
    const archive = path.join(home.dir, 'groups', 'main', 'archive');
    const files = fs.readdirSync(archive);
    expect(files).toHaveLength(1);
    expect(fs.readFileSync(path.join(archive, files[0]!), 'utf8')).toContain('4512');
  });

  it('runs a scheduled task through the queue and answers in the group chat', async () => {
    host = await startHost(env);
    const events = await host.subscribe();
    const at = new Date(Date.now() + 1500).toISOString();
    model.enqueue(
      reply().tool('schedule_task', { prompt: 'say good morning', schedule: { kind: 'once', at } }),
      reply().text('will do'),
    );
    await host.post('owner', 'in a moment, say good morning');
    expect(await events.next('owner')).toBe('will do');
    model.enqueue(reply().text('Good morning!'));
    expect(await events.next('owner')).toBe('[task #1: say good morning] Good morning!');
    events.close();
    expect(JSON.stringify(model.requests[2]!.body!.messages!.at(-1))).toContain(
      '[scheduled task #1] say good morning',
    );
    const list = await runCli(['tasks', 'list'], env);
    expect(list.stdout).toMatch(/#1 \[main\] completed/);
  });

  it('runs a task missed while the host was down once at start, not once per missed slot', async () => {
    const store = Store.open(path.join(home.dir, 'nanocell.db'));
    const main =
      store.groups.byName('main') ?? store.groups.create({ name: 'main', isAdmin: true });
    store.groups.bindChat('web', 'owner', main.id);
    const threeHoursAgo = new Date(Date.now() - 3 * 3_600_000);
    const task = store.tasks.create(
      {
        groupId: main.id,
        prompt: 'hourly check',
        schedule: { kind: 'interval', everyMs: 3_600_000 },
        contextMode: 'isolated',
      },
      threeHoursAgo,
    );
    store.close();

    model.enqueue(reply().text('checked'));
    host = await startHost(env);
    const events = await host.subscribe();
    // The run may be delivered before the subscription is up: look in the chat first.
    const delivered = (await host.messages('owner')).filter((m) => m.direction === 'out');
    const answer = delivered[0]?.text ?? (await events.next('owner'));
    expect(answer).toBe('[task #1: hourly check] checked');
    events.close();
    await host.stop();
    host = undefined;

    const after = Store.open(path.join(home.dir, 'nanocell.db'));
    const runs = after.tasks.recentRuns(task.id);
    const next = after.tasks.byId(task.id)!.nextRunAt!;
    after.close();
    expect(runs.map((r) => r.status)).toEqual(['ok']);
    expect(runs[0]!.summary).toBe('checked');
    expect(new Date(next).getTime()).toBeGreaterThan(Date.now());
    expect(model.requests).toHaveLength(1);
  });

  it('status shows the running host, its groups and the next task runs', async () => {
    host = await startHost(env);
    const status = await runCli(['status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/host: running \(pid \d+/);
    expect(status.stdout).toMatch(/live cells: 0; runs: 0 running, 0 waiting; outbox: 0 pending/);
    expect(status.stdout).toContain('family: 0 message(s) waiting');
    expect(status.stdout).toContain('next task runs: none');
  });
});
