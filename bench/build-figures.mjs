import { errorRow, row } from './report.mjs';
import { summarize } from './stats.mjs';

/** The design's aims, from issue 6. */
export const TARGETS = {
  coldStartRatio: 1.1,
  /** Issue 17: docker and podman cells join a namespace holder instead of making a netns. */
  containerColdRatio: 0.7,
  roundTripMs: 5,
  toModelMs: 20,
  /** Issue 17: message → first model request with the cell warm. */
  toModelWarmMs: 5,
  /** Issue 17: a warm one-tool turn within this many times the floor (relay + bare bwrap). */
  turnFloorRatio: 1.5,
  turnMs: { docker: 150, bwrap: 100 },
  idleRssMb: 80,
  routedPerSecond: 2000,
  tickRatio: 1.5,
  freshCellRatio: 1.2,
  askColdMs: 400,
};

/** The target is in MB; /proc and the engines report MiB. */
const MIB_PER_MB = 1.048576;

const byRuntime = (measured, build) =>
  measured.flatMap(({ name, result, error }) =>
    error ? [errorRow(name, error)] : build(name, result),
  );

const coldRatio = (runtime) =>
  runtime === 'docker' || runtime === 'podman'
    ? TARGETS.containerColdRatio
    : TARGETS.coldStartRatio;

export function coldStartFigure(measured, roundTrips) {
  const warmOf = (name) => roundTrips.find((m) => m.name === name)?.result?.roundTrip;
  return {
    id: 1,
    title: 'Cell cold start, per runtime',
    unit: 'ms',
    target: `cell start within ${TARGETS.coldStartRatio}× of the bare runtime running \`true\` with the same image or binds; docker and podman within ${TARGETS.containerColdRatio}× (a cell joins its group's namespace holder; podman starts the group's spare container through its API service)`,
    method:
      'CellRuntime.start(spec) until it resolves (the tool server in the cell has printed its ready line), with the grant src/app.ts gives a group (group folder rw, global folder ro, limits, env allowlist); then the first call, `true` through bash. Bare runs alternate with cell starts. Bare docker/podman/gvisor: `run --rm --network none IMAGE /bin/true`, which also waits for the container to be removed; bare bwrap: the same namespaces and binds (passed as fds, as uid 10001 on a root host), without the seccomp filter and cgroup nanocell adds. The second baseline starts node (`node -e 0`) the bare way, as a cell starts the node tool server.',
    rows: byRuntime(measured, (name, r) => [
      row({
        label: `${name}: start() → ready`,
        value: r.start,
        baselineLabel: r.baselineLabel ? `${r.baselineLabel} /bin/true` : undefined,
        baseline: r.bareTrue,
        target: `≤ ${coldRatio(name)}× bare`,
        meets: (_v, ratio) => (ratio === null ? null : ratio <= coldRatio(name)),
      }),
      row({
        label: `${name}: start() → ready (vs a bare node start)`,
        value: r.start,
        baselineLabel: r.baselineLabel ? `${r.baselineLabel} node -e 0` : undefined,
        baseline: r.bareNode,
        note: 'the same cell starts, beside a bare runtime that also starts node',
      }),
      row({
        label: `${name}: first tool call after ready`,
        value: r.firstCall,
        baselineLabel: 'warm call in the same runtime (figure 2)',
        baseline: warmOf(name),
      }),
      row({
        label: `${name}: start() → first call answered`,
        value: r.startToFirstAnswer,
        baselineLabel: r.baselineLabel ? `${r.baselineLabel} /bin/true` : undefined,
        baseline: r.bareTrue,
      }),
    ]),
  };
}

export function roundTripFigure(measured) {
  return {
    id: 2,
    title: 'Tool round trip in a warm cell (`echo hi` through the tool server)',
    unit: 'ms',
    target: `under ${TARGETS.roundTripMs} ms`,
    method:
      'cell.call({tool: "bash", input: {command: "echo hi"}}) on a started cell, from the call to its answer. Baselines, spread between the cell calls: `<engine> exec CONTAINER echo hi` into a bare container running `sleep infinity`; for bwrap (which has no exec) a fresh bare bwrap with the same binds running `echo hi`.',
    rows: byRuntime(measured, (name, r) => [
      row({
        label: `${name}: echo hi, warm cell`,
        value: r.roundTrip,
        baselineLabel: r.baselineLabel,
        baseline: r.baseline,
        target: `< ${TARGETS.roundTripMs} ms`,
        meets: (v) => v.median < TARGETS.roundTripMs,
      }),
    ]),
  };
}

export function toModelFigure(measured) {
  return {
    id: 3,
    title: 'Message to first model request',
    unit: 'ms',
    target: `under ${TARGETS.toModelWarmMs} ms with the cell warm (issue 17), under ${TARGETS.toModelMs} ms for a first message`,
    method:
      'The real host (`node dist/main.js start`, the runtime named) takes `POST /api/chats/owner/messages`; the time from sending the POST to the fake Messages API (in the benchmark process, same clock) receiving the request. Baseline: the bare relay (bench/relay-host.mjs), a plain Node HTTP server that forwards the message to the model at once: no store, queue, SDK, policy or audit.',
    rows: byRuntime(measured, (name, r) => [
      row({
        label: `${name} host, cell warm`,
        value: r.warm.toModel,
        baselineLabel: 'bare relay',
        baseline: r.warm.baseToModel,
        target: `≤ ${TARGETS.toModelWarmMs} ms`,
        meets: (v) => v.median <= TARGETS.toModelWarmMs,
      }),
      row({
        label: `${name} host, first message (cell cold)`,
        value: r.cold.toModel,
        baselineLabel: 'bare relay',
        baseline: r.cold.baseToModel,
        target: `< ${TARGETS.toModelMs} ms`,
        meets: (v) => v.median < TARGETS.toModelMs,
      }),
    ]),
  };
}

export function turnFigure(measured) {
  const target = (name) => TARGETS.turnMs[/** @type {'docker'|'bwrap'} */ (name)];
  return {
    id: 4,
    title: 'One full turn: message → bash `echo hi` → final text, per runtime',
    unit: 'ms',
    target: `under ${TARGETS.turnMs.docker} ms on docker and ${TARGETS.turnMs.bwrap} ms on bwrap (no target named for podman or gvisor)`,
    method:
      'From sending the POST to the reply arriving on `GET /api/events` (SSE). The fake model asks for `bash` `echo hi`, then answers text quoting the output (checked). Cell warm: turns back to back in the admin chat after an untimed first turn. Cell cold: each turn after the host reported no live cell (NANOCELL_CELL_IDLE_MS expired), so the turn starts one (nanocell starts it while the first model request is in flight). Baseline: the bare relay doing the same two model requests with the command run the bare way: warm, `<engine> exec` into a running container; cold, `<engine> run --rm`; bwrap, a fresh bare bwrap either way.',
    rows: byRuntime(measured, (name, r) => [
      row({
        label: `${name}: turn, cell warm`,
        value: r.warm.turn,
        baselineLabel: r.baselineLabel ? `${r.baselineLabel} (warm)` : undefined,
        baseline: r.warm.baseTurn,
        target: target(name) ? `< ${target(name)} ms` : undefined,
        meets: target(name) ? (v) => v.median < target(name) : undefined,
      }),
      ...(r.floorTurn
        ? [
            row({
              label: `${name}: turn, cell warm, against the floor`,
              value: r.warm.turn,
              baselineLabel: 'floor: bare relay + bare bwrap `bash -c`, same rounds',
              baseline: r.floorTurn,
              // The issue names bwrap and docker; the others are shown beside them.
              ...(name === 'bwrap' || name === 'docker'
                ? {
                    target: `≤ ${TARGETS.turnFloorRatio}× the floor`,
                    meets: (_v, ratio) => ratio !== null && ratio <= TARGETS.turnFloorRatio,
                  }
                : {}),
            }),
          ]
        : []),
      row({
        label: `${name}: turn, first message (cell cold)`,
        value: r.cold.turn,
        baselineLabel: r.baselineLabel ? `${r.baselineLabel} (cold)` : undefined,
        baseline: r.cold.baseTurn,
        target: target(name) ? `< ${target(name)} ms` : undefined,
        meets: target(name) ? (v) => v.median < target(name) : undefined,
      }),
    ]),
  };
}

export function memoryFigure(measured, bareNode, cells) {
  return {
    id: 5,
    title: `Memory: host RSS idle, with ${cells} warm cells, and per warm cell`,
    unit: 'MiB',
    target: `host idle RSS under ${TARGETS.idleRssMb} MB`,
    method: `VmRSS of the \`start\` process from /proc, after it settled (readings within 2%). Warm cells: ${cells} groups registered with \`groups add gN --chat web:gN --no-trigger\`, NANOCELL_MAX_LIVE_CELLS=${cells}, a long idle timeout, one message with a bash call to each. Per warm cell, divided by the live cells the host reports: the host's growth, and the cells' own memory: the host's child processes from /proc for bwrap (RSS summed as asked, and PSS, which does not count the shared node binary once per process); for containers \`<engine> stats\` and, apart, the engine's CLI client the host keeps per cell. The total adds the host's growth to the cell's PSS (and container memory). Baselines: an idle \`node\` process; the bare runtime holding an idle node. Floor (bwrap): bare bwrap holding a node that loaded fs/promises and readline and ran one child_process.spawnSync, the least a Node.js tool server costs.`,
    rows: [
      row({
        label: 'bare node, idle (for reference)',
        value: bareNode,
      }),
      ...byRuntime(measured, (name, r) => [
        row({
          label: `${name} host: RSS idle`,
          value: r.idle,
          baselineLabel: 'bare node, idle',
          baseline: bareNode,
          target: `< ${TARGETS.idleRssMb} MB (${(TARGETS.idleRssMb / MIB_PER_MB).toFixed(1)} MiB)`,
          meets: (v) => v.median * MIB_PER_MB < TARGETS.idleRssMb,
        }),
        row({
          label: `${name} host: RSS with ${r.live} warm cells`,
          value: r.warm,
          baselineLabel: `${name} host idle`,
          baseline: r.idle,
          note:
            r.live === cells
              ? undefined
              : `the host kept ${r.live} cells live, not ${cells}: it did not apply NANOCELL_MAX_LIVE_CELLS (see the report)`,
        }),
        row({
          label: `${name}: host growth per warm cell`,
          value: r.hostPerCell,
        }),
        ...r.cellRows.map((c) => row({ ...c, label: `${name}: ${c.label}` })),
        row({
          label: `${name}: total per warm cell (host growth + cell, PSS)`,
          value: r.totalPerCell,
          baselineLabel: r.totalBaselineLabel,
          baseline: r.totalBaseline,
        }),
      ]),
    ],
  };
}

export function routerFigure(result, ctx) {
  return {
    id: 6,
    title: `Router throughput across ${ctx.groups} groups, model not involved`,
    unit: 'messages/s',
    target: `over ${TARGETS.routedPerSecond.toLocaleString('en-US')} messages per second`,
    method: `In process: Store.open(file) (SQLite, WAL) with ${ctx.groups} groups bound to web chats, Router with a run that resolves at once and the host's queue limit (3 runs at a time), a synchronous pino file log at info as the host has. ${ctx.messages.toLocaleString('en-US')} messages per round in bursts of one per group, each burst in its own event-loop turn; the clock stops when every queued run has resolved. ${ctx.rounds} rounds, each on a fresh store. Baseline: the same messages through MessageStore.add alone.`,
    rows: result.error
      ? [errorRow('router', result.error)]
      : [
          row({
            label: 'Router.receive: stored and queued',
            value: result.routed,
            baselineLabel: 'MessageStore.add only',
            baseline: result.stored,
            target: `> ${TARGETS.routedPerSecond}/s`,
            meets: (v) => v.median > TARGETS.routedPerSecond,
          }),
        ],
  };
}

export function schedulerFigure(result, ctx) {
  const smallest = result.error ? undefined : result.ticks[0];
  return {
    id: 7,
    title: `Scheduler: one tick with ${ctx.due} tasks due`,
    unit: 'ms',
    target: `a tick independent of the number of tasks not due (reported as met when within ${TARGETS.tickRatio}× of the ${smallest?.size ?? 100}-task tick)`,
    method: `In process: TaskStore on a file store with N tasks, ${ctx.due} of them every minute and the rest yearly; Scheduler.tick() with a runTask that resolves at once and the scheduler's clock moved one minute before each tick, so the same ${ctx.due} are due each time. ${ctx.ticks} ticks per size after 5 untimed ones; sizes alternate tick by tick.`,
    rows: result.error
      ? [errorRow('scheduler', result.error)]
      : result.ticks.map((t) =>
          row({
            label: `tick, ${t.size.toLocaleString('en-US')} tasks (${ctx.due} due)`,
            value: t.tick,
            baselineLabel: `tick, ${smallest?.size.toLocaleString('en-US')} tasks`,
            baseline: smallest?.tick,
            target: `≤ ${TARGETS.tickRatio}× the ${smallest?.size}-task tick`,
            meets: (_v, ratio) => (ratio === null ? null : ratio <= TARGETS.tickRatio),
          }),
        ),
  };
}

export function freshCellFigure(measured, plan) {
  return {
    id: 8,
    title: 'Message → first tool result: a fresh cell per run (pre-warmed spare) vs a warm cell',
    unit: 'ms',
    target: `fresh cell within ${TARGETS.freshCellRatio}× of the warm cell (issue 9)`,
    method: `The real host (\`node dist/main.js start\`), two hosts side by side, their turns in the admin chat alternating ${plan.gapMs} ms apart (a user's pause; the spare starts in it), from sending the POST to the fake model receiving the request that carries the first tool result (\`bash\` \`echo hi\`). Fresh: the default, NANOCELL_CELL_REUSE=run: each run takes the spare started with the group's grant when the previous run ended, and its cell is stopped when it ends. Baseline: NANOCELL_CELL_REUSE=group, one warm cell reused by every run (the behaviour before fresh cells). An untimed first turn in each.`,
    rows: byRuntime(measured, (name, r) => [
      row({
        label: `${name}: fresh cell (spare)`,
        value: r.fresh,
        baselineLabel: 'warm cell reused (NANOCELL_CELL_REUSE=group)',
        baseline: r.warm,
        target: `≤ ${TARGETS.freshCellRatio}× warm`,
        meets: (_v, ratio) => (ratio === null ? null : ratio <= TARGETS.freshCellRatio),
      }),
    ]),
  };
}

const MIN_CACHE_TOKENS_NOTE = '1,024';

/** Input tokens billed at Sonnet's cache prices, as multiples of the input price. */
const CACHE_WRITE_FACTOR = 1.25;
const CACHE_READ_FACTOR = 0.1;

export function promptCacheFigure(result, plan) {
  const method = `In process: the compiled AnthropicProvider and agent loop, ${plan.turns} owner turns in the admin group (about 40 words each; about 60-word answers; the time in each turn's context a minute apart) with the host's real system prompt (a 120-word memory) and every cell and host tool definition, against a fake Messages API that counts usage with test/support/prompt-cache.mjs: a request reads from the cache the longest prefix an earlier one marked, writes what is new up to its last cache_control, and pays the rest as input; prefixes under ${MIN_CACHE_TOKENS_NOTE} tokens are not cached, as for Sonnet. Tokens are estimated as JSON length / 4, so they are the fake's, not a tokenizer's. Caching on: the default; off: NANOCELL_PROMPT_CACHE=off. Billed input counts a cache write as ${CACHE_WRITE_FACTOR}× and a read as ${CACHE_READ_FACTOR}× an input token (Anthropic's prices).`;
  if (result.error) {
    return {
      id: 10,
      title: 'Prompt caching',
      unit: 'tokens',
      target: '-',
      method,
      rows: [errorRow('prompt cache', result.error)],
    };
  }
  const billed = (u) =>
    u.inputTokens + CACHE_WRITE_FACTOR * u.cacheWriteTokens + CACHE_READ_FACTOR * u.cacheReadTokens;
  const full = (u) => u.inputTokens + u.cacheWriteTokens;
  const sum = (list, f) => list.reduce((n, u) => n + f(u), 0);
  const on = result.on;
  const off = result.off;
  const saving = 1 - sum(on, billed) / sum(off, billed);
  const prompt = (u) => u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens;
  return {
    id: 10,
    title: `Prompt caching: input tokens billed per turn over a ${plan.turns}-turn conversation`,
    unit: 'tokens',
    target: 'fewer input tokens billed with caching than without (issue 12)',
    method,
    rows: [
      row({
        label: 'billed input per turn, caching on (input + 1.25×write + 0.1×read)',
        value: summarize(on.map(billed)),
        baselineLabel: 'caching off (NANOCELL_PROMPT_CACHE=off)',
        baseline: summarize(off.map(billed)),
        target: '< caching off',
        meets: (_v, r) => (r === null ? null : r < 1),
        note: `whole conversation: ${Math.round(sum(on, billed)).toLocaleString('en-US')} billed with caching, ${Math.round(sum(off, billed)).toLocaleString('en-US')} without: ${(saving * 100).toFixed(1)}% saved; the prompt is the same size both ways (${sum(on, prompt).toLocaleString('en-US')} vs ${sum(off, prompt).toLocaleString('en-US')} tokens)`,
      }),
      row({
        label: 'input at full price per turn, caching on (input + cache write)',
        value: summarize(on.map(full)),
        baselineLabel: 'caching off',
        baseline: summarize(off.map(full)),
      }),
      row({
        label: 'cache read per turn, caching on',
        value: summarize(on.map((u) => u.cacheReadTokens)),
        note: `turn 1 reads ${on[0].cacheReadTokens} and writes ${on[0].cacheWriteTokens}; turn ${plan.turns} reads ${on.at(-1).cacheReadTokens} and writes ${on.at(-1).cacheWriteTokens}`,
      }),
    ],
  };
}

export function imageSizeFigure(measured) {
  return {
    id: 11,
    title: 'Cell image size',
    unit: 'MiB',
    target:
      'small: python3, jq, git, curl, sqlite3, rg and the usual shell tools beside node, no package manager',
    method:
      "`du -sk build/cell-rootfs` (hard links counted once); `<engine> image inspect --format {{.Size}}` of this checkout's image; a group's layer as what `du` adds for its rootfs after the base (its files are hard links to the base's but for the layer). Baseline: the node binary the cell carries for its tool server.",
    rows: measured.error
      ? [errorRow('cell image', measured.error)]
      : measured.rows.map((r) =>
          row({
            label: r.label,
            value: r.value,
            baselineLabel: r.baseline ? 'node binary' : undefined,
            baseline: r.baseline,
          }),
        ),
  };
}

export function askColdFigure(measured) {
  return {
    id: 12,
    title: '`nanocell ask` cold process → first model request',
    unit: 'ms',
    target: `≤ ${TARGETS.askColdMs} ms to the first model request`,
    method:
      'A new `node dist/bundle/main.js ask hi` process (what `./nanocell ask` runs: the CLI bundled by scripts/bundle-cli.mjs) against the fake Messages API, from spawn to the fake receiving the request; beside it the tsc build (`node dist/main.js`, every module loaded one by one) and a bare `node -e 0` from spawn to exit (the floor of any Node.js command), interleaved. An untimed first run of each.',
    rows: measured.error
      ? [errorRow('ask', measured.error)]
      : [
          row({
            label: 'ask (bundle) → first model request',
            value: measured.bundle,
            baselineLabel: 'node -e 0',
            baseline: measured.bareNode,
            target: `≤ ${TARGETS.askColdMs} ms`,
            meets: (v) => (v ? v.median <= TARGETS.askColdMs : null),
          }),
          row({
            label: 'ask (modules one by one) → first model request',
            value: measured.modules,
            baselineLabel: 'node -e 0',
            baseline: measured.bareNode,
          }),
        ],
  };
}

export function contentionFigure(measured) {
  return {
    id: 14,
    title: 'A warm call while another cell burns CPU',
    unit: 'ms',
    target:
      'the quiet cell and the host keep their pace (cells limited to 1 CPU each, in the install’s cgroup parent)',
    method:
      'In this process (it holds the cells, as the host does): two cells of one install with the benchmark grant (1 CPU each). `echo hi` in the quiet cell, one call every 20 ms, with the other cell idle (baseline), then while the other cell runs four busy loops for up to 120 s. Event-loop delay: perf_hooks monitorEventLoopDelay p99 over each series.',
    rows: byRuntime(measured, (name, r) => [
      row({
        label: `${name}: warm echo hi while another cell burns CPU`,
        value: r.loaded.call,
        baselineLabel: 'the other cell idle',
        baseline: r.idle.call,
      }),
      row({
        label: `${name}: host event-loop delay p99 while it burns`,
        value: r.loaded.loopP99,
        baselineLabel: 'the other cell idle',
        baseline: r.idle.loopP99,
      }),
    ]),
  };
}
