import type { EgressPassScope, EgressRunIdentity } from '../egress/egress-run.js';
import type { Logger } from 'pino';
import type { ToolOutcome, TurnEvent } from '../agent/agent-loop.js';
import type {
  ConversationMessage,
  ModelProvider,
  ToolDefinition,
} from '../agent/model-provider.js';
import type { AuditSink } from '../audit/audit-event.js';
import type { CellPool } from '../cells/cell-pool.js';
import type { CellSpec } from '../cells/cell-runtime.js';
import type { McpRunner } from '../mcp/mcp-host.js';
import type { MediaTurnDeps } from '../media/media-turn.js';
import type { BudgetLimits } from '../policy/budgets.js';
import type { BudgetTimers } from '../policy/run-budget.js';
import type { ToolGate } from '../policy/tool-gate.js';
import type { Outbox } from '../router/outbox.js';
import type { Group } from '../store/groups.js';
import type { Store } from '../store/store.js';
import type { PriceTable } from '../usage/prices.js';

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
  /** A message turn's key in the turn journal (src/store/turn-journal.ts); tasks have none. */
  turnKey?: string;
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

/** One run's egress as the proxy counts it (requests refused for budget included). */
export interface EgressRun {
  usage(): { requests: number; overBudget: number };
  /** A one-use pass for one request the host makes for the run (src/egress/egress-pass.ts). */
  pass(scope: EgressPassScope): string;
  /** From now on the run's cell gets nothing out. */
  end(): void;
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
  /** A group's or a task's own model, when it names one; otherwise `provider` answers. */
  providerFor?: (group: Group, taskId?: number) => ModelProvider | undefined;
  pool: CellPool;
  outbox: Outbox;
  /** The grant of the group's cell; a task run may narrow its egress. */
  cellSpec: (group: Group, taskId?: number) => Promise<CellSpec>;
  hostTools?: HostTools;
  /** The turn's <context> line (turnContextBuilder, made once); buildTurnContext without. */
  turnContext?: (now: Date) => string;
  /** The owner's MCP servers (mcp.json): started in the run's cell, their tools offered. */
  mcp?: McpRunner;
  /** Policy check of every tool call; without one every call is allowed (tests of the loop). */
  gate?: ToolGate;
  /** Limits of one run (a message turn or a task run); a task's own can only be tighter. */
  budget?: BudgetLimits;
  taskBudget?: (taskId: number) => BudgetLimits | undefined;
  /** Opens the group's egress for one run; its requests are counted live against the run. */
  beginEgressRun?: (
    groupName: string,
    identity: EgressRunIdentity,
    limits: { maxRequests?: number },
  ) => EgressRun;
  audit?: AuditSink;
  tasks?: TaskSource;
  compact?: HistoryCompactor;
  /** How a run reads the files messages brought (transcription, size cap); see src/media. */
  media?: MediaTurnDeps;
  /**
   * Told what happens in a run as it happens (text deltas, tools starting and ending), for
   * channels that show partial replies. Must not throw; the stored reply is what counts.
   */
  onEvent?: (ctx: RunContext, event: TurnEvent) => void;
  /** The wall clock of usage records and of the budget's day (UTC); tests set it. */
  clock?: () => Date;
  /** The price table (the owner's prices.json over the defaults), for USD budgets. */
  prices?: () => PriceTable;
  /** Tells the owner, on every surface (e.g. a memory change kept aside by the guard). */
  notifyOwner?: (text: string) => void;
  /** The run stored its reply (a streamed preview of it becomes that message). */
  onReplyStored?: (ctx: RunContext, messageId: number) => void;
  /** The clock and timers of each run's budget (its wall time); tests move them by hand. */
  budgetTime?: { clock: () => Date; timers: BudgetTimers };
  /** Whether the data disk is full now: a run is not started then (SQLite would half-work). */
  diskFull?: () => boolean;
  /** The data disk was found full during a run (the host frees its reserve of space). */
  onDiskFull?: () => void;
  log: Logger;
  settings: {
    home: string;
    assistantName: string;
    timezone: string;
    maxTokens: number;
    maxToolRounds: number;
    /** NANOCELL_MAX_REPLY_CHARS: a longer reply or history text is cut with a note. */
    maxReplyChars?: number;
    /** NANOCELL_GUARD=off: no label holds a sink (only to measure the guard). Default on. */
    guard?: boolean;
  };
}
