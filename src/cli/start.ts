import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Assistant } from '../app.js';
import type { ChannelHandlers } from '../channels/channel.js';
import { WebChannel } from '../channels/web/web-channel.js';
import { WebLinks } from '../channels/web/web-links.js';
import type { ReceiveResult } from '../router/router.js';
import type { RunOutcome } from '../run/run.js';
import { Scheduler } from '../scheduler/scheduler.js';

/** Where a running host says how to reach it (for `status`, and for tests). */
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

/**
 * The long-running host: the local web chat, the outbox, the scheduler, and the work a crash
 * left behind. Runs until a stop signal; `main` then calls `assistant.shutdown()`.
 */
export async function start(
  assistant: Assistant,
  out: { stdout: NodeJS.WritableStream },
): Promise<never> {
  const { config, store, router, outbox, log } = assistant;
  const links = new WebLinks(config.home);

  /** Tell the chat in plain words when a run finally failed (after its retries). */
  const report =
    (groupId: number, chat: { channel: string; chatId: string } | undefined) =>
    (outcome: RunOutcome) => {
      if (outcome.ok) return;
      const target =
        chat ?? store.messages.lastInboundChat(groupId) ?? store.groups.chatsOf(groupId)[0];
      if (!target) return;
      outbox.send(
        groupId,
        target.channel,
        target.chatId,
        `Sorry, I could not answer that: ${outcome.error}`,
        config.assistantName,
      );
    };

  /** A receipt for the channel; a run it started is reported, with a working indicator meanwhile. */
  const answer = (
    received: ReceiveResult,
    from: { channel: string; chatId: string },
  ): ReceiveResult => {
    const group = store.groups.forChat(from.channel, from.chatId);
    if (received.status === 'stored' && received.run && group) {
      outbox.working(from.channel, from.chatId, received.run);
      void received.run.then(report(group.id, { channel: from.channel, chatId: from.chatId }));
    }
    return received;
  };
  const handlers: ChannelHandlers = {
    onMessage: async (message) => answer(router.receive(message), message),
    onAction: async (action) => answer(router.receiveAction(action), action),
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
    status: () => ({
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

  const scheduler = new Scheduler({
    tasks: store.tasks,
    now: () => new Date(),
    log,
    missedRuns: config.missedRuns,
    runTask: async (task) => {
      const outcome = await router.runTask(task.groupId, task.id);
      report(task.groupId, undefined)(outcome);
      return outcome.ok
        ? { ok: true, summary: outcome.reply ?? '' }
        : { ok: false, summary: outcome.error };
    },
  });
  scheduler.start(config.schedulerTickMs);
  assistant.onShutdown(() => scheduler.stop());

  outbox.start(1000);
  for (const groupId of store.messages.groupsWithPendingWork()) {
    log.info({ groupId }, 'resuming work left by the last run');
    void router.resume(groupId).then(report(groupId, undefined));
  }

  const info: HostInfo = { pid: process.pid, url: web.url, startedAt: new Date().toISOString() };
  fs.writeFileSync(hostFile(config.home), `${JSON.stringify(info)}\n`, { mode: 0o600 });
  assistant.onShutdown(() => fs.rmSync(hostFile(config.home), { force: true }));
  out.stdout.write(
    `nanocell: running (cells: ${assistant.pool.runtimeName}). Web chat: ${web.url}?token=${webToken(config.home)}\n` +
      'nanocell: stop with Ctrl-C (or kill -TERM ' +
      process.pid +
      ').\n',
  );
  log.info({ url: web.url }, 'host started');
  return new Promise<never>(() => {});
}
