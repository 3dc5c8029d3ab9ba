import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { AnthropicProvider } from './agent/anthropic.js';
import { FallbackProvider } from './agent/fallback-provider.js';
import { OpenAIProvider } from './agent/openai.js';
import { AuditLog, auditLogPath } from './audit/audit-log.js';
import type { ModelProvider } from './agent/model-provider.js';
import { CellPool } from './cells/cell-pool.js';
import { RunChanges } from './run/run-changes.js';
import { McpHost } from './mcp/mcp-host.js';
import type { CellRuntime } from './cells/cell-runtime.js';
import { allRuntimes } from './cells/runtimes.js';
import { selectRuntime } from './cells/select-runtime.js';
import { PROJECT_ROOT, type Config } from './config.js';
import { EgressManager } from './egress/egress-manager.js';
import { ensureGlobalFolder, ensureGroupFolder } from './groups/group-folder.js';
import { groupQuotaFor } from './groups/group-quota.js';
import { Sessions } from './groups/sessions.js';
import { Outbox } from './router/outbox.js';
import { ReplyPreviews } from './router/reply-previews.js';
import type { Channel } from './channels/channel.js';
import { knownChannel } from './channels/registry.js';
import type { QueueJob } from './router/group-queue.js';
import { AssistantHostTools, HOST_TOOL_NAMES } from './tools/host-tools.js';
import { approvalActions } from './policy/approval-message.js';
import { Approvals } from './policy/approvals.js';
import { approvalReplyHandler } from './owner/approval-reply.js';
import { OwnerNotifier } from './owner/owner-notifier.js';
import { ownerDoorkeeper } from './owner/doorkeeper.js';
import { PolicyChangeAudit } from './policy/policy-change-audit.js';
import type { HostEventSink } from './control/host-events.js';
import { ToolGate } from './policy/tool-gate.js';
import { taskTools } from './tools/task-tools.js';
import { cellGrant } from './run/cell-grant.js';
import { runGroup } from './run/run-group.js';
import type { GroupRunDeps } from './run/run.js';
import { Router } from './router/router.js';
import { sendFileTool } from './tools/send-file-tool.js';
import { webFetchTool } from './tools/web-fetch-tool.js';
import { searchProvider } from './tools/web-search-providers.js';
import { webSearchTool } from './tools/web-search-tool.js';
import { saveInboundMedia } from './media/save-inbound-media.js';
import { CommandTranscriber } from './media/transcriber.js';
import { groupFolderPath } from './groups/group-folder.js';
import type { Group } from './store/groups.js';
import type { ModelChoice } from './store/model-choices.js';
import {
  DiskFullTolerantLog,
  FULL_BELOW_BYTES,
  SpaceReserve,
  freeBytes,
} from './store/disk-full.js';
import { Store } from './store/store.js';
import { readPriceFile } from './usage/price-file.js';
import { StoreError, type OpenOptions } from './store/database.js';
import { turnContextBuilder } from './agent/system-prompt.js';

export const ADMIN_GROUP = 'main';
const UNDELIVERED = 'Could not deliver a message to';
const outboxReportAttempts = 3;
export { HOST_TOOL_NAMES } from './tools/host-tools.js';

/** The pieces every command shares; built once from the config. */
export interface Base {
  config: Config;
  log: Logger;
  store: Store;
  provider: ModelProvider;
  runtimes: CellRuntime[];
  installId: string;
  /** The tamper-evident record of tool calls, approvals, egress and changes. */
  audit: AuditLog;
  /** Space kept back for the moment the data disk is full. */
  spaceReserve: SpaceReserve;
  close(): void;
}

/** A base plus what a conversation needs: a working cell runtime, the router, the outbox. */
export interface Assistant extends Base {
  pool: CellPool;
  router: Router;
  /** What the last run of each group changed in its folder. */
  runChanges: RunChanges;
  outbox: Outbox;
  /** The owner's admin group, created with its folder on first run. */
  adminGroup: Group;
  /** Sends what is meant for the owner to every surface the owner is on. */
  owner: OwnerNotifier;
  /** Audits each change to the policy files once (shared by the gate and the host's watcher). */
  policyAudit: PolicyChangeAudit;
  /** Run `fn` (in reverse order of registration) when the assistant shuts down. */
  onShutdown(fn: () => Promise<void> | void): void;
  shutdown(): Promise<void>;
}

export function openBase(config: Config): Base {
  // Others may pass through (cells run as their own uid) but not list; what is inside is
  // private by the umask main sets, except the folders a cell mounts.
  fs.mkdirSync(config.home, { recursive: true, mode: 0o711 });
  fs.chmodSync(config.home, 0o711);
  const logDir = path.join(config.home, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const log = pino(
    { level: config.logLevel, base: { pid: process.pid } },
    new DiskFullTolerantLog(path.join(logDir, 'nanocell.log')),
  );
  // Given back when the disk is found full, so that failure can still be stored and told.
  const spaceReserve = new SpaceReserve(path.join(config.home, 'space-reserve'), 4 * 1024 * 1024);
  spaceReserve.ensure();
  const store = openStore(path.join(config.home, 'nanocell.db'), spaceReserve, {
    onBackup: (copy, from, to) =>
      log.info({ copy, from, to }, 'database backed up before upgrading its schema'),
  });
  const installId = readInstallId(config.home);
  const provider = modelProvider(config, { provider: config.provider, model: config.model }, log);
  const runtimes = allRuntimes(config, installId);
  const audit = AuditLog.open(auditLogPath(config.home), {
    configDir: config.configDir,
  });
  ensureAdminGroup(store, config);
  return {
    config,
    log,
    store,
    provider,
    runtimes,
    installId,
    audit,
    spaceReserve,
    close: () => {
      audit.close();
      store.close();
    },
  };
}

/**
 * The model API for one choice; with NANOCELL_FALLBACK_MODEL set, that model (same provider)
 * answers when this one is down. The only place a provider is chosen.
 */
export function modelProvider(config: Config, choice: ModelChoice, log: Logger): ModelProvider {
  const make = (model: string): ModelProvider => {
    const limits = { timeoutMs: config.modelTimeoutMs, maxRetries: config.modelMaxRetries };
    return choice.provider === 'openai'
      ? new OpenAIProvider({ ...config.openai, model, ...limits })
      : new AnthropicProvider({
          apiKey: config.apiKey,
          baseUrl: config.baseUrl,
          model,
          promptCache: config.promptCache,
          ...limits,
        });
  };
  const primary = make(choice.model);
  const fallback = config.fallbackModel;
  if (fallback === undefined || fallback === choice.model) return primary;
  return new FallbackProvider(primary, make(fallback), (err) =>
    log.warn({ model: choice.model, fallback, kind: err.kind }, 'model down: using the fallback'),
  );
}

/**
 * A run's model when its task or its group names one (`groups set NAME --model M`): one
 * provider per choice, made on first use and kept for the assistant's life.
 */
export function groupProviders(
  base: Base,
): (group: Group, taskId?: number) => ModelProvider | undefined {
  const made = new Map<string, ModelProvider>();
  return (group, taskId) => {
    const choice =
      (taskId !== undefined ? base.store.models.forTask(taskId) : undefined) ??
      base.store.models.forGroup(group.id);
    if (!choice) return undefined;
    const key = `${choice.provider}\u0000${choice.model}`;
    let provider = made.get(key);
    if (!provider) {
      provider = modelProvider(base.config, choice, base.log);
      made.set(key, provider);
    }
    return provider;
  };
}

export interface AssistantOptions {
  /** Retry failed runs with backoff (the long-running host); one-shot commands report at once. */
  retryRuns?: boolean;
  /** Told what happens (approvals asked and answered), for `start`'s event lines. */
  events?: HostEventSink;
  /** Told what happens in every run as it happens (text deltas, tools), for streaming channels. */
  onRunEvent?: GroupRunDeps['onEvent'];
}

export async function openAssistant(
  base: Base,
  options: AssistantOptions = {},
): Promise<Assistant> {
  const { config, store, log } = base;
  const runtime = await selectRuntime(config.runtime, base.runtimes);
  const removed = runtime.removeOrphans?.() ?? 0;
  if (removed > 0) log.warn({ removed, runtime: runtime.name }, 'removed orphaned cells');
  const adminGroup = ensureAdminGroup(store, config);
  base.audit.append({ type: 'startup', version: '0.1.0', pid: process.pid, runtime: runtime.name });
  const pool = new CellPool(runtime, config.cellIdleMs, log, {
    maxLiveCells: config.maxLiveCells,
    reuse: config.cellReuse,
  });
  const egress = new EgressManager(
    path.join(config.home, 'run'),
    path.join(PROJECT_ROOT, 'dist', 'cells', 'egress-forwarder.js'),
    (d) => {
      // What comes back from the web is someone else's words: the session is labelled. The
      // host's own requests (a pass) are labelled by the host for what it shows the model: a
      // remote MCP server's tool list is the owner's choice, as a server in the cell's is, and
      // its tools' results label the session as 'mcp' (src/mcp/mcp-tools.ts).
      if (d.allowed && d.stage === 'decided' && d.pass === null) {
        const group = store.groups.byName(d.groupName);
        if (group) store.provenance.taint(group.id, { kind: 'web', detail: d.host });
      }
      base.audit.append({
        type: 'egress',
        ...(d.runId !== null ? { run: d.runId } : {}),
        ...(d.taskId !== null ? { task: d.taskId } : {}),
        group: d.groupName,
        stage: d.stage,
        kind: d.kind,
        host: d.host,
        ...(d.port !== null ? { port: d.port } : {}),
        method: d.method,
        path: d.path,
        ...(d.address ? { address: d.address } : {}),
        decision: d.allowed ? 'allowed' : 'denied',
        rule: d.rule,
        ...(d.reason ? { reason: d.reason } : {}),
        ...(d.credentials?.length ? { credentials: d.credentials } : {}),
        bytesUp: d.bytesUp,
        bytesDown: d.bytesDown,
      });
    },
    log,
  );
  const owner = runtime.cellUser?.() ?? {
    hostOwnerUid: process.getuid?.() ?? 0,
    hostOwnerGid: process.getgid?.() ?? 0,
  };
  // Every cell reads the global folder (the admin cell writes it): it belongs to the cell user.
  ensureGlobalFolder(config.home, { uid: owner.hostOwnerUid, gid: owner.hostOwnerGid });
  const quota = groupQuotaFor(config.groupQuotaMb, config.home, {
    uid: owner.hostOwnerUid,
    gid: owner.hostOwnerGid,
  });
  const grant = cellGrant({
    config,
    store,
    log,
    egress,
    pool,
    owner: { uid: owner.hostOwnerUid, gid: owner.hostOwnerGid },
  });
  const cellSpec: typeof grant = (group, taskId) => {
    base.spaceReserve.ensure();
    quota?.ensure(group.folder);
    return grant(group, taskId);
  };
  const previews: ReplyPreviews = new ReplyPreviews({
    channelFor: (name): Channel | undefined => outbox.channelFor(name),
    // The terminal shows the stored reply as it is delivered; the dashboard streams (unless
    // NANOCELL_WEB_STREAM=off, for scripts that read the event stream as whole replies).
    streams: (name) =>
      name === 'web' ? base.config.webStream : knownChannel(name)?.builtIn !== true,
    log,
  });
  const outbox: Outbox = new Outbox(store, log, {
    previews,
    // Told on the owner's other channels (the failing one would not deliver it either).
    onUndeliverable: (message, error) => {
      if (message.text.startsWith(UNDELIVERED)) return; // never a notice about a notice
      ownerSurfaces.notify(
        `${UNDELIVERED} ${message.channel}:${message.chatId} after ${outboxReportAttempts} tries (${error.slice(0, 200)}). It is kept and retried; nanocell doctor checks the channel.`,
        (chat) => chat.channel === message.channel,
      );
    },
    reportAfterAttempts: outboxReportAttempts,
  });
  const hostTools = new AssistantHostTools(
    [
      sendFileTool({
        outbox,
        home: config.home,
        assistantName: config.assistantName,
        maxBytes: config.media.maxAttachmentBytes,
      }),
      webFetchTool({ store, egressFor: (groupName) => egress.route(groupName) }),
      // Offered only when the owner chose a provider (NANOCELL_WEB_SEARCH).
      ...(config.webSearch
        ? [
            webSearchTool({
              store,
              egressFor: (groupName) => egress.route(groupName),
              provider: searchProvider(config.webSearch),
            }),
          ]
        : []),
      ...taskTools({
        store,
        timezone: config.timezone,
        limits: { perGroup: config.maxTasksPerGroup, perRun: config.maxTasksPerRun },
        onChange: ({ action, task, by }) =>
          base.audit.append({
            type: 'task_change',
            group: store.groups.byId(task.groupId)?.name ?? String(task.groupId),
            task: String(task.id),
            action:
              action === 'scheduled'
                ? 'created'
                : action === 'cancelled'
                  ? 'removed'
                  : (action as 'paused' | 'resumed' | 'updated'),
            by,
          }),
      }),
    ],
    {
      audit: base.audit,
      store,
      outbox,
      home: config.home,
      assistantName: config.assistantName,
    },
  );
  const sessions = new Sessions(store, base.provider, log, {
    home: config.home,
    assistantName: config.assistantName,
    budgetTokens: config.historyBudgetTokens,
    keepRecent: 6,
    maxTokens: config.maxTokens,
  });
  const approvals = new Approvals({ store: store.approvals, ttlMs: config.approvalTtlMs });
  const ownerSurfaces = new OwnerNotifier({
    store,
    outbox,
    adminGroupId: adminGroup.id,
    assistantName: config.assistantName,
  });
  const policyAudit = new PolicyChangeAudit(path.join(config.configDir, 'policy'), base.audit);
  const gate = new ToolGate({
    policyAudit,
    policyDir: path.join(config.configDir, 'policy'),
    hostTools: HOST_TOOL_NAMES,
    approvals,
    audit: base.audit,
    log,
    canWait: options.retryRuns === true,
    notifyOwner: (text, approval) => {
      ownerSurfaces.notify(text, undefined, { actions: approvalActions(approval.code) });
      options.events?.({
        type: 'approval_asked',
        group: approval.groupName,
        tool: approval.tool,
        code: approval.code,
      });
    },
  });
  const runDeps: GroupRunDeps = {
    store,
    provider: base.provider,
    providerFor: groupProviders(base),
    pool,
    outbox,
    cellSpec,
    hostTools,
    turnContext: turnContextBuilder(config.timezone),
    mcp: new McpHost({
      configDir: config.configDir,
      log,
      notifyOwner: (text) => void ownerSurfaces.notify(text),
      egressFor: (groupName) => egress.route(groupName),
    }),
    gate,
    budget: config.budget,
    taskBudget: (taskId) => store.taskBudgets.get(taskId),
    beginEgressRun: (groupName, identity, limits) => egress.beginRun(groupName, identity, limits),
    audit: base.audit,
    tasks: store.tasks,
    compact: sessions.compact,
    media: {
      maxAttachmentBytes: config.media.maxAttachmentBytes,
      ...(config.media.transcribeCommand
        ? {
            transcriber: new CommandTranscriber(config.media.transcribeCommand, {
              timeoutMs: config.media.transcribeTimeoutMs,
              maxOutputBytes: 64 * 1024,
            }),
          }
        : {}),
    },
    onEvent: (ctx, event) => {
      previews.onEvent(ctx, event);
      options.onRunEvent?.(ctx, event);
    },
    onReplyStored: (ctx, messageId) => previews.adopt(ctx.group.id, messageId),
    notifyOwner: (text) => void ownerSurfaces.notify(text),
    prices: () => {
      const { table, problem } = readPriceFile(config.configDir);
      if (problem) log.warn({ problem }, 'prices: using the defaults');
      return table;
    },
    diskFull: () => freeBytes(config.home) < FULL_BELOW_BYTES,
    onDiskFull: () => {
      if (base.spaceReserve.release())
        log.warn({ home: config.home }, 'data disk full; reserve released');
    },
    log,
    settings: {
      home: config.home,
      assistantName: config.assistantName,
      timezone: config.timezone,
      maxTokens: config.maxTokens,
      maxToolRounds: config.maxToolRounds,
      maxReplyChars: config.maxReplyChars,
      guard: config.guard,
    },
  };
  // What each run changed in its group folder, for the owner's dashboard.
  const runChanges = new RunChanges((groupId) => {
    const group = store.groups.byId(groupId);
    return group ? groupFolderPath(config.home, group.folder) : undefined;
  }, log);
  const run = (groupId: number, job: QueueJob) =>
    runChanges
      .around(groupId, () => runGroup(runDeps, groupId, job))
      .finally(() => previews.end(groupId));
  const router = new Router(store, run, log, {
    assistantName: config.assistantName,
    approvalReply: approvalReplyHandler({
      approvals,
      owner: ownerSurfaces,
      outbox,
      assistantName: config.assistantName,
      ...(options.events ? { events: options.events } : {}),
    }),
    queue: {
      maxConcurrent: config.maxConcurrentRuns,
      slotLeaseMs: config.runSlotLeaseMs,
      onLeaseExpired: (groupId) =>
        log.warn(
          { groupId },
          'run held its slot past NANOCELL_RUN_SLOT_LEASE_MS; the next group goes',
        ),
      retry: {
        maxAttempts: options.retryRuns ? config.runMaxAttempts : 1,
        baseDelayMs: config.runRetryBaseMs,
        maxDelayMs: 5 * 60_000,
      },
      onRetry: (groupId, job, attempt, delayMs) =>
        log.warn({ groupId, job: job.kind, attempt, delayMs }, 'run failed; retrying'),
    },
    doorkeeper: ownerDoorkeeper({
      store,
      adminGroup,
      notifyOwner: (text, except) => void ownerSurfaces.notify(text, except),
      reply: (groupId, channel, chatId, text) =>
        outbox.send(groupId, channel, chatId, text, config.assistantName),
      audit: base.audit,
      log,
    }),
    saveMedia: (group, media) =>
      saveInboundMedia(groupFolderPath(config.home, group.folder), media, config.media, new Date()),
    clearSession: (groupId, messageId) => {
      const outcome = sessions.clear(groupId, messageId);
      void outbox.flush();
      return outcome;
    },
  });
  log.info({ runtime: runtime.name, home: config.home }, 'assistant ready');
  const hooks: Array<() => Promise<void> | void> = [];
  let stopping: Promise<void> | undefined;
  return {
    ...base,
    pool,
    router,
    outbox,
    adminGroup,
    owner: ownerSurfaces,
    policyAudit,
    runChanges,
    onShutdown: (fn) => hooks.push(fn),
    shutdown: () => {
      stopping ??= (async () => {
        for (const fn of hooks.reverse()) await fn();
        outbox.stop();
        await pool.stopAll();
        await runtime.close?.();
        await egress.closeAll();
        base.audit.append({ type: 'shutdown', reason: 'stopped' });
        base.close();
      })();
      return stopping;
    },
  };
}

/** The admin group and its terminal chat exist from the first run on. */
function ensureAdminGroup(store: Store, config: Config): Group {
  const group = store.groups.admin() ?? store.groups.create({ name: ADMIN_GROUP, isAdmin: true });
  ensureGroupFolder(config.home, group.folder, config.assistantName);
  // The owner's chats: the web chat first (where unprompted output goes while the host runs
  // and nobody has written yet), then the terminal.
  if (!store.groups.forChat('web', 'owner')) store.groups.bindChat('web', 'owner', group.id);
  if (!store.groups.forChat('terminal', group.name)) {
    store.groups.bindChat('terminal', group.name, group.id);
  }
  return group;
}

/**
 * The terminal chat of an existing group (the owner at the terminal may open any group's
 * chat); an unknown name is refused with the names there are — a typo must not create a group.
 */
export function ownerTerminalChat(
  base: Base,
  groupName: string,
): { ok: true; group: Group } | { ok: false; error: string } {
  const { store, config } = base;
  const group = store.groups.byName(groupName);
  if (!group) {
    const names = store.groups.list().map((g) => g.name);
    return {
      ok: false,
      error: `no group named "${groupName}" (groups: ${names.join(', ')}); add one with: nanocell groups add ${groupName}`,
    };
  }
  ensureGroupFolder(config.home, group.folder, config.assistantName);
  if (!store.groups.forChat('terminal', group.name)) {
    store.groups.bindChat('terminal', group.name, group.id);
  }
  return { ok: true, group };
}

/** SQLite cannot even open its log on a full disk: give back the reserve and try once more. */
function openStore(file: string, reserve: SpaceReserve, options: OpenOptions): Store {
  refuseLostDatabase(file);
  try {
    return Store.open(file, options);
  } catch (err) {
    if (freeBytes(path.dirname(file)) >= FULL_BELOW_BYTES || !reserve.release()) throw err;
    return Store.open(file, options);
  }
}

/**
 * A data dir that holds groups but no database (deleted, or emptied to 0 bytes) is not a first
 * run: starting afresh would silently forget every group, task and conversation.
 */
function refuseLostDatabase(file: string): void {
  let size: number | undefined;
  try {
    size = fs.statSync(file).size;
  } catch {
    size = undefined;
  }
  if (size !== undefined && size > 0) return;
  const groups = path.join(path.dirname(file), 'groups');
  let folders: string[];
  try {
    folders = fs.readdirSync(groups);
  } catch {
    return; // no groups folder: a new data dir
  }
  if (folders.length === 0) return;
  throw new StoreError(
    `the database ${file} is ${size === undefined ? 'missing' : 'empty'}, but ${groups} holds ` +
      `${folders.length} group folder(s): it was deleted or emptied, and starting afresh would ` +
      `forget every group, task and conversation. Restore it with \`nanocell restore FILE --replace\`; ` +
      `to really start over, move ${groups} aside first.`,
  );
}

function readInstallId(home: string): string {
  const file = path.join(home, 'install-id');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    const id = crypto.randomBytes(6).toString('hex');
    fs.writeFileSync(file, `${id}\n`, { mode: 0o600 });
    return id;
  }
}
