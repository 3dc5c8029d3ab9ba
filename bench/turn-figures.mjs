import process from 'node:process';
import { setTimeout } from 'node:timers';
import { bareEngine, removeBareContainer, startBareContainer } from './bare.mjs';
import { bareSandbox } from './cell-figures.mjs';
import { hostEnv, startHost, startRelay } from './host-process.mjs';
import { summarize } from './stats.mjs';
import { hostDirs } from './temp-dir.mjs';
import { WebClient, timeTurn } from './web-client.mjs';

/** Poll `check` until it returns true; the host publishes its live cells in /api/status. */
async function waitUntil(check, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** How the relay runs the tool for a warm and for a cold turn, beside this runtime. */
async function relayTools(runtime, ctx) {
  const { config, spec, cleanup } = ctx;
  if (runtime.name === 'bwrap') {
    // A bare bwrap is made fresh for every command: its warm and cold turns are the same.
    const tool = { kind: 'bwrap', sandbox: bareSandbox(config, spec) };
    return { warm: tool, cold: tool, label: 'bare relay + bare bwrap' };
  }
  const bare = bareEngine(runtime.name);
  if (!bare) return undefined;
  const name = `nanocell-bench-${process.pid}-relay-${runtime.name}`;
  const started = await startBareContainer(bare, config.cellImage, name, ['sleep', 'infinity']);
  if (started.code !== 0) throw new Error(`cannot start the relay's container: ${started.stderr}`);
  cleanup.add(`container ${name}`, async () => {
    await removeBareContainer(bare, name);
  });
  return {
    warm: { kind: 'argv', argv: [bare.engine, 'exec', name] },
    cold: {
      kind: 'argv',
      argv: [bare.engine, 'run', '--rm', ...bare.runFlags, '--network', 'none', config.cellImage],
    },
    label: `bare relay + ${bare.engine} exec / run --rm`,
  };
}

/**
 * Figures 3 and 4 for one runtime: the real host (`node dist/main.js start`) against the fake
 * model, turns through the web API, beside the bare relay doing the same work. Warm turns go
 * to the admin chat back to back (its cell stays warm); cold turns wait until the host reports
 * no live cell (the idle timeout, `idleMs`, destroyed it), so the turn starts one.
 */
export async function hostTurns(runtime, ctx) {
  const { model, cleanup, progress, warmTurns, coldTurns, idleMs } = ctx;
  const { home, configDir } = hostDirs(`turns-${runtime.name}`, cleanup);
  const env = hostEnv({
    home,
    configDir,
    modelUrl: model.url,
    runtime: runtime.name,
    // One cell reused across turns, as figures 3 and 4 always measured; figure 8 compares it
    // with the default, a fresh cell per run.
    extra: { NANOCELL_CELL_IDLE_MS: String(idleMs), NANOCELL_CELL_REUSE: 'group' },
  });
  const tools = await relayTools(runtime, ctx);
  const relay = tools
    ? await startRelay(
        { modelUrl: model.url, tools: { warm: tools.warm, cold: tools.cold } },
        cleanup,
      )
    : undefined;
  // Issue 17's floor of a turn, the relay with a bare bwrap `bash -c`, in the same rounds as
  // every runtime's turns (bwrap's own baseline already is it): a floor from another phase of
  // the run would carry that phase's load.
  const floorRelay =
    runtime.name !== 'bwrap' && ctx.bwrapAvailable
      ? await startRelay(
          {
            modelUrl: model.url,
            tools: (() => {
              const tool = { kind: 'bwrap', sandbox: bareSandbox(ctx.config, ctx.spec) };
              return { warm: tool, cold: tool };
            })(),
          },
          cleanup,
        )
      : undefined;
  const host = await startHost(env, cleanup);
  const client = new WebClient(host.url, host.token);
  const relayClient = relay ? new WebClient(relay.url, 'none') : undefined;
  const floorClient = floorRelay ? new WebClient(floorRelay.url, 'none') : undefined;
  try {
    await client.connect();
    await relayClient?.connect();
    await floorClient?.connect();
    const floor = { toModel: [], turn: [] };
    if (floorClient) await timeTurn(floorClient, model, 'warm');
    const warm = { toModel: [], turn: [], baseToModel: [], baseTurn: [] };
    const cold = { toModel: [], turn: [], baseToModel: [], baseTurn: [] };
    // Untimed first turns: the host's first message also pays for loading its code paths.
    await timeTurn(client, model, 'owner');
    if (relayClient) {
      await timeTurn(relayClient, model, 'warm');
      await timeTurn(relayClient, model, 'cold');
    }
    for (let i = 0; i < warmTurns; i++) {
      progress(`fig 3/4 ${runtime.name} warm ${i + 1}/${warmTurns}`);
      const t = await timeTurn(client, model, 'owner');
      warm.toModel.push(t.toModelMs);
      warm.turn.push(t.turnMs);
      if (relayClient) {
        const b = await timeTurn(relayClient, model, 'warm');
        warm.baseToModel.push(b.toModelMs);
        warm.baseTurn.push(b.turnMs);
      }
      if (floorClient) {
        const f = await timeTurn(floorClient, model, 'warm');
        floor.toModel.push(f.toModelMs);
        floor.turn.push(f.turnMs);
      }
    }
    for (let i = 0; i < coldTurns; i++) {
      progress(
        `fig 4 ${runtime.name} cold ${i + 1}/${coldTurns} (waiting for the idle cell to go)`,
      );
      await waitUntil(
        async () => (await client.status()).liveCells === 0,
        'the host to destroy its idle cell',
        idleMs + 60_000,
      );
      const t = await timeTurn(client, model, 'owner');
      cold.toModel.push(t.toModelMs);
      cold.turn.push(t.turnMs);
      if (relayClient) {
        const b = await timeTurn(relayClient, model, 'cold');
        cold.baseToModel.push(b.toModelMs);
        cold.baseTurn.push(b.turnMs);
      }
    }
    const s = (xs) => (xs.length ? summarize(xs) : undefined);
    // bwrap's baseline is the floor itself.
    const floorTurn = floorClient
      ? s(floor.turn)
      : runtime.name === 'bwrap'
        ? s(warm.baseTurn)
        : undefined;
    return {
      baselineLabel: tools?.label,
      floorTurn,
      warm: {
        toModel: s(warm.toModel),
        turn: s(warm.turn),
        baseToModel: s(warm.baseToModel),
        baseTurn: s(warm.baseTurn),
      },
      cold: {
        toModel: s(cold.toModel),
        turn: s(cold.turn),
        baseToModel: s(cold.baseToModel),
        baseTurn: s(cold.baseTurn),
      },
    };
  } finally {
    client.close();
    relayClient?.close();
    floorClient?.close();
    await host.stop();
    await relay?.stop();
    await floorRelay?.stop();
  }
}
