import crypto from 'node:crypto';
import { runTurn, type TurnResult } from '../agent/agent-loop.js';
import type {
  ContentBlock,
  ConversationMessage,
  ModelProvider,
  ModelResponse,
} from '../agent/model-provider.js';
import { buildSystemPrompt, buildTurnContext } from '../agent/system-prompt.js';
import { readGlobalMemory, readMemory, readOwnerProfile } from '../groups/group-folder.js';
import { cellToolDefinitions } from '../tools/cell-tools.js';
import type { EgressRun, GroupRunDeps, RunContext } from './run.js';
import { toolDispatch } from './tool-dispatch.js';
import { guardMemory } from '../guard/memory-guard.js';
import { TRUSTED } from '../guard/provenance.js';
import { isCellTool } from '../tools/cell-tools.js';
import type { TurnProgress } from '../store/turn-journal.js';
import type { ToolOutcome } from '../agent/agent-loop.js';
import { openEgressRun, runBudgetFor, turnBudget } from './turn-budget.js';
import { openRunMcp } from './run-mcp.js';
import type { McpTools } from '../mcp/mcp-tools.js';
import { MCP_TOOL_SEPARATOR } from '../mcp/offer-tools.js';

/** One agent turn of a run: the group's prompt and tools, its cell grant, its budget. */
export async function agentTurn(
  deps: GroupRunDeps,
  ctx: RunContext,
  messages: ConversationMessage[],
  resume?: TurnProgress,
): Promise<TurnResult> {
  const { settings } = deps;
  const budget = runBudgetFor(deps, ctx);
  // One id for the run's egress (audit) and its model usage.
  const runId = crypto.randomBytes(8).toString('hex');
  const provider = deps.providerFor?.(ctx.group, ctx.taskId) ?? deps.provider;
  let egress: EgressRun | undefined;
  let mcp: McpTools | undefined;
  // A mount of files others wrote: a run that can read them has read them (src/guard).
  for (const m of deps.store.groups.mountRequests(ctx.group.id)) {
    if (m.untrusted)
      deps.store.provenance.taint(ctx.group.id, { kind: 'mount', detail: m.hostPath });
  }
  const settleMemory = guardMemory({
    home: settings.home,
    folder: ctx.group.folder,
    groupName: ctx.group.name,
    label: () =>
      deps.settings.guard === false ? TRUSTED : deps.store.provenance.get(ctx.group.id),
    notifyOwner: (text) => deps.notifyOwner?.(text),
  });
  try {
    const spec = await deps.cellSpec(ctx.group, ctx.taskId);
    egress = openEgressRun(deps, ctx, runId);
    // Before the first model request: the servers' tools are in its tool list.
    mcp = await openRunMcp(deps, ctx, spec, egress);
    return await runTurn({
      budget: turnBudget(budget, egress),
      onEvent: (event) => deps.onEvent?.(ctx, event),
      onUsage: (response) => recordUsage(deps, ctx, runId, provider, response),
      provider,
      system: buildSystemPrompt({
        assistantName: settings.assistantName,
        groupName: ctx.group.name,
        isAdmin: ctx.group.isAdmin,
        memory: readMemory(settings.home, ctx.group.folder),
        globalMemory: readGlobalMemory(settings.home),
        ownerProfile: readOwnerProfile(settings.home),
        sessionSummary: ctx.group.sessionSummary,
      }),
      context:
        deps.turnContext?.(new Date()) ??
        buildTurnContext({ timezone: settings.timezone, now: new Date() }),
      messages,
      tools: [
        ...cellToolDefinitions,
        ...(mcp?.definitions ?? []),
        ...(deps.hostTools?.definitions(ctx.group) ?? []),
      ],
      maxTokens: settings.maxTokens,
      maxToolRounds: settings.maxToolRounds,
      executeTool: toolDispatch(deps, ctx, spec, mcp),
      ...(resume ? { resume, interrupted: interruptedCall } : {}),
      ...(ctx.turnKey !== undefined ? { journal: journalOf(deps, ctx.group.id) } : {}),
      // The cell starts while the first model request is in flight (after it has left: the
      // synchronous part of a cell start must not delay the request).
      onFirstRequest: () => setImmediate(() => deps.pool.warm(spec)),
    });
  } finally {
    await mcp?.close();
    egress?.end();
    budget.dispose();
    try {
      settleMemory();
    } catch (err) {
      deps.log.error({ group: ctx.group.name, err }, 'guard: could not keep a memory change aside');
    }
  }
}

/** Each model response's tokens, stored as it arrives (a run that fails later still counts). */
function recordUsage(
  deps: GroupRunDeps,
  ctx: RunContext,
  runId: string,
  provider: ModelProvider,
  response: ModelResponse,
): void {
  try {
    deps.store.usage.record({
      ...response.usage,
      runId,
      groupId: ctx.group.id,
      ...(ctx.taskId !== undefined ? { taskId: ctx.taskId } : {}),
      provider: provider.name,
      model: response.model ?? 'unknown',
      at: deps.clock?.() ?? new Date(),
    });
  } catch (err) {
    // Counting must not cost the reply; the log says which run went uncounted.
    deps.log.error(
      { group: ctx.group.name, runId, err },
      'usage: could not record a model request',
    );
  }
}

/** The turn's steps, written as they happen. */
function journalOf(deps: GroupRunDeps, groupId: number) {
  return {
    step: (message: ConversationMessage) => deps.store.turns.step(groupId, message),
    result: (result: ContentBlock) => deps.store.turns.result(groupId, result),
  };
}

/**
 * A call that was running when the host went down: a command in the cell may or may not have
 * taken effect, so the model is told instead of it running twice. A host tool runs again: its
 * effect is kept by an idempotency key (tool-call.ts), so it is done once either way.
 */
function interruptedCall(name: string): ToolOutcome | undefined {
  // An MCP tool ran in the cell too (src/mcp): the same holds for it.
  if (!isCellTool(name) && !name.includes(MCP_TOOL_SEPARATOR)) return undefined;
  return {
    output:
      'The host restarted while this call was running, so its outcome is unknown: it may or may not have taken effect. Check (for example, look at the files) before doing it again.',
    isError: true,
  };
}
