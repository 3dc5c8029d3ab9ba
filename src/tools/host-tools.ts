import { z } from 'zod';
import { homeChat } from '../owner/home-chat.js';
import type { ToolOutcome } from '../agent/agent-loop.js';
import type { ToolDefinition } from '../agent/model-provider.js';
import { ensureGroupFolder } from '../groups/group-folder.js';
import type { HostTools, RunContext } from '../run/run.js';
import type { Outbox } from '../router/outbox.js';
import { GROUP_NAME_PATTERN, type Group } from '../store/groups.js';
import type { Store } from '../store/store.js';
import type { AuditSink } from '../audit/audit-event.js';

/** Every host tool's name (the policy engine classifies tools by it). */
export const HOST_TOOL_NAMES = [
  'send_message',
  'register_group',
  'list_groups',
  'schedule_task',
  'list_tasks',
  'pause_task',
  'resume_task',
  'cancel_task',
  'update_task',
] as const;

/** One host tool: its definition, who may use it, and what it does. */
export interface HostTool {
  definition: ToolDefinition;
  /** Decided on the host from the run's group, never from the model's input. */
  adminOnly: boolean;
  input: z.ZodType<Record<string, unknown>>;
  run(ctx: RunContext, input: Record<string, unknown>): Promise<ToolOutcome> | ToolOutcome;
}

export const ok = (output: string): ToolOutcome => ({ output, isError: false });
export const fail = (output: string): ToolOutcome => ({ output, isError: true });

/**
 * The host tools of every group, authorised here per call: a non-admin group is never offered
 * an admin tool, and is refused one if it asks anyway; tools that take a group name resolve it
 * against the caller's rights.
 */
export class AssistantHostTools implements HostTools {
  private readonly tools = new Map<string, HostTool>();

  constructor(extra: HostTool[], deps: GroupToolDeps) {
    for (const tool of [...groupTools(deps), ...extra]) this.tools.set(tool.definition.name, tool);
  }

  definitions(group: Group): ToolDefinition[] {
    return [...this.tools.values()]
      .filter((t) => group.isAdmin || !t.adminOnly)
      .map((t) => t.definition);
  }

  execute(ctx: RunContext, name: string, input: Record<string, unknown>) {
    const tool = this.tools.get(name);
    if (!tool) return undefined;
    if (tool.adminOnly && !ctx.group.isAdmin) {
      return Promise.resolve(fail(`${name} is only available to the admin group.`));
    }
    const parsed = tool.input.safeParse(input);
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (i) => `${i.path.join('.') || 'input'}: ${i.message}`,
      );
      return Promise.resolve(fail(`Invalid input for ${name}: ${problems.join('; ')}`));
    }
    return Promise.resolve(tool.run(ctx, parsed.data));
  }
}

/**
 * The group a tool call may act on: its own unless it names another, which only the admin
 * group may do. Returns the group or a refusal.
 */
export function targetGroup(
  store: Store,
  ctx: RunContext,
  name: unknown,
): { ok: true; group: Group } | { ok: false; outcome: ToolOutcome } {
  if (name === undefined || name === ctx.group.name) return { ok: true, group: ctx.group };
  if (!ctx.group.isAdmin) {
    return {
      ok: false,
      outcome: fail(
        `Group "${ctx.group.name}" may act only on itself; only the admin group can act on "${String(name)}".`,
      ),
    };
  }
  const group = store.groups.byName(String(name));
  if (!group)
    return { ok: false, outcome: fail(`No group named "${String(name)}". Use list_groups.`) };
  return { ok: true, group };
}

export interface GroupToolDeps {
  audit?: AuditSink;
  store: Store;
  outbox: Outbox;
  home: string;
  assistantName: string;
}

function groupTools(deps: GroupToolDeps): HostTool[] {
  const { store, outbox } = deps;
  return [
    {
      definition: {
        name: 'send_message',
        description:
          "Send a message to this group's chat now (e.g. progress on a long task). The admin group may name another group.",
        input_schema: {
          type: 'object',
          properties: {
            text: { type: 'string' },
            group: { type: 'string', description: 'Admin only: the group to message.' },
          },
          required: ['text'],
        },
      },
      adminOnly: false,
      input: z.object({ text: z.string().min(1).max(20_000), group: z.string().optional() }),
      run(ctx, input) {
        const target = targetGroup(store, ctx, input.group);
        if (!target.ok) return target.outcome;
        const chat =
          target.group.id === ctx.group.id
            ? { channel: ctx.channel, chatId: ctx.chatId }
            : homeChat(store, target.group.id);
        if (!chat) return fail(`Group "${target.group.name}" has no chat to send to.`);
        const id = outbox.send(
          target.group.id,
          chat.channel,
          chat.chatId,
          String(input.text),
          deps.assistantName,
        );
        return ok(`Message ${id} queued for ${target.group.name}.`);
      },
    },
    {
      definition: {
        name: 'register_group',
        description:
          'Admin only. Register a new group for a chat: chat is "channel:chat-id" (e.g. "web:family"). Shared chats answer only to the trigger word.',
        input_schema: {
          type: 'object',
          properties: {
            name: { type: 'string', description: 'lowercase letters, digits, - and _' },
            chat: { type: 'string' },
            requires_trigger: { type: 'boolean' },
            trigger: { type: 'string' },
          },
          required: ['name', 'chat'],
        },
      },
      adminOnly: true,
      input: z.object({
        name: z.string().regex(GROUP_NAME_PATTERN, 'use lowercase letters, digits, - and _'),
        chat: z.string().regex(/^[a-z]+:.+$/, 'must be "channel:chat-id", e.g. "web:family"'),
        requires_trigger: z.boolean().optional(),
        trigger: z.string().min(1).max(32).optional(),
      }),
      run(ctx, input) {
        const name = String(input.name);
        const chat = String(input.chat);
        const sep = chat.indexOf(':');
        const [channel, chatId] = [chat.slice(0, sep), chat.slice(sep + 1)];
        if (store.groups.byName(name)) return fail(`A group named "${name}" already exists.`);
        const bound = store.groups.forChat(channel, chatId);
        if (bound) return fail(`Chat ${chat} already belongs to group "${bound.name}".`);
        const group = store.transaction(() => {
          const g = store.groups.create({
            name,
            isAdmin: false,
            requiresTrigger: input.requires_trigger !== false,
            trigger: typeof input.trigger === 'string' ? input.trigger : null,
          });
          store.groups.bindChat(channel, chatId, g.id);
          return g;
        });
        ensureGroupFolder(deps.home, group.folder, deps.assistantName);
        deps.audit?.append({
          type: 'group_change',
          group: group.name,
          action: 'created',
          by: ctx.group.name,
          summary: chat,
        });
        return ok(`Registered group "${group.name}" for ${chat}.`);
      },
    },
    {
      definition: {
        name: 'list_groups',
        description: 'Admin only. List every group with its chats and trigger.',
        input_schema: { type: 'object', properties: {} },
      },
      adminOnly: true,
      input: z.object({}),
      run() {
        const lines = store.groups.list().map((g) => {
          const chats = store.groups.chatsOf(g.id).map((c) => `${c.channel}:${c.chatId}`);
          const trigger = g.isAdmin
            ? 'admin'
            : g.requiresTrigger
              ? `trigger ${g.trigger ?? `@${deps.assistantName}`}`
              : 'no trigger';
          return `${g.name} (${trigger}) chats: ${chats.join(', ') || 'none'}`;
        });
        return ok(lines.join('\n'));
      },
    },
  ];
}
