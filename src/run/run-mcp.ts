import { RuntimeUnavailableError, type CellSpec } from '../cells/cell-runtime.js';
import { isRemoteServer } from '../mcp/mcp-config.js';
import type { McpTools } from '../mcp/mcp-tools.js';
import type { EgressRun, GroupRunDeps, RunContext } from './run.js';

/**
 * The run's MCP tools: when mcp.json lists servers for the group, its cell is started now
 * (not while the first model request is in flight) and the stdio servers in it, and the remote
 * ones are connected to through the run's egress, so their tools are in that request. A cell
 * that cannot start leaves the run without its servers; their tool calls say why.
 */
export async function openRunMcp(
  deps: GroupRunDeps,
  ctx: RunContext,
  spec: CellSpec,
  egress: EgressRun | undefined,
): Promise<McpTools | undefined> {
  const runner = deps.mcp;
  let servers = runner?.serversFor(ctx.group.name) ?? [];
  if (!runner || servers.length === 0) return undefined;
  let cell;
  if (servers.some((s) => !isRemoteServer(s))) {
    try {
      cell = await deps.pool.get(spec);
    } catch (err) {
      if (!(err instanceof RuntimeUnavailableError)) {
        deps.log.error({ group: ctx.group.name, err }, 'cell start failed');
      }
      deps.log.warn({ group: ctx.group.name }, 'mcp servers not started: the cell did not start');
      servers = servers.filter(isRemoteServer);
    }
  }
  return runner.open(
    cell,
    ctx.group.name,
    servers,
    (server) => deps.store.provenance.taint(ctx.group.id, { kind: 'mcp', detail: server }),
    // Without a proxy the group has no egress: a remote server is reported, never reached.
    (scope) => egress?.pass(scope) ?? '',
  );
}
