import { isRemoteServer, MCP_FILE, readMcpConfig } from './mcp-config.js';

/** `doctor`'s line for mcp.json: how many servers, or each problem with its line and key. */
export function mcpDoctorLine(configDir: string): [boolean, string, string] {
  const cfg = readMcpConfig(configDir);
  if (!cfg.ok) return [false, MCP_FILE, cfg.errors.join('; ')];
  if (!cfg.exists) return [true, MCP_FILE, `no MCP servers (${cfg.file} lists them)`];
  const n = cfg.servers.length;
  const names = cfg.servers
    .map((s) => `${s.name}${isRemoteServer(s) ? ` at ${s.url}` : ''} (${s.groups.join(', ')})`)
    .join(', ');
  return [true, MCP_FILE, `${n} server${n === 1 ? '' : 's'}${n > 0 ? `: ${names}` : ''}`];
}
