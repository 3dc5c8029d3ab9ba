import { performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers';
import { addWebGroup, hostEnv, startHost } from './host-process.mjs';
import { settledSamples } from './memory-figures.mjs';
import { rssKb } from './proc-memory.mjs';
import { errorRow, row } from './report.mjs';
import { summarize } from './stats.mjs';
import { hostDirs } from './temp-dir.mjs';
import { WebClient } from './web-client.mjs';

/**
 * Load on the real host (issue 18): `groups` groups bound to web chats, each sent
 * `perGroup` messages at once (a burst over all groups), every turn a real cell running the
 * fake model's `bash` call, with the host's defaults (3 runs at a time, a fresh cell per run).
 * Measured: messages accepted per second (the POSTs answered 202), messages answered per
 * second (until each chat has a reply after its last message), end-to-end latency per message
 * (POST to the first reply in its chat after it: messages that arrive during a run are
 * answered together by the next), and the host's peak RSS, sampled every 100 ms.
 */
export async function hostLoad(runtime, ctx, { groups, perGroup, extraEnv = {}, label = 'load' }) {
  const { model, cleanup } = ctx;
  const { home, configDir } = hostDirs(`${label}-${groups}`, cleanup);
  const env = hostEnv({
    home,
    configDir,
    modelUrl: model.url,
    runtime: runtime.name,
    extra: extraEnv,
  });
  const host = await startHost(env, cleanup);
  const client = new WebClient(host.url, host.token);
  try {
    const names = Array.from({ length: groups }, (_, i) => `load${i}`);
    for (const name of names) await addWebGroup(env, name);
    await client.connect();
    // Idle with every group known: what groups cost before any of them runs, once the RSS
    // has settled (its GC's timing otherwise swamps a few MiB).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const idleKb = summarize(await settledSamples(() => rssKb(host.pid), 4)).median;
    /** Reply arrival times per chat. */
    const replies = new Map(names.map((n) => [n, []]));
    client.onMessage((m) => replies.get(m.chatId)?.push(m.at));
    let peakKb = rssKb(host.pid);
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakKb = Math.max(peakKb, rssKb(host.pid));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    const sent = [];
    const t0 = performance.now();
    const posts = [];
    for (let k = 0; k < perGroup; k++) {
      for (const chat of names) {
        const at = performance.now();
        sent.push({ chat, at });
        posts.push(
          client.post(chat, `load message ${k}`).then((status) => {
            if (status !== 202) throw new Error(`POST to ${chat} answered ${status}`);
          }),
        );
      }
    }
    await Promise.all(posts);
    const acceptedS = (performance.now() - t0) / 1000;
    const lastSent = new Map();
    for (const s of sent) lastSent.set(s.chat, Math.max(lastSent.get(s.chat) ?? 0, s.at));
    const deadline = Date.now() + 10 * 60_000;
    while (names.some((n) => !replies.get(n).some((at) => at > lastSent.get(n)))) {
      if (Date.now() > deadline) throw new Error('not every chat was answered within 10 minutes');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const answeredS = (performance.now() - t0) / 1000;
    sampling = false;
    await sampler;
    const latencies = sent.map(({ chat, at }) => replies.get(chat).find((r) => r > at) - at);
    return {
      accepted: sent.length / acceptedS,
      answered: sent.length / answeredS,
      latency: summarize(latencies),
      peakRssMb: peakKb / 1024,
      idleRssMb: idleKb / 1024,
      totalS: answeredS,
      messages: sent.length,
    };
  } finally {
    client.close();
    await host.stop();
  }
}

export function loadFigure(measured, plan) {
  const rows = [];
  for (const { groups, result, error } of measured) {
    if (error) {
      rows.push(errorRow(`${groups} groups`, error));
      continue;
    }
    const one = (x) => summarize([x]);
    rows.push(
      row({ label: `${groups} groups: messages accepted per second`, value: one(result.accepted) }),
      row({ label: `${groups} groups: messages answered per second`, value: one(result.answered) }),
      row({
        label: `${groups} groups: end to end per message, ms (p50, p95)`,
        value: result.latency,
      }),
      row({ label: `${groups} groups: host peak RSS, MB`, value: one(result.peakRssMb) }),
    );
  }
  return {
    id: 9,
    title: 'Load: many groups at once on the real host',
    unit: 'see each row',
    target: 'every message answered; latency and memory reported',
    method: `The real host (node dist/main.js start, ${plan.runtime} cells, host defaults: 3 runs at a time, a fresh cell per run) with the fake model asking for one bash call per turn. Each of N groups is bound to a web chat and sent ${plan.perGroup} messages in one burst over all groups (POSTs in flight together); messages that arrive during a group's run are answered together by its next. Accepted: messages over the time until every POST was answered 202. Answered: messages over the time until every chat had a reply after its last message. End to end: from a message's POST to the first reply in its chat after it. RSS: the host process, sampled every 100 ms (cells are separate processes).`,
    rows,
  };
}

/** The host's limits raised so every group's turn runs at once (issue 17's scale figure). */
export const SCALE_ENV = { NANOCELL_MAX_CONCURRENT_RUNS: '100', NANOCELL_MAX_LIVE_CELLS: '100' };

/**
 * Figure 13: N groups each answering one tool turn at once with the queue caps raised; the
 * total time and peak memory, and their growth from the smallest N to the largest as ratios.
 */
export function scaleFigure(measured, plan) {
  const rows = [];
  const ok = measured.filter((m) => !m.error);
  const first = ok[0];
  const one = (x) => summarize([x]);
  for (const { groups, result, error } of measured) {
    if (error) {
      rows.push(errorRow(`${groups} groups`, error));
      continue;
    }
    const vsFirst = first && first.groups !== groups;
    rows.push(
      row({
        label: `${groups} groups: every turn answered, s`,
        value: one(result.totalS),
        ...(vsFirst
          ? { baselineLabel: `${first.groups} groups`, baseline: one(first.result.totalS) }
          : {}),
      }),
      row({
        label: `${groups} groups: host peak RSS, MiB`,
        value: one(result.peakRssMb),
        ...(vsFirst
          ? { baselineLabel: `${first.groups} groups`, baseline: one(first.result.peakRssMb) }
          : {}),
      }),
      row({ label: `${groups} groups: host RSS idle, MiB`, value: one(result.idleRssMb) }),
    );
  }
  const last = ok.at(-1);
  if (first && last && last.groups > first.groups) {
    const perGroup =
      (last.result.idleRssMb - first.result.idleRssMb) / (last.groups - first.groups);
    rows.push(
      row({
        label: `host memory per idle group, MiB ((idle RSS at ${last.groups} − at ${first.groups}) / ${last.groups - first.groups})`,
        value: one(perGroup),
        target: '≤ 2 MiB',
        meets: (v) => v.median <= 2,
        ...(perGroup < 0
          ? { note: "below the noise of the host's GC: the host with more groups was smaller" }
          : {}),
      }),
    );
  }
  return {
    id: 13,
    title: 'Scale: every group answering one tool turn at once',
    unit: 'see each row',
    target:
      'total time and peak memory reported, with their growth from the fewest groups to the most',
    method: `The real host (node dist/main.js start, ${plan.runtime} cells, a fresh cell per run) with its caps raised (${Object.entries(
      SCALE_ENV,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join(
        ', ',
      )}), the fake model asking for one bash call per turn. N groups bound to web chats, one message each, sent together. Total: from the first POST until every chat has its reply. Peak RSS: the host process sampled every 100 ms. Idle RSS: the host with every group added and nothing run yet, from 2 s after the event stream connected, once four samples 250 ms apart agree within 2 % (15 s at most); its GC's timing still moves it by a few MiB either way, so the per-group figure is a bound, not a measurement of one group. Ratios: each figure over the same figure for ${first?.groups ?? 'the fewest'} groups.`,
    rows,
  };
}
