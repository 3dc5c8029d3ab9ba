import type { ToolExecutor } from '../agent/agent-loop.js';
import { RuntimeUnavailableError, type CellSpec } from '../cells/cell-runtime.js';
import type { McpTools } from '../mcp/mcp-tools.js';
import { isCellTool, validateCellToolInput } from '../tools/cell-tools.js';
import type { GroupRunDeps, RunContext } from './run.js';
import { effectKey } from '../store/turn-journal.js';

/**
 * A tool call the gate allowed: a host tool runs on the host, a cell tool or an MCP tool (on a
 * server in the run's cell) in the group's cell.
 */
export function toolCall(
  deps: GroupRunDeps,
  ctx: RunContext,
  spec: CellSpec,
  mcp?: McpTools,
): ToolExecutor {
  return async (name, input, signal, callId) => {
    // A host tool's effect happens once per call, even when a resumed turn asks again.
    const key =
      callId !== undefined && ctx.turnKey !== undefined
        ? effectKey(ctx.group.id, ctx.turnKey, callId)
        : undefined;
    const done = key ? deps.store.turns.effect(key) : undefined;
    if (done) return done;
    const host = deps.hostTools?.execute(ctx, name, input);
    if (host) {
      const outcome = await host;
      if (key) deps.store.turns.recordEffect(key, outcome, new Date());
      return outcome;
    }
    const viaMcp = mcp?.execute(name, input, signal);
    if (viaMcp) {
      const startedAt = Date.now();
      const outcome = await viaMcp;
      deps.pool.touch(spec.groupName);
      deps.log.info(
        {
          group: spec.groupName,
          tool: name,
          ok: !outcome.isError,
          durationMs: Date.now() - startedAt,
        },
        'tool call',
      );
      return outcome;
    }
    if (!isCellTool(name)) return { output: `unknown tool: ${name}`, isError: true };
    const valid = validateCellToolInput(name, input);
    if (!valid.ok) return { output: valid.error, isError: true };
    let cell;
    try {
      cell = await untilAborted(deps.pool.get(spec), signal);
      if (cell === ABORTED) return stopped;
    } catch (err) {
      // A cell that cannot start fails this call, not the run: the model hears why.
      const why =
        err instanceof RuntimeUnavailableError
          ? err.message
          : `cell start failed: ${(err as Error).message}`;
      if (!(err instanceof RuntimeUnavailableError)) {
        deps.log.error({ group: spec.groupName, err }, 'cell start failed');
      }
      return { output: `the sandbox is unavailable: ${why}`, isError: true };
    }
    const startedAt = Date.now();
    const res = await untilAborted(cell.call({ tool: name, input: valid.input }), signal);
    if (res === ABORTED) {
      // The command may still be running in the cell: the cell goes with the run.
      await deps.pool.stop(spec.groupName);
      return stopped;
    }
    deps.pool.touch(spec.groupName);
    deps.log.info(
      { group: spec.groupName, tool: name, ok: res.ok, durationMs: Date.now() - startedAt },
      'tool call',
    );
    return { output: res.output, isError: !res.ok };
  };
}

const ABORTED = Symbol('aborted');
const stopped = { output: 'the tool call was stopped: the run ended', isError: true };

/** `work`'s result, or ABORTED as soon as `signal` fires (the work itself goes on). */
function untilAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T | typeof ABORTED> {
  if (!signal) return work;
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
