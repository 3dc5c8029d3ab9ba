import type { Logger } from 'pino';
import { runTurn, type ToolExecutor } from '../agent/agent-loop.js';
import {
  ModelError,
  type ConversationMessage,
  type ModelProvider,
} from '../agent/model-provider.js';
import { buildSystemPrompt } from '../agent/system-prompt.js';
import { RuntimeUnavailableError, type CellSpec } from '../cells/cell-runtime.js';
import type { CellPool } from '../cells/cell-pool.js';
import { readMemory } from '../groups/group-folder.js';
import type { Group } from '../store/groups.js';
import type { StoredMessage } from '../store/messages.js';
import type { Store } from '../store/store.js';
import { cellToolDefinitions, isCellTool, validateCellToolInput } from '../tools/cell-tools.js';

export type RunOutcome =
  | { ok: true; reply: string; chatId: string; channel: string; toolCalls: number }
  | { ok: true; reply: null }
  | { ok: false; kind: string; error: string };

export interface GroupRunDeps {
  store: Store;
  provider: ModelProvider;
  pool: CellPool;
  cellSpec: (group: Group) => CellSpec;
  log: Logger;
  settings: {
    home: string;
    assistantName: string;
    timezone: string;
    maxTokens: number;
    maxToolRounds: number;
  };
}

/**
 * One agent run for a group: every inbound message after the group's cursor becomes one
 * user turn; the reply, the history and the cursor are stored together, so a failure
 * anywhere leaves the messages pending for the next run. Never throws: failures are outcomes.
 */
export async function runGroup(deps: GroupRunDeps, groupId: number): Promise<RunOutcome> {
  const { store, log, settings } = deps;
  const group = store.groups.byId(groupId);
  if (!group) return { ok: false, kind: 'no_group', error: `group ${groupId} no longer exists` };
  const pending = store.messages.pendingFor(group.id, group.cursorMessageId);
  const last = pending.at(-1);
  if (!last) return { ok: true, reply: null };

  const startedAt = Date.now();
  const spec = deps.cellSpec(group);
  const userMessage: ConversationMessage = {
    role: 'user',
    content: [{ type: 'text', text: formatInbound(pending) }],
  };
  const history = store.history.load(group.id);
  try {
    const turn = await runTurn({
      provider: deps.provider,
      system: buildSystemPrompt({
        assistantName: settings.assistantName,
        groupName: group.name,
        isAdmin: group.isAdmin,
        memory: readMemory(settings.home, group.folder),
        timezone: settings.timezone,
        now: new Date(),
      }),
      messages: [...history, userMessage],
      tools: cellToolDefinitions,
      maxTokens: settings.maxTokens,
      maxToolRounds: settings.maxToolRounds,
      executeTool: cellToolExecutor(deps, spec),
      // The cell starts while the first model request is in flight.
      onFirstRequest: () => deps.pool.warm(spec),
    });
    const reply = turn.text || '(no reply)';
    store.transaction(() => {
      store.history.append(group.id, [userMessage, ...turn.added]);
      store.messages.add({
        groupId: group.id,
        channel: last.channel,
        chatId: last.chatId,
        direction: 'out',
        sender: 'assistant',
        senderName: settings.assistantName,
        text: reply,
      });
      store.groups.advanceCursor(group.id, last.id);
    });
    log.info(
      {
        group: group.name,
        messages: pending.length,
        toolCalls: turn.toolCalls,
        durationMs: Date.now() - startedAt,
        ...turn.usage,
      },
      'run finished',
    );
    return {
      ok: true,
      reply,
      chatId: last.chatId,
      channel: last.channel,
      toolCalls: turn.toolCalls,
    };
  } catch (err) {
    if (err instanceof ModelError) {
      log.warn({ group: group.name, kind: err.kind, err }, 'run failed: model');
      return { ok: false, kind: `model_${err.kind}`, error: err.message };
    }
    log.error({ group: group.name, err }, 'run failed');
    return { ok: false, kind: 'internal', error: `internal error: ${(err as Error).message}` };
  }
}

function formatInbound(messages: StoredMessage[]): string {
  if (messages.length === 1 && messages[0]) return messages[0].text;
  return messages.map((m) => `[${m.senderName}] ${m.text}`).join('\n');
}

function cellToolExecutor(deps: GroupRunDeps, spec: CellSpec): ToolExecutor {
  return async (name, input) => {
    if (!isCellTool(name)) return { output: `unknown tool: ${name}`, isError: true };
    const valid = validateCellToolInput(name, input);
    if (!valid.ok) return { output: valid.error, isError: true };
    let cell;
    try {
      cell = await deps.pool.get(spec);
    } catch (err) {
      if (err instanceof RuntimeUnavailableError) {
        return { output: `the sandbox is unavailable: ${err.message}`, isError: true };
      }
      throw err;
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
