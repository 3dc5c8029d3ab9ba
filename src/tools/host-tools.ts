import { z } from 'zod';
import { homeChat } from '../owner/home-chat.js';
import type { ToolOutcome } from '../agent/agent-loop.js';
import type { ToolDefinition } from '../agent/model-provider.js';
import { ensureGroupFolder } from '../groups/group-folder.js';
import type { HostTools, RunContext } from '../run/run.js';
import type { Outbox } from '../router/outbox.js';
import type { Group } from '../store/groups.js';
import type { Store } from '../store/store.js';
import type { AuditSink } from '../audit/audit-event.js';
import { hostToolSpecs } from './host-tool-specs.js';
import { parseChatAddress } from '../channels/registry.js';
import { parseToolInput, toolDefinition, type ToolSpec } from './tool-spec.js';

export { HOST_TOOL_NAMES } from './host-tool-specs.js';

/** One host tool: its spec (schema, description, who may use it) and what it does. */
export interface HostTool {
  spec: ToolSpec;
  /** Called with input its spec has parsed. */
  run(ctx: RunContext, input: Record<string, unknown>): Promise<ToolOutcome> | ToolOutcome;
}

/** A host tool whose handler gets the input its schema parsed, typed. */
export function hostTool<S extends z.ZodObject>(
  spec: ToolSpec<S>,
  run: (ctx: RunContext, input: z.output<S>) => Promise<ToolOutcome> | ToolOutcome,
): HostTool {
  return { spec, run: (ctx, input) => run(ctx, input as z.output<S>) };
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
  /** The JSON Schemas, derived once: zod's conversion took ~0.4 ms a turn (issue 17). */
  private readonly forAdmin: readonly ToolDefinition[];
  private readonly forOthers: readonly ToolDefinition[];

  constructor(extra: HostTool[], deps: GroupToolDeps) {
    for (const tool of [...groupTools(deps), ...extra]) this.tools.set(tool.spec.name, tool);
    const all = [...this.tools.values()].map((t) => ({
      t,
      d: Object.freeze(toolDefinition(t.spec)),
    }));
    this.forAdmin = Object.freeze(all.map((x) => x.d));
    this.forOthers = Object.freeze(all.filter((x) => !x.t.spec.adminOnly).map((x) => x.d));
  }

  definitions(group: Group): ToolDefinition[] {
    return [...(group.isAdmin ? this.forAdmin : this.forOthers)];
  }

  execute(ctx: RunContext, name: string, input: Record<string, unknown>) {
    const tool = this.tools.get(name);
    if (!tool) return undefined;
    if (tool.spec.adminOnly && !ctx.group.isAdmin) {
      return Promise.resolve(fail(`${name} is only available to the admin group.`));
    }
    const parsed = parseToolInput(tool.spec, input);
    if (!parsed.ok) return Promise.resolve(fail(parsed.error));
    return Promise.resolve(tool.run(ctx, parsed.input));
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
    hostTool(hostToolSpecs.send_message, (ctx, input) => {
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
        input.text,
        deps.assistantName,
      );
      return ok(`Message ${id} queued for ${target.group.name}.`);
    }),
    hostTool(hostToolSpecs.search_history, (ctx, input) => {
      // Scoped by the run's own group, never by anything the model says.
      const hits = store.historySearch.search(ctx.group.id, input.query, input.limit ?? 8);
      if (hits.length === 0)
        return ok(`Nothing in this group's past conversations matches "${input.query}".`);
      // Past sessions may hold other people's words: what comes back counts as read (src/guard).
      store.provenance.taint(ctx.group.id, {
        kind: 'host-tool',
        detail: 'past conversations (search_history)',
      });
      return ok(
        hits
          .map(
            (h) =>
              `${h.createdAt.slice(0, 16).replace('T', ' ')} ${h.role}${h.where === 'archive' ? ' (archived)' : ''}: ${h.snippet}`,
          )
          .join('\n'),
      );
    }),
    hostTool(hostToolSpecs.register_group, (ctx, input) => {
      const { name, chat } = input;
      const address = parseChatAddress(chat);
      if (!address.ok) return fail(address.reason);
      const { channel, chatId } = address;
      if (store.groups.byName(name)) return fail(`A group named "${name}" already exists.`);
      const bound = store.groups.forChat(channel, chatId);
      if (bound) return fail(`Chat ${chat} already belongs to group "${bound.name}".`);
      const group = store.transaction(() => {
        const g = store.groups.create({
          name,
          isAdmin: false,
          requiresTrigger: input.requires_trigger !== false,
          trigger: input.trigger ?? null,
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
    }),
    hostTool(hostToolSpecs.list_groups, () => {
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
    }),
  ];
}
