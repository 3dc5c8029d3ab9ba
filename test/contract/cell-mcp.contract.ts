import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cell, CellRuntime } from '../../src/cells/cell-runtime.js';
import { GROUP_MOUNT_PATH } from '../../src/tools/cell-tools.js';
import { FAKE_MCP_SERVER } from '../support/host-tool-server.js';
import { cellFixture, type CellFixture } from './cell-fixture.js';

/**
 * stdio MCP servers in a real cell (tool-server.ts, McpServers): they live beside the calls
 * (the sweep of strays spares their process group), reach no network, and one that hangs or
 * floods is stopped while the cell goes on.
 */
export function cellMcpContract(name: string, makeRuntime: () => CellRuntime): void {
  describe(`CellRuntime MCP contract: ${name}`, () => {
    let fx: CellFixture;
    let cell: Cell;

    beforeAll(async () => {
      fx = await cellFixture();
      fs.copyFileSync(FAKE_MCP_SERVER, path.join(fx.groupDir, 'fake-mcp-server.mjs'));
      fs.chmodSync(path.join(fx.groupDir, 'fake-mcp-server.mjs'), 0o644);
      cell = await makeRuntime().start(fx.spec());
    });
    afterAll(async () => {
      await cell?.stop();
      await fx?.close();
    });

    const start = (server: string, mode: string) =>
      cell.call({
        tool: 'mcp_start',
        input: {
          name: server,
          command: '/usr/bin/node',
          args: [`${GROUP_MOUNT_PATH}/fake-mcp-server.mjs`, mode],
        },
      });
    let nextId = 1;
    const callTool = (server: string, tool: string, args = {}, timeoutMs = 10_000) =>
      cell.call({
        tool: 'mcp_send',
        input: {
          name: server,
          message: {
            jsonrpc: '2.0',
            id: nextId++,
            method: 'tools/call',
            params: { name: tool, arguments: args },
          },
        },
        timeoutMs,
      });
    const bash = (command: string) => cell.call({ tool: 'bash', input: { command } });

    it('keeps a server and its children alive across calls, and sweeps what a call left', async () => {
      expect(await start('fake', 'ok')).toMatchObject({ ok: true });
      expect((await callTool('fake', 'child')).output).toContain('child=alive');
      const left = await bash('nohup sleep 301 >/dev/null 2>&1 & echo started');
      expect(left.output).toContain('started');
      expect((await callTool('fake', 'child')).output).toContain('child=alive');
      // The bracket keeps grep from matching its own command line.
      const seen = await bash(
        'cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" " " | grep -o "[s]leep 30[01]" | sort | tr "\\n" ,',
      );
      expect(seen.output).toBe('sleep 300,');
      expect((await callTool('fake', 'where')).output).toContain(
        `cwd=${GROUP_MOUNT_PATH} in-cell=true`,
      );
    });

    it('gives a server no network', async () => {
      await start('fake', 'ok');
      const res = await callTool('fake', 'connect', { port: fx.hostPort });
      expect(res.output).toContain('BLOCKED');
      expect(fx.hostConnections()).toBe(0);
    });

    it('stops a hung server and a flooding one; the cell answers after', async () => {
      await start('stuck', 'hang');
      await start('flood', 'flood');
      const [hung, flooded] = await Promise.all([
        callTool('stuck', 'echo', { text: 'x' }, 1000),
        callTool('flood', 'echo', { text: 'x' }),
      ]);
      expect(hung.output).toContain('did not answer tools/call within 1000 ms');
      expect(flooded.output).toContain('a message longer than 524288 bytes');
      expect(cell.alive).toBe(true);
      expect(await bash('echo still-here')).toMatchObject({ ok: true, output: 'still-here\n' });
    });
  });
}
