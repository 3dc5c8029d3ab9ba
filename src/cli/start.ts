import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../config.js';
import type { Assistant } from '../app.js';
import type { ChannelHandlers } from '../channels/channel.js';
import { WebChannel } from '../channels/web/web-channel.js';
import type { HostStatusInfo } from '../channels/web/dashboard-types.js';
import { WebLinks } from '../channels/web/web-links.js';
import { dashboardChats } from '../owner/dashboard-chats.js';
import { dashboardData } from '../owner/dashboard-data.js';
import { dashboardActivity, toolStepOf } from '../owner/dashboard-activity.js';
import { dashboardPolicy } from '../owner/dashboard-policy.js';
import { policyDepsOf, policyExplain } from './policy.js';
import { knownToolNames } from '../policy/rules.js';
import { HOST_TOOL_NAMES } from '../tools/host-tools.js';
import type { RunEventRelay } from '../control/run-event-relay.js';
import type { DataDirLock } from '../control/data-dir-lock.js';
import type { HostEventSink } from '../control/host-events.js';
import { watchPolicyDir } from '../control/policy-watch.js';
import { OutcomeReport } from '../owner/outcome-report.js';
import type { ReceiveResult } from '../router/router.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { DISK_FULL_MESSAGE, isDiskFull } from '../store/disk-full.js';
import type { CliCommand, TextOut } from './command.js';
import { startChannels } from './start-channels.js';
import { budgetAllowsNow } from '../run/group-budget-gate.js';
import { readPriceFile } from '../usage/price-file.js';
import type { RunOutcome } from '../run/run.js';
import type { ChatRef } from '../owner/home-chat.js';
import { dashboardGroups } from '../owner/dashboard-groups.js';
import { processTreePssBytes } from '../cells/cell-memory.js';
import type { Task } from '../store/tasks.js';

/** Where a running host says how to reach it (for tests and scripts). */
export function hostFile(home: string): string {
  return path.join(home, 'host.json');
}

export interface HostInfo {
  pid: number;
  url: string;
  startedAt: string;
}

/** The web chat's token: made once, kept in the data dir, readable by the owner only. */
export function webToken(home: string): string {
  const file = path.join(home, 'web-token');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    const token = crypto.randomBytes(18).toString('base64url');
    fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
    return token;
  }
}

const USAGE = `usage: nanocell start [--quiet]
  Run the assistant: the local web chat, each chat platform that is configured (Telegram,
  Slack, Discord, WhatsApp, email: see \`nanocell doctor\`), scheduled tasks, the outbox, and
  the control socket that \`chat\`, \`ask\`, \`status\`, \`groups\`, \`tasks\` ... use while
  it runs. It prints one line per run finished or failed, approval asked or answered, task
  run, channel connected or not, and error; --quiet prints only the address and channels. Stop with
  Ctrl-C or kill -TERM PID.
`;

export function parseStartArgs(args: string[]): { quiet: boolean } | string {
  try {
    const { values } = parseArgs({
      args,
      options: { quiet: { type: 'boolean', short: 'q' } },
      allowPositionals: false,
    });
    return { quiet: values.quiet === true };
  } catch (err) {
    return (err as Error).message;
  }
}

export const startCli: CliCommand = {
  name: 'start',
  summary: 'run the assistant: web chat, scheduled tasks, outbox, control socket (--quiet)',
  usage: USAGE,
  needs: 'host',
  check: (args) => {
    const parsed = parseStartArgs(args);
    return typeof parsed === 'string' ? parsed : null;
  },
};

export interface StartDeps {
  lock: DataDirLock;
  events: HostEventSink;
  stdout: TextOut;
  /** What runs do as they go: tool calls become cards on the owner's dashboard. */
  runs?: RunEventRelay;
}

/**
 * The long-running host: the local web chat, the outbox, the scheduler, and the work a crash
 * left behind. Runs until a stop signal; `main` then calls `assistant.shutdown()`.
 */
export async function start(assistant: Assistant, deps: StartDeps): Promise<never> {
  const { config, store, router, outbox, log } = assistant;
  const links = new WebLinks(config.home);
  const report = new OutcomeReport({
    store,
    outbox,
    owner: assistant.owner,
    assistantName: config.assistantName,
    events: deps.events,
  });

  // Groups whose daily budget paused a run: answered by the sweep below once it allows them.
  const paused = new Set<number>();
  const reported = (groupId: number, chat: ChatRef | undefined, outcome: RunOutcome) => {
    if (!outcome.ok && outcome.kind === 'group_budget') paused.add(groupId);
    report.messageRun(groupId, chat, outcome);
  };

  /** A receipt for the channel; a run it started is reported, with a working indicator meanwhile. */
  const answer = (
    received: ReceiveResult,
    from: { channel: string; chatId: string },
  ): ReceiveResult => {
    const group = store.groups.forChat(from.channel, from.chatId);
    if (received.status === 'stored' && received.run && group) {
      const chat = { channel: from.channel, chatId: from.chatId };
      outbox.working(chat.channel, chat.chatId, received.run);
      void received.run.then((outcome) => reported(group.id, chat, outcome));
    }
    return received;
  };
  /** A full disk stores nothing: the channel is told so, and acknowledges nothing. */
  const stored = (from: { channel: string; chatId: string }, receive: () => ReceiveResult) => {
    try {
      return answer(receive(), from);
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      log.error({ channel: from.channel, err }, 'message not stored: data disk full');
      return { status: 'refused' as const, reason: `not stored: ${DISK_FULL_MESSAGE}` };
    }
  };
  const handlers: ChannelHandlers = {
    onMessage: async (message) => stored(message, () => router.receive(message)),
    onAction: async (action) => stored(action, () => router.receiveAction(action)),
  };

  // A due task (the scheduler) or one the owner runs now (the dashboard): the same run.
  const runTask = async (task: Task) => {
    const outcome = await router.runTask(task.groupId, task.id);
    report.taskRun(task.id, task.groupId, outcome);
    return outcome.ok
      ? { ok: true, summary: outcome.reply ?? '' }
      : { ok: false, summary: outcome.error };
  };
  const web = new WebChannel({
    port: config.webPort,
    ownerToken: webToken(config.home),
    // A member link never opens a chat of the admin group, even if one was bound there later.
    memberLink: (token) => {
      const link = links.find(token);
      return link && !store.groups.forChat('web', link.chatId)?.isAdmin ? link : undefined;
    },
    publicHosts: config.webPublicUrl ? [new URL(config.webPublicUrl).host] : [],
    history: (chatId, afterId) =>
      store.messages.chatHistory('web', chatId, afterId).map((m) => ({
        id: m.id,
        direction: m.direction,
        senderName: m.senderName,
        text: m.text,
        createdAt: m.createdAt,
      })),
    dashboardDir: path.join(PROJECT_ROOT, 'dist', 'dashboard'),
    owner: dashboardData({ store, audit: assistant.audit, assistantName: config.assistantName }),
    ownerGroups: dashboardGroups({
      store,
      config,
      audit: assistant.audit,
      cells: () => assistant.pool.list(),
      runtime: assistant.pool.runtimeName,
      memoryOf: (pid) => processTreePssBytes(pid),
      queue: () => router.queueByGroup(),
      runTask: (task) => runTask(task),
      lastRun: (groupId) => assistant.runChanges.lastRun(groupId),
    }),
    ownerActivity: dashboardActivity({ store, audit: assistant.audit }),
    ownerChats: dashboardChats(store),
    ownerPolicy: dashboardPolicy({
      policyDir: path.join(config.configDir, 'policy'),
      store,
      knownTools: knownToolNames(HOST_TOOL_NAMES),
      policyAudit: assistant.policyAudit,
      explain: (args, out) => policyExplain(args, policyDepsOf(assistant, out)),
      pendingApproval: (code) => {
        const a = store.approvals.pending(new Date().toISOString()).find((p) => p.code === code);
        return a && { group: a.groupName, tool: a.tool, input: a.input };
      },
    }),
    status: (): HostStatusInfo => ({
      pid: process.pid,
      runtime: assistant.pool.runtimeName,
      liveCells: assistant.pool.liveCount(),
      queue: router.queueStats(),
      busyGroups: router.busyGroups(),
      outboxPending: store.messages.outboxPendingCount(),
    }),
  });
  outbox.register(web);
  await web.start(handlers);
  assistant.onShutdown(() => web.stop());
  const unwatchRuns = deps.runs?.watchAll((ctx, event) => {
    if (event.type === 'tool_step') web.toolStep(toolStepOf(ctx.group.name, event, new Date()));
  });
  if (unwatchRuns) assistant.onShutdown(unwatchRuns);

  const scheduler = new Scheduler({
    tasks: store.tasks,
    now: () => new Date(),
    log,
    missedRuns: config.missedRuns,
    runTask,
  });
  scheduler.start(config.schedulerTickMs);
  assistant.onShutdown(() => scheduler.stop());

  const unwatch = watchPolicyDir(
    path.join(config.configDir, 'policy'),
    assistant.policyAudit,
    deps.events,
    log,
  );
  assistant.onShutdown(unwatch);

  outbox.start(1000);
  for (const groupId of store.messages.groupsWithPendingWork()) {
    log.info({ groupId }, 'resuming work left by the last run');
    void router.resume(groupId).then((outcome) => reported(groupId, undefined, outcome));
  }

  // The messages a paused group kept are answered once a new UTC day or a raised budget lets
  // it run, without waiting for its next message.
  const prices = () => readPriceFile(config.configDir).table;
  const sweep = setInterval(() => {
    const busy = new Set(router.busyGroups());
    for (const groupId of [...paused]) {
      const group = store.groups.byId(groupId);
      if (!group) {
        paused.delete(groupId);
        continue;
      }
      if (busy.has(groupId) || !budgetAllowsNow(store, group, prices, new Date())) continue;
      paused.delete(groupId);
      log.info({ group: group.name }, 'budget allows the group again: answering its kept messages');
      void router.resume(groupId).then((outcome) => reported(groupId, undefined, outcome));
    }
    // As often as the scheduler ticks: a query per paused group, none when none is paused.
  }, config.schedulerTickMs);
  sweep.unref();
  assistant.onShutdown(() => clearInterval(sweep));

  const info: HostInfo = { pid: process.pid, url: web.url, startedAt: new Date().toISOString() };
  fs.writeFileSync(hostFile(config.home), `${JSON.stringify(info)}\n`, { mode: 0o600 });
  deps.lock.setUrl(web.url);
  // Removed before the lock is released (main releases it last), so a new host never loses its own.
  assistant.onShutdown(() => fs.rmSync(hostFile(config.home), { force: true }));
  deps.stdout.write(
    `nanocell: running (cells: ${assistant.pool.runtimeName}). Web chat: ${web.url}?token=${webToken(config.home)}\n` +
      `nanocell: other commands (chat, ask, status, groups, tasks ...) now go through this host. Stop with Ctrl-C (or kill -TERM ${process.pid}).\n`,
  );
  log.info({ url: web.url }, 'host started');

  // Telegram, Slack, Discord, WhatsApp, email: each that is configured, each on its own.
  const platforms = startChannels({
    config,
    log,
    handlers,
    register: (channel) => outbox.register(channel),
    stdout: deps.stdout,
  });
  assistant.onShutdown(platforms.stop);
  return new Promise<never>(() => {});
}
