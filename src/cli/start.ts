import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Assistant } from '../app.js';
import type { InboundMessage } from '../channels/channel.js';
import { WebChannel } from '../channels/web/web-channel.js';
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

  const onMessage = async (message: InboundMessage) => {
    const received = router.receive(message);
    if (!received.accepted) return;
    const group = store.groups.forChat(message.channel, message.chatId);
    if (received.run && group) {
      void received.run.then(
        report(group.id, { channel: message.channel, chatId: message.chatId }),
      );
    }
  };

  const web = new WebChannel({
    port: config.webPort,
    token: webToken(config.home),
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
  await web.start(onMessage);
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
