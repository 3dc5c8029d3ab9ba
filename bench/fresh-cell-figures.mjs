import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as delay } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { hostEnv, startHost } from './host-process.mjs';
import { summarize } from './stats.mjs';
import { hostDirs } from './temp-dir.mjs';
import { WebClient } from './web-client.mjs';

class ToolResultError extends Error {}

/**
 * From sending a message to the fake model receiving the request that carries the first tool
 * result (the model asked for `bash` in its first answer); resolves once the reply is in too,
 * so the run has ended (and, with reuse `run`, its spare is starting) when the next one begins.
 */
async function timeFirstToolResult(client, model, chat, timeoutMs = 60_000) {
  let t0 = Number.POSITIVE_INFINITY;
  let seen = 0;
  let unsubscribeModel = () => false;
  let unsubscribeReply = () => false;
  const toolResult = new Promise((resolve) => {
    unsubscribeModel = model.onRequest((r) => {
      if (r.at < t0 || r.path !== '/v1/messages') return;
      // The run's first request is answered with tool_use; its second carries the result.
      if (++seen === 2) {
        unsubscribeModel();
        resolve(r.at);
      }
    });
  });
  const reply = new Promise((resolve) => {
    unsubscribeReply = client.onMessage((m) => {
      if (m.chatId === chat) {
        unsubscribeReply();
        resolve(m);
      }
    });
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new ToolResultError(`no tool result in chat ${chat} within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    t0 = performance.now();
    const status = await client.post(chat, `bench turn ${Math.random().toString(36).slice(2)}`);
    if (status !== 202) throw new ToolResultError(`POST to chat ${chat} answered ${status}`);
    const [at, message] = await Promise.race([Promise.all([toolResult, reply]), timeout]);
    if (!String(message.text).startsWith('done: hi')) {
      throw new ToolResultError(`chat ${chat} got "${String(message.text).slice(0, 300)}"`);
    }
    return at - t0;
  } finally {
    clearTimeout(timer);
    unsubscribeModel();
    unsubscribeReply();
  }
}

/**
 * Figure 8 for one runtime: message → first tool result, on the real host, with a fresh cell
 * for every run (the default: the run takes the spare started when the previous run ended)
 * beside a warm cell reused across runs (NANOCELL_CELL_REUSE=group, the behaviour before
 * fresh cells). Two hosts run side by side and their turns alternate, `gapMs` apart (a
 * user's pause, in which the spare starts), so a busy patch of the machine hits both.
 */
export async function freshCellTurns(runtime, ctx) {
  const { model, cleanup, progress, turns, gapMs } = ctx;
  const hosts = {};
  try {
    for (const reuse of ['group', 'run']) {
      const { home, configDir } = hostDirs(`fresh-${runtime.name}-${reuse}`, cleanup);
      const env = hostEnv({
        home,
        configDir,
        modelUrl: model.url,
        runtime: runtime.name,
        extra: { NANOCELL_CELL_REUSE: reuse, NANOCELL_CELL_IDLE_MS: '600000' },
      });
      const host = await startHost(env, cleanup);
      const client = new WebClient(host.url, host.token);
      hosts[reuse] = { host, client, samples: [] };
      await client.connect();
      // Untimed: the first turn starts the first cell and loads the host's code paths.
      await timeFirstToolResult(client, model, 'owner');
    }
    for (let i = 0; i < turns; i++) {
      progress(`fig 8 ${runtime.name} ${i + 1}/${turns}`);
      for (const reuse of i % 2 === 0 ? ['group', 'run'] : ['run', 'group']) {
        await delay(gapMs);
        hosts[reuse].samples.push(await timeFirstToolResult(hosts[reuse].client, model, 'owner'));
      }
    }
    return { warm: summarize(hosts.group.samples), fresh: summarize(hosts.run.samples) };
  } finally {
    for (const h of Object.values(hosts)) {
      h.client.close();
      await h.host.stop();
    }
  }
}
