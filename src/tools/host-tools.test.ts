import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempHome } from '../../test/support/temp-home.js';
import type { ToolOutcome } from '../agent/agent-loop.js';
import type { RunContext } from '../run/run.js';
import { Outbox } from '../router/outbox.js';
import type { Schedule } from '../scheduler/schedule.js';
import type { Group } from '../store/groups.js';
import { Store } from '../store/store.js';
import type { Task } from '../store/tasks.js';
import { AssistantHostTools, HOST_TOOL_NAMES } from './host-tools.js';
import { sendFileTool } from './send-file-tool.js';
import { taskTools } from './task-tools.js';
import { webFetchTool } from './web-fetch-tool.js';
import { searchProvider } from './web-search-providers.js';
import { webSearchTool } from './web-search-tool.js';

const log = pino({ level: 'silent' });
const NOW = new Date('2026-03-01T10:00:00.000Z');
const hourly: Schedule = { kind: 'interval', everyMs: 3_600_000 };
const hourlyInput = { kind: 'interval', everyMs: 3_600_000 };

/** What every test starts from: three groups, each with a chat, and tasks in each. */
interface Fixture {
  main: Group;
  family: Group;
  club: Group;
  mainTask: Task;
  familyTask: Task;
  clubTask: Task;
  clubPaused: Task;
}

type Input = (f: Fixture) => Record<string, unknown>;

describe('AssistantHostTools with the task tools', () => {
  let store: Store;
  let home: { dir: string; cleanup: () => void };
  let tools: AssistantHostTools;
  let f: Fixture;

  const ctx = (group: Group): RunContext => ({
    group,
    channel: 'web',
    chatId: `${group.name}-chat`,
  });
  const run = async (
    group: Group,
    name: string,
    input: Record<string, unknown>,
  ): Promise<ToolOutcome> => {
    const outcome = tools.execute(ctx(group), name, input);
    if (!outcome) throw new Error(`${name} is not a host tool`);
    return outcome;
  };
  const groupByName = (name: string): Group => {
    const g = { main: f.main, family: f.family, club: f.club }[name];
    if (!g) throw new Error(`no fixture group ${name}`);
    return g;
  };
  /** Everything the host tools could change: rows of every table and the group folders. */
  const snapshot = (): string =>
    JSON.stringify({
      tables: ['groups', 'chats', 'tasks', 'task_runs', 'messages'].map((t) =>
        store.db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all(),
      ),
      folders: fs.readdirSync(path.join(home.dir, 'groups')).sort(),
    });
  const outbound = () =>
    store.db
      .prepare(
        `SELECT group_id AS groupId, channel, chat_id AS chatId, text, delivered_at AS deliveredAt
         FROM messages WHERE direction = 'out' ORDER BY id`,
      )
      .all();

  beforeEach(() => {
    store = Store.open(':memory:');
    home = tempHome();
    fs.mkdirSync(path.join(home.dir, 'groups'));
    // No channel is registered: what send_message queues stays in the outbox for the test.
    const outbox = new Outbox(store, log, { now: () => NOW });
    tools = new AssistantHostTools(
      [
        sendFileTool({ outbox, home: home.dir, assistantName: 'Andy', maxBytes: 1024 }),
        ...taskTools({
          store,
          timezone: 'Europe/Berlin',
          now: () => NOW,
          limits: { perGroup: 50, perRun: 10 },
        }),
        // No group here has egress: web_fetch through a real proxy is in web-fetch-tool.test.ts.
        webFetchTool({ store, egressFor: () => undefined }),
        webSearchTool({
          store,
          egressFor: () => undefined,
          provider: searchProvider({ provider: 'searxng', baseUrl: 'https://search.example' }),
        }),
      ],
      { store, outbox, home: home.dir, assistantName: 'Andy' },
    );
    const group = (name: string, isAdmin: boolean) => {
      const g = store.groups.create({ name, isAdmin, requiresTrigger: !isAdmin });
      store.groups.bindChat('web', `${name}-chat`, g.id);
      return g;
    };
    const task = (g: Group, prompt: string) =>
      store.tasks.create({ groupId: g.id, prompt, schedule: hourly, contextMode: 'group' }, NOW);
    const main = group('main', true);
    const family = group('family', false);
    const club = group('club', false);
    const clubPaused = task(club, 'club paused plan');
    const paused = store.tasks.setStatus(clubPaused.id, 'paused', NOW);
    if (!paused.ok) throw new Error(paused.reason);
    f = {
      main,
      family,
      club,
      mainTask: task(main, 'main owner chores'),
      familyTask: task(family, 'family shopping list'),
      clubTask: task(club, 'club secret plan'),
      clubPaused: paused.task,
    };
  });
  afterEach(() => {
    store.close();
    home.cleanup();
  });

  describe('a non-admin group acting on another group', () => {
    const ONLY_ITSELF = /^Group "family" may act only on itself/;
    const NO_TASK = /^No task #\d+ in group "family"\.$/;
    const ADMIN_ONLY = /is only available to the admin group\.$/;
    const refusals: Array<{ tool: string; what: string; input: Input; refusal: RegExp }> = [
      {
        tool: 'send_message',
        what: 'a message to another group',
        input: () => ({ text: 'hi club', group: 'club' }),
        refusal: ONLY_ITSELF,
      },
      {
        tool: 'send_message',
        what: 'a message to the admin group',
        input: () => ({ text: 'hi boss', group: 'main' }),
        refusal: ONLY_ITSELF,
      },
      {
        tool: 'send_message',
        what: 'a message to a group that does not exist (same answer: no probing)',
        input: () => ({ text: 'anyone?', group: 'nobody' }),
        refusal: ONLY_ITSELF,
      },
      {
        tool: 'schedule_task',
        what: 'a task in another group',
        input: () => ({ prompt: 'spam the club', schedule: hourlyInput, group: 'club' }),
        refusal: ONLY_ITSELF,
      },
      {
        tool: 'schedule_task',
        what: 'a task in the admin group',
        input: () => ({ prompt: 'run as admin', schedule: hourlyInput, group: 'main' }),
        refusal: ONLY_ITSELF,
      },
      {
        tool: 'pause_task',
        what: "another group's task",
        input: (fx) => ({ task_id: fx.clubTask.id }),
        refusal: NO_TASK,
      },
      {
        tool: 'resume_task',
        what: "another group's paused task",
        input: (fx) => ({ task_id: fx.clubPaused.id }),
        refusal: NO_TASK,
      },
      {
        tool: 'cancel_task',
        what: "another group's task",
        input: (fx) => ({ task_id: fx.clubTask.id }),
        refusal: NO_TASK,
      },
      {
        tool: 'cancel_task',
        what: "the admin group's task",
        input: (fx) => ({ task_id: fx.mainTask.id }),
        refusal: NO_TASK,
      },
      {
        tool: 'update_task',
        what: "another group's task prompt",
        input: (fx) => ({ task_id: fx.clubTask.id, prompt: 'hijacked' }),
        refusal: NO_TASK,
      },
      {
        tool: 'update_task',
        what: "the admin group's task schedule",
        input: (fx) => ({
          task_id: fx.mainTask.id,
          schedule: { kind: 'interval', everyMs: 60_000 },
        }),
        refusal: NO_TASK,
      },
      {
        tool: 'register_group',
        what: 'a new group',
        input: () => ({ name: 'evil', chat: 'web:evil-chat' }),
        refusal: ADMIN_ONLY,
      },
      {
        tool: 'register_group',
        what: "another group's chat",
        input: () => ({ name: 'club2', chat: 'web:club-chat' }),
        refusal: ADMIN_ONLY,
      },
      {
        tool: 'list_groups',
        what: 'every group',
        input: () => ({}),
        refusal: ADMIN_ONLY,
      },
    ];

    it.each(refusals)('$tool is refused for $what, and nothing changes', async (row) => {
      const before = snapshot();

      const outcome = await run(f.family, row.tool, row.input(f));

      expect(outcome.isError).toBe(true);
      expect(outcome.output).toMatch(row.refusal);
      expect(snapshot()).toBe(before);
    });

    it("answers a missing task id exactly as another group's one, so ids cannot be probed", async () => {
      const missing = await run(f.family, 'pause_task', { task_id: 9999 });
      const foreign = await run(f.family, 'pause_task', { task_id: f.clubTask.id });

      expect(missing.output.replace(/#\d+/, '#N')).toBe(foreign.output.replace(/#\d+/, '#N'));
    });

    it.each([{ input: {} }, { input: { group: 'club' } }])(
      'list_tasks with $input shows only its own tasks',
      async ({ input }) => {
        const before = snapshot();

        const outcome = await run(f.family, 'list_tasks', input);

        expect(outcome.isError).toBe(false);
        expect(outcome.output).toContain('family shopping list');
        expect(outcome.output).toContain(`#${f.familyTask.id} [family]`);
        for (const other of ['club secret plan', 'club paused plan', 'main owner chores']) {
          expect(outcome.output).not.toContain(other);
        }
        expect(outcome.output).not.toContain('[club]');
        expect(outcome.output).not.toContain('[main]');
        expect(snapshot()).toBe(before);
      },
    );

    it("search_history finds the group's own past only, and labels the session", async () => {
      const said = (text: string) => [
        { role: 'user' as const, content: [{ type: 'text' as const, text }] },
      ];
      store.history.append(f.family.id, said('the picnic is at the lake'));
      store.history.append(f.club.id, said('the club picnic password is swordfish'));

      const found = await run(f.family, 'search_history', { query: 'picnic' });
      expect(found.isError).toBe(false);
      expect(found.output).toContain('[picnic] is at the lake');
      expect(found.output).not.toContain('swordfish');
      expect(store.provenance.get(f.family.id).untrusted).toBe(true);
      const none = await run(f.family, 'search_history', { query: 'swordfish' });
      expect(none.output).toMatch(/^Nothing in this group's past conversations matches/);
    });

    it('covers every host tool', () => {
      // send_file takes no group: it reads only the caller's own folder (send-file-tool.test.ts).
      const covered = new Set([
        ...refusals.map((r) => r.tool),
        'list_tasks',
        'send_file',
        'search_history',
        // web_fetch takes no group: it goes out through the caller's own proxy only.
        'web_fetch',
        // web_search too (web-search-tool.test.ts).
        'web_search',
      ]);
      expect([...covered].sort()).toEqual([...HOST_TOOL_NAMES].sort());
    });

    it('is not offered register_group or list_groups', () => {
      const names = tools.definitions(f.family).map((d) => d.name);

      expect(names).not.toContain('register_group');
      expect(names).not.toContain('list_groups');
      expect(names.sort()).toEqual(
        HOST_TOOL_NAMES.filter((n) => n !== 'register_group' && n !== 'list_groups').sort(),
      );
    });
  });

  describe('a non-admin group acting on itself', () => {
    it('sends a message to its own chat', async () => {
      const outcome = await run(f.family, 'send_message', { text: 'on my way' });

      expect(outcome.isError).toBe(false);
      expect(outbound()).toEqual([
        {
          groupId: f.family.id,
          channel: 'web',
          chatId: 'family-chat',
          text: 'on my way',
          deliveredAt: null,
        },
      ]);
    });

    it('schedules a task when the group field names itself', async () => {
      const outcome = await run(f.family, 'schedule_task', {
        prompt: 'water the plants',
        schedule: hourlyInput,
        group: 'family',
      });

      expect(outcome.isError).toBe(false);
      expect(store.tasks.listForGroup(f.family.id).map((t) => t.prompt)).toContain(
        'water the plants',
      );
    });

    it.each([
      { tool: 'pause_task', status: 'paused' },
      { tool: 'cancel_task', status: 'cancelled' },
    ])('$tool changes its own task to $status', async ({ tool, status }) => {
      const outcome = await run(f.family, tool, { task_id: f.familyTask.id });

      expect(outcome.isError).toBe(false);
      expect(store.tasks.byId(f.familyTask.id)?.status).toBe(status);
    });
  });

  describe('the admin group', () => {
    const allowed: Array<{ tool: string; what: string; input: Input; check: () => void }> = [
      {
        tool: 'send_message',
        what: 'a message to another group',
        input: () => ({ text: 'hello club', group: 'club' }),
        check: () =>
          expect(outbound()).toEqual([
            {
              groupId: f.club.id,
              channel: 'web',
              chatId: 'club-chat',
              text: 'hello club',
              deliveredAt: null,
            },
          ]),
      },
      {
        tool: 'schedule_task',
        what: 'a task in another group',
        input: () => ({
          prompt: 'club newsletter',
          schedule: { kind: 'cron', expr: '0 9 * * 1', timezone: 'Europe/Berlin' },
          context_mode: 'isolated',
          group: 'club',
        }),
        check: () =>
          expect(store.tasks.listForGroup(f.club.id).at(-1)).toMatchObject({
            prompt: 'club newsletter',
            contextMode: 'isolated',
            status: 'active',
            schedule: { kind: 'cron', expr: '0 9 * * 1', timezone: 'Europe/Berlin' },
            // Monday 2 March 2026, 09:00 in Berlin (CET, UTC+1).
            nextRunAt: '2026-03-02T08:00:00.000Z',
          }),
      },
      {
        tool: 'pause_task',
        what: "another group's task",
        input: (fx) => ({ task_id: fx.clubTask.id }),
        check: () => expect(store.tasks.byId(f.clubTask.id)?.status).toBe('paused'),
      },
      {
        tool: 'resume_task',
        what: "another group's paused task",
        input: (fx) => ({ task_id: fx.clubPaused.id }),
        check: () => expect(store.tasks.byId(f.clubPaused.id)?.status).toBe('active'),
      },
      {
        tool: 'cancel_task',
        what: "another group's task",
        input: (fx) => ({ task_id: fx.clubTask.id }),
        check: () => expect(store.tasks.byId(f.clubTask.id)?.status).toBe('cancelled'),
      },
      {
        tool: 'update_task',
        what: "another group's task",
        input: (fx) => ({ task_id: fx.clubTask.id, prompt: 'club public plan' }),
        check: () => expect(store.tasks.byId(f.clubTask.id)?.prompt).toBe('club public plan'),
      },
      {
        tool: 'register_group',
        what: 'a new group',
        input: () => ({ name: 'school', chat: 'web:school-chat' }),
        check: () => {
          const school = store.groups.byName('school');
          expect(school).toMatchObject({ isAdmin: false, requiresTrigger: true, trigger: null });
          expect(store.groups.forChat('web', 'school-chat')?.name).toBe('school');
          expect(fs.existsSync(path.join(home.dir, 'groups', 'school', 'MEMORY.md'))).toBe(true);
        },
      },
    ];

    it.each(allowed)('$tool acts on $what', async (row) => {
      const outcome = await run(f.main, row.tool, row.input(f));

      expect(outcome.isError, outcome.output).toBe(false);
      row.check();
    });

    it("list_tasks shows every group's tasks", async () => {
      const outcome = await run(f.main, 'list_tasks', {});

      expect(outcome.isError).toBe(false);
      for (const prompt of [
        'main owner chores',
        'family shopping list',
        'club secret plan',
        'club paused plan',
      ]) {
        expect(outcome.output).toContain(prompt);
      }
    });

    it('list_groups shows every group with its chats and trigger', async () => {
      const outcome = await run(f.main, 'list_groups', {});

      expect(outcome.isError).toBe(false);
      expect(outcome.output.split('\n')).toEqual([
        'main (admin) chats: web:main-chat',
        'family (trigger @Andy) chats: web:family-chat',
        'club (trigger @Andy) chats: web:club-chat',
      ]);
    });

    it.each([
      {
        what: 'a group that does not exist',
        input: { text: 'hi', group: 'nobody' },
        refusal: /^No group named "nobody"/,
      },
    ])('send_message is refused for $what, and nothing changes', async ({ input, refusal }) => {
      const before = snapshot();

      const outcome = await run(f.main, 'send_message', input);

      expect(outcome.isError).toBe(true);
      expect(outcome.output).toMatch(refusal);
      expect(snapshot()).toBe(before);
    });

    it.each([
      {
        what: 'an existing name',
        input: { name: 'club', chat: 'web:new-chat' },
        refusal: /already exists/,
      },
      {
        what: 'a chat bound elsewhere',
        input: { name: 'new', chat: 'web:club-chat' },
        refusal: /already belongs to group "club"/,
      },
      {
        what: 'a channel nanocell does not know',
        input: { name: 'new', chat: 'telegarm:123' },
        refusal: /unknown channel "telegarm"; known channels: .*telegram/,
      },
      {
        what: 'a chat id not in its platform form',
        input: { name: 'new', chat: 'telegram:@family' },
        refusal: /expected telegram:<chat id/,
      },
    ])('register_group is refused for $what, and nothing changes', async ({ input, refusal }) => {
      const before = snapshot();

      const outcome = await run(f.main, 'register_group', input);

      expect(outcome.isError).toBe(true);
      expect(outcome.output).toMatch(refusal);
      expect(snapshot()).toBe(before);
    });

    it('is offered exactly HOST_TOOL_NAMES', () => {
      const names = tools.definitions(f.main).map((d) => d.name);

      expect(new Set(names).size).toBe(names.length);
      expect(names.sort()).toEqual([...HOST_TOOL_NAMES].sort());
    });
  });

  describe('invalid input', () => {
    const rows: Array<{ tool: string; what: string; group: string; input: Input; field: string }> =
      [
        {
          tool: 'send_message',
          what: 'a missing text',
          group: 'family',
          input: () => ({}),
          field: 'text',
        },
        {
          tool: 'send_message',
          what: 'an empty text',
          group: 'family',
          input: () => ({ text: '' }),
          field: 'text',
        },
        {
          tool: 'send_message',
          what: 'a number as text',
          group: 'family',
          input: () => ({ text: 5 }),
          field: 'text',
        },
        {
          tool: 'send_message',
          what: 'a number as group',
          group: 'main',
          input: () => ({ text: 'hi', group: 7 }),
          field: 'group',
        },
        {
          tool: 'schedule_task',
          what: 'a missing prompt',
          group: 'family',
          input: () => ({ schedule: hourlyInput }),
          field: 'prompt',
        },
        {
          tool: 'schedule_task',
          what: 'a number as prompt',
          group: 'family',
          input: () => ({ prompt: 42, schedule: hourlyInput }),
          field: 'prompt',
        },
        {
          tool: 'schedule_task',
          what: 'a bad context_mode',
          group: 'family',
          input: () => ({ prompt: 'x', schedule: hourlyInput, context_mode: 'shared' }),
          field: 'context_mode',
        },
        {
          tool: 'schedule_task',
          what: 'a missing schedule',
          group: 'family',
          input: () => ({ prompt: 'x' }),
          field: 'schedule',
        },
        {
          tool: 'schedule_task',
          what: 'a cron expression with a minute of 61',
          group: 'family',
          input: () => ({ prompt: 'x', schedule: { kind: 'cron', expr: '61 * * * *' } }),
          field: 'schedule',
        },
        {
          tool: 'schedule_task',
          what: 'a cron expression with six fields',
          group: 'family',
          input: () => ({ prompt: 'x', schedule: { kind: 'cron', expr: '0 0 9 * * 1' } }),
          field: 'schedule',
        },
        {
          tool: 'schedule_task',
          what: 'an unknown timezone',
          group: 'family',
          input: () => ({
            prompt: 'x',
            schedule: { kind: 'cron', expr: '0 9 * * *', timezone: 'Mars/Olympus' },
          }),
          field: 'timezone',
        },
        {
          tool: 'schedule_task',
          what: 'an interval under a minute',
          group: 'family',
          input: () => ({ prompt: 'x', schedule: { kind: 'interval', everyMs: 10 } }),
          field: 'everyMs',
        },
        {
          tool: 'schedule_task',
          what: 'a once-time in the past',
          group: 'family',
          input: () => ({ prompt: 'x', schedule: { kind: 'once', at: '2026-02-01T09:00' } }),
          field: 'schedule',
        },
        {
          tool: 'schedule_task',
          what: 'an unknown schedule kind',
          group: 'family',
          input: () => ({ prompt: 'x', schedule: { kind: 'weekly' } }),
          field: 'schedule',
        },
        {
          tool: 'pause_task',
          what: 'a missing task_id',
          group: 'family',
          input: () => ({}),
          field: 'task_id',
        },
        {
          tool: 'resume_task',
          what: 'a string task_id',
          group: 'family',
          input: (fx) => ({ task_id: String(fx.familyTask.id) }),
          field: 'task_id',
        },
        {
          tool: 'cancel_task',
          what: 'a fractional task_id',
          group: 'family',
          input: () => ({ task_id: 1.5 }),
          field: 'task_id',
        },
        {
          tool: 'cancel_task',
          what: 'a negative task_id',
          group: 'main',
          input: () => ({ task_id: -1 }),
          field: 'task_id',
        },
        {
          tool: 'update_task',
          what: 'a missing task_id',
          group: 'family',
          input: () => ({ prompt: 'x' }),
          field: 'task_id',
        },
        {
          tool: 'update_task',
          what: 'a bad schedule',
          group: 'family',
          input: (fx) => ({
            task_id: fx.familyTask.id,
            schedule: { kind: 'cron', expr: 'every day' },
          }),
          field: 'schedule',
        },
        {
          tool: 'update_task',
          what: 'a blank prompt',
          group: 'family',
          input: (fx) => ({ task_id: fx.familyTask.id, prompt: '   ' }),
          field: 'prompt',
        },
        {
          tool: 'register_group',
          what: 'a name with capitals and a space',
          group: 'main',
          input: () => ({ name: 'Book Club', chat: 'web:books' }),
          field: 'name',
        },
        {
          tool: 'register_group',
          what: 'a chat without a channel',
          group: 'main',
          input: () => ({ name: 'books', chat: 'books' }),
          field: 'chat',
        },
        {
          tool: 'register_group',
          what: 'a missing chat',
          group: 'main',
          input: () => ({ name: 'books' }),
          field: 'chat',
        },
        {
          tool: 'register_group',
          what: 'a string requires_trigger',
          group: 'main',
          input: () => ({ name: 'books', chat: 'web:books', requires_trigger: 'yes' }),
          field: 'requires_trigger',
        },
      ];

    it.each(rows)('$tool gives a tool error naming $field for $what', async (row) => {
      const before = snapshot();

      const outcome = await run(groupByName(row.group), row.tool, row.input(f));

      expect(outcome.isError).toBe(true);
      expect(outcome.output).toContain(row.field);
      expect(snapshot()).toBe(before);
    });

    it('schedule_task gives a tool error naming prompt for a blank prompt, instead of throwing', async () => {
      // BUG (task-tools.ts schedule_task): zod's min(1) lets "   " through; TaskStore.create
      // then throws "a task needs a prompt", and execute() throws synchronously although the
      // HostTools contract says it must not throw. Fix: z.string().trim().min(1) (or check
      // prompt.trim() in run) so the model gets "Invalid input for schedule_task: prompt: ...".
      const before = snapshot();
      expect(() => {
        void tools.execute(ctx(f.family), 'schedule_task', {
          prompt: '   ',
          schedule: hourlyInput,
        });
      }).not.toThrow();
      const outcome = await run(f.family, 'schedule_task', {
        prompt: '   ',
        schedule: hourlyInput,
      });
      expect(outcome.isError).toBe(true);
      expect(outcome.output).toContain('prompt');
      expect(snapshot()).toBe(before);
    });

    it('answers undefined for a name that is not a host tool', () => {
      expect(tools.execute(ctx(f.main), 'bash', { command: 'ls' })).toBeUndefined();
    });
  });
});
