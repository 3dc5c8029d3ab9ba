import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Cell, CellSpec } from '../../src/cells/cell-runtime.js';
import { loadConfig } from '../../src/config.js';
import type { ToolResponse } from '../../src/cells/tool-protocol.js';
import { tempHome } from '../support/temp-home.js';

export const CELL_LIMITS = {
  memoryMb: 512,
  pids: 128,
  cpus: 1,
  callTimeoutMs: 10_000,
  maxOutputBytes: 20_000,
};

/**
 * What a contract suite's cell is given and what it must not reach: a temp HOME (standing in
 * for the owner's home) holding the group's folder, another group's folder with a secret, a
 * read-only docs folder, and the owner's mount allowlist at ~/.config/nanocell; plus a TCP
 * port listening on the host's loopback.
 */
export interface CellFixture {
  home: string;
  groupDir: string;
  readOnlyDir: string;
  otherGroupDir: string;
  allowlistFile: string;
  hostPort: number;
  hostConnections(): number;
  spec(): CellSpec;
  close(): Promise<void>;
}

export async function cellFixture(): Promise<CellFixture> {
  const config = loadConfig({});
  const home = tempHome();
  const groupDir = path.join(home.dir, 'groups', 'contract');
  const readOnlyDir = path.join(home.dir, 'docs');
  const otherGroupDir = path.join(home.dir, 'groups', 'other');
  const configDir = path.join(home.dir, '.config', 'nanocell');
  for (const d of [groupDir, readOnlyDir, otherGroupDir, configDir]) {
    fs.mkdirSync(d, { recursive: true });
  }
  fs.writeFileSync(path.join(readOnlyDir, 'manual.txt'), 'read me\n');
  fs.writeFileSync(path.join(otherGroupDir, 'secret.txt'), 'other group secret\n');
  const allowlistFile = path.join(configDir, 'mount-allowlist.json');
  fs.writeFileSync(
    allowlistFile,
    JSON.stringify({ allowedRoots: [{ path: '~/allowlist-marker-root' }] }, null, 2),
  );
  let connections = 0;
  const server = net.createServer((s) => {
    connections++;
    s.end('hello from the host\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const hostPort = (server.address() as net.AddressInfo).port;
  return {
    home: home.dir,
    groupDir,
    readOnlyDir,
    otherGroupDir,
    allowlistFile,
    hostPort,
    hostConnections: () => connections,
    spec: () => ({
      groupName: 'contract',
      mounts: [
        { hostPath: groupDir, cellPath: '/workspace/group', readOnly: false },
        { hostPath: readOnlyDir, cellPath: '/workspace/extra/docs', readOnly: true },
      ],
      env: { PATH: '/usr/bin:/bin', HOME: '/home/cell', LANG: 'C.UTF-8', ALLOWED_VAR: 'yes' },
      workdir: '/workspace/group',
      toolServerPath: config.toolServerPath,
      limits: { ...CELL_LIMITS },
      network: { mode: 'none' },
    }),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      home.cleanup();
    },
  };
}

export function bashIn(
  cell: () => Cell,
): (command: string, timeoutMs?: number, maxOutputBytes?: number) => Promise<ToolResponse> {
  return (command, timeoutMs = 10_000, maxOutputBytes = 20_000) =>
    cell().call({ tool: 'bash', input: { command }, timeoutMs, maxOutputBytes });
}
