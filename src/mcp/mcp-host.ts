import type { Logger } from 'pino';
import type { Cell } from '../cells/cell-runtime.js';
import type { EgressRoute } from '../egress/egress-manager.js';
import type { EgressPassScope } from '../egress/egress-run.js';
import { readMcpConfig, serversForGroup, type McpServerConfig } from './mcp-config.js';
import type { McpTools } from './mcp-tools.js';

/** Problems already told to the owner; past this many the oldest are forgotten. */
const MAX_TOLD = 500;

/** What a run needs of MCP (src/run/agent-turn.ts). */
export interface McpRunner {
  /** The servers that run in this group's cell: mcp.json as it is now. */
  serversFor(groupName: string): McpServerConfig[];
  /**
   * Start the stdio ones in `cell` (none without one), connect to the remote ones through the
   * group's egress proxy with the run's passes, and offer their tools; never rejects.
   */
  open(
    cell: Cell | undefined,
    groupName: string,
    servers: readonly McpServerConfig[],
    taint: (server: string) => void,
    pass: (scope: EgressPassScope) => string,
  ): Promise<McpTools>;
}

/**
 * The host's side of the owner's MCP servers. mcp.json is read for each run, so an edit takes
 * effect with the next message; a problem (a broken file, a server that does not start or
 * stops) is told to the owner once, not on every run.
 */
export class McpHost implements McpRunner {
  private readonly told = new Set<string>();

  constructor(
    private readonly o: {
      configDir: string;
      log: Logger;
      notifyOwner?: ((text: string) => void) | undefined;
      connectTimeoutMs?: number;
      /** The group's live egress proxy (EgressManager.route), for remote servers. */
      egressFor?: (groupName: string) => EgressRoute | undefined;
    },
  ) {}

  serversFor(groupName: string): McpServerConfig[] {
    const cfg = readMcpConfig(this.o.configDir);
    if (!cfg.ok) {
      this.o.log.warn({ errors: cfg.errors }, 'mcp.json has errors; no MCP server runs');
      this.tell(
        `mcp.json has errors, so no MCP server runs until it is fixed (\`nanocell doctor\` shows them): ${cfg.errors.join('; ')}`,
      );
      return [];
    }
    return serversForGroup(cfg.servers, groupName);
  }

  async open(
    cell: Cell | undefined,
    groupName: string,
    servers: readonly McpServerConfig[],
    taint: (server: string) => void,
    pass: (scope: EgressPassScope) => string,
  ): Promise<McpTools> {
    // The SDK (with zod 3 and ajv) is loaded only once a group has a server: about 15 MiB of
    // an idle host that runs none.
    const { openMcpTools } = await import('./mcp-tools.js');
    return openMcpTools({
      cell,
      servers,
      remote: { groupName, route: this.o.egressFor?.(groupName), pass },
      log: this.o.log.child({ group: groupName }),
      report: (_server, text) => this.tell(`[${groupName}] ${text}`),
      taint,
      ...(this.o.connectTimeoutMs !== undefined
        ? { connectTimeoutMs: this.o.connectTimeoutMs }
        : {}),
    });
  }

  private tell(text: string): void {
    if (this.told.has(text)) return;
    if (this.told.size >= MAX_TOLD) this.told.clear();
    this.told.add(text);
    this.o.notifyOwner?.(text);
  }
}
