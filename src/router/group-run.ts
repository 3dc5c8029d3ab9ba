import type { Logger } from 'pino';
import {
  BudgetExceededError,
  runTurn,
  type ToolExecutor,
  type ToolOutcome,
} from '../agent/agent-loop.js';
import { Budget, type BudgetLimits } from '../policy/budgets.js';
import type { ToolGate } from '../policy/tool-gate.js';
import {
  ModelError,
  type ConversationMessage,
  type ModelProvider,
  type ToolDefinition,
} from '../agent/model-provider.js';
import { buildSystemPrompt } from '../agent/system-prompt.js';
import { RuntimeUnavailableError, type CellSpec } from '../cells/cell-runtime.js';
import type { CellPool } from '../cells/cell-pool.js';
import { readGlobalMemory, readMemory } from '../groups/group-folder.js';
import type { Group } from '../store/groups.js';
import type { StoredMessage } from '../store/messages.js';
import type { Store } from '../store/store.js';
import { cellToolDefinitions, isCellTool, validateCellToolInput } from '../tools/cell-tools.js';
import type { QueueJob } from './group-queue.js';
import type { Outbox } from './outbox.js';
import type { AuditSink } from '../audit/audit-event.js';
import { fingerprint } from '../audit/canonical-json.js';
import { homeChat } from '../owner/home-chat.js';
import { labelTaskOutput } from '../owner/task-output.js';

export type RunOutcome =
  | { ok: true; reply: string; messageId: number; toolCalls: number }
  | { ok: true; reply: null }
  | { ok: false; kind: string; error: string; retryable: boolean };

/** Who is acting: always taken from the run, never from what the model says. */
export interface RunContext {
  group: Group;
  /** The chat the run answers (a task run answers the group's home chat). */
  channel: string;
  chatId: string;
  taskId?: number;
}

/** Host tools offered to a group's model and run on the host. */
export interface HostTools {
  definitions(group: Group): ToolDefinition[];
  /** undefined when `name` is not a host tool. Must not throw: failures are outcomes. */
  execute(
    ctx: RunContext,
    name: string,
    input: Record<string, unknown>,
  ): Promise<ToolOutcome> | undefined;
}

export interface TaskSource {
  byId(
    id: number,
  ): { id: number; groupId: number; prompt: string; contextMode: 'group' | 'isolated' } | undefined;
}

/** Keeps a group's history within budget (older turns summarised and archived). */
export type HistoryCompactor = (group: Group, history: ConversationMessage[]) => Promise<void>;

export interface GroupRunDeps {
  store: Store;
  provider: ModelProvider;
  pool: CellPool;
  outbox: Outbox;
  /** The grant of the group's cell; a task run may narrow its egress. */
  cellSpec: (group: Group, taskId?: number) => Promise<CellSpec>;
  hostTools?: HostTools;
  /** Policy check of every tool call; without one every call is allowed (tests of the loop). */
  gate?: ToolGate;
  /** Limits of one run (a message turn or a task run); a task's own can only be tighter. */
  budget?: BudgetLimits;
  taskBudget?: (taskId: number) => BudgetLimits | undefined;
  /** Egress requests the group's proxy has made so far, for the run's egress budget. */
  egressRequests?: (groupName: string) => number;
  audit?: AuditSink;
  tasks?: TaskSource;
  compact?: HistoryCompactor;
  log: Logger;
  settings: {
    home: string;
    assistantName: string;
    timezone: string;
    maxTokens: number;
    maxToolRounds: number;
  };
}

const RETRYABLE = new Set(['rate_limit', 'overloaded', 'server', 'timeout', 'connection']);

/**
 * One agent run for a group. A messages run answers every inbound message after the group's
 * cursor as one user turn; its reply, history and cursor are stored in one transaction, so a
 * failure anywhere leaves the messages pending for the next run. A task run answers a
 * scheduled task's prompt. Never throws: failures are outcomes.
 */
export async function runGroup(
  deps: GroupRunDeps,
  groupId: number,
  job: QueueJob = { kind: 'messages' },
): Promise<RunOutcome> {
  const group = deps.store.groups.byId(groupId);
  if (!group) {
    return {
      ok: false,
      kind: 'no_group',
      error: `group ${groupId} no longer exists`,
      retryable: false,
    };
  }
  try {
    return job.kind === 'messages'
      ? await runMessages(deps, group)
      : await runTask(deps, group, job.taskId);
  } catch (err) {
    if (err instanceof BudgetExceededError) {
      deps.log.warn({ group: group.name, reason: err.message }, 'run stopped: budget');
      return { ok: false, kind: 'budget', error: err.message, retryable: false };
    }
    if (err instanceof ModelError) {
      deps.log.warn({ group: group.name, kind: err.kind, err }, 'run failed: model');
      return {
        ok: false,
        kind: `model_${err.kind}`,
        error: err.message,
        retryable: RETRYABLE.has(err.kind),
      };
    }
    deps.log.error({ group: group.name, err }, 'run failed');
    return {
      ok: false,
      kind: 'internal',
      error: `internal error: ${(err as Error).message}`,
      retryable: false,
    };
  }
}

async function runMessages(deps: GroupRunDeps, group: Group): Promise<RunOutcome> {
  const { store, settings } = deps;
  const pending = store.messages.pendingFor(group.id, group.cursorMessageId);
  const last = pending.at(-1);
  if (!last || !pending.some((m) => m.triggered)) return { ok: true, reply: null };

  const startedAt = Date.now();
  const ctx: RunContext = { group, channel: last.channel, chatId: last.chatId };
  const userMessage: ConversationMessage = {
    role: 'user',
    content: [{ type: 'text', text: formatInbound(pending, group.isAdmin) }],
  };
  let history = store.history.load(group.id);
  if (deps.compact) {
    await deps.compact(group, history);
    history = store.history.load(group.id);
  }
  const fresh = store.groups.byId(group.id) ?? group;
  const turn = await agentTurn(deps, { ...ctx, group: fresh }, [...history, userMessage]);
  const reply = turn.text || '(no reply)';
  const messageId = store.transaction(() => {
    store.history.append(group.id, [userMessage, ...turn.added]);
    const id = store.messages.add({
      groupId: group.id,
      channel: last.channel,
      chatId: last.chatId,
      direction: 'out',
      sender: 'assistant',
      senderName: settings.assistantName,
      text: reply,
    }).id;
    store.groups.advanceCursor(group.id, last.id);
    return id;
  });
  void deps.outbox.flush();
  deps.log.info(
    {
      group: group.name,
      messages: pending.length,
      toolCalls: turn.toolCalls,
      durationMs: Date.now() - startedAt,
      ...turn.usage,
    },
    'run finished',
  );
  return { ok: true, reply, messageId, toolCalls: turn.toolCalls };
}

async function runTask(deps: GroupRunDeps, group: Group, taskId: number): Promise<RunOutcome> {
  const { store, settings } = deps;
  const task = deps.tasks?.byId(taskId);
  if (!task || task.groupId !== group.id) {
    return {
      ok: false,
      kind: 'no_task',
      error: `task ${taskId} not found in ${group.name}`,
      retryable: false,
    };
  }
  const home = store.taskChats.get(task.id) ?? homeChat(store, group.id);
  if (!home) {
    return {
      ok: false,
      kind: 'no_chat',
      error: `group ${group.name} has no chat to answer in`,
      retryable: false,
    };
  }
  const ctx: RunContext = { group, channel: home.channel, chatId: home.chatId, taskId };
  const userMessage: ConversationMessage = {
    role: 'user',
    content: [{ type: 'text', text: `[scheduled task #${task.id}] ${task.prompt}` }],
  };
  const history = task.contextMode === 'group' ? store.history.load(group.id) : [];
  const turn = await agentTurn(deps, ctx, [...history, userMessage]);
  const reply = turn.text || '(no reply)';
  const messageId = store.transaction(() => {
    if (task.contextMode === 'group') store.history.append(group.id, [userMessage, ...turn.added]);
    return store.messages.add({
      groupId: group.id,
      channel: home.channel,
      chatId: home.chatId,
      direction: 'out',
      sender: 'assistant',
      senderName: settings.assistantName,
      text: labelTaskOutput(task, reply),
    }).id;
  });
  void deps.outbox.flush();
  return { ok: true, reply, messageId, toolCalls: turn.toolCalls };
}

async function agentTurn(deps: GroupRunDeps, ctx: RunContext, messages: ConversationMessage[]) {
  const { settings } = deps;
  const spec = await deps.cellSpec(ctx.group, ctx.taskId);
  const subject = ctx.taskId !== undefined ? `task #${ctx.taskId}` : 'this turn';
  const own = ctx.taskId !== undefined ? deps.taskBudget?.(ctx.taskId) : undefined;
  const limits = deps.budget ? tighter(deps.budget, own) : undefined;
  const budget = limits ? new Budget(limits, { subject }) : undefined;
  const spent = (r: { ok: true } | { ok: false; reason: string }) => (r.ok ? undefined : r.reason);
  // Egress is counted by the proxy; each check charges what it did since the last one.
  let egressSeen = deps.egressRequests?.(ctx.group.name) ?? 0;
  const chargeEgress = () => {
    if (!budget || !deps.egressRequests) return undefined;
    const now = deps.egressRequests(ctx.group.name);
    const delta = Math.max(0, now - egressSeen);
    egressSeen = now;
    return spent(budget.charge('egressRequests', delta));
  };
  return runTurn({
    ...(budget
      ? {
          budget: {
            beforeToolCall: () => chargeEgress() ?? spent(budget.charge('toolCalls')),
            afterModel: (u: { inputTokens: number; outputTokens: number }) =>
              chargeEgress() ?? spent(budget.charge('modelTokens', u.inputTokens + u.outputTokens)),
          },
        }
      : {}),
    provider: deps.provider,
    system: buildSystemPrompt({
      assistantName: settings.assistantName,
      groupName: ctx.group.name,
      isAdmin: ctx.group.isAdmin,
      memory: readMemory(settings.home, ctx.group.folder),
      globalMemory: readGlobalMemory(settings.home),
      sessionSummary: ctx.group.sessionSummary,
      timezone: settings.timezone,
      now: new Date(),
    }),
    messages,
    tools: [...cellToolDefinitions, ...(deps.hostTools?.definitions(ctx.group) ?? [])],
    maxTokens: settings.maxTokens,
    maxToolRounds: settings.maxToolRounds,
    executeTool: toolExecutor(deps, ctx, spec),
    // The cell starts while the first model request is in flight (after it has left: the
    // synchronous part of a cell start must not delay the request).
    onFirstRequest: () => setImmediate(() => deps.pool.warm(spec)),
  });
}

/** Each limit is the smaller of the host's default and the task's own. */
function tighter(defaults: BudgetLimits, own: BudgetLimits | undefined): BudgetLimits {
  if (!own) return defaults;
  const out: BudgetLimits = { ...defaults };
  for (const [k, v] of Object.entries(own) as Array<[keyof BudgetLimits, number | undefined]>) {
    if (v !== undefined) out[k] = Math.min(v, defaults[k] ?? v);
  }
  return out;
}

function formatInbound(messages: StoredMessage[], isAdmin: boolean): string {
  if (messages.length === 1 && messages[0] && isAdmin) return messages[0].text;
  return messages.map((m) => `[${m.senderName}] ${m.text}`).join('\n');
}

function toolExecutor(deps: GroupRunDeps, ctx: RunContext, spec: CellSpec): ToolExecutor {
  const inner = cellOrHostTool(deps, ctx, spec);
  return async (name, input, signal) => {
    const startedAt = Date.now();
    const gate = deps.gate
      ? await deps.gate.check(
          {
            groupName: ctx.group.name,
            isAdmin: ctx.group.isAdmin,
            taskId: ctx.taskId,
            tool: name,
            input,
          },
          signal,
        )
      : undefined;
    const outcome =
      gate && !gate.allowed
        ? { output: gate.output, isError: true }
        : await inner(name, input, signal);
    const rule = gate?.decision.rule;
    deps.audit?.append({
      type: 'tool_call',
      group: ctx.group.name,
      ...(ctx.taskId !== undefined ? { task: String(ctx.taskId) } : {}),
      tool: name,
      inputFingerprint: fingerprint(input),
      decision: gate?.decision.effect ?? 'allow',
      rule: rule ? `${rule.source}:${rule.line} ${rule.text}` : null,
      outcome: gate && !gate.allowed ? 'not_run' : outcome.isError ? 'error' : 'ok',
      durationMs: Date.now() - startedAt,
    });
    return outcome;
  };
}

function cellOrHostTool(deps: GroupRunDeps, ctx: RunContext, spec: CellSpec): ToolExecutor {
  return async (name, input) => {
    const host = deps.hostTools?.execute(ctx, name, input);
    if (host) return host;
    if (!isCellTool(name)) return { output: `unknown tool: ${name}`, isError: true };
    const valid = validateCellToolInput(name, input);
    if (!valid.ok) return { output: valid.error, isError: true };
    let cell;
    try {
      cell = await deps.pool.get(spec);
    } catch (err) {
      // A cell that cannot start fails this call, not the run: the model hears why.
      const why =
        err instanceof RuntimeUnavailableError
          ? err.message
          : `cell start failed: ${(err as Error).message}`;
      if (!(err instanceof RuntimeUnavailableError)) {
        deps.log.error({ group: spec.groupName, err }, 'cell start failed');
      }
      return { output: `the sandbox is unavailable: ${why}`, isError: true };
    }
    const startedAt = Date.now();
    const res = await cell.call({ tool: name, input: valid.input });
    deps.pool.touch(spec.groupName);
    deps.log.info(
      { group: spec.groupName, tool: name, ok: res.ok, durationMs: Date.now() - startedAt },
      'tool call',
    );
    return { output: res.output, isError: !res.ok };
  };
}
