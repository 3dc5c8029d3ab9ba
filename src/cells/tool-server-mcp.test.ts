import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_MCP_SERVER as FIXTURE, HostToolServer } from '../../test/support/host-tool-server.js';
import type { StdioCell } from './stdio-cell.js';

/**
 * MCP servers run by the tool server (here a plain child process, no sandbox), seen through the
 * host's own StdioCell, so the frame bounds the host applies are the real ones.
 */
let host: HostToolServer;
let dir: string;

beforeAll(() => {
  host = HostToolServer.create();
  dir = host.dir;
});
afterEach(() => host.stopCells());
afterAll(() => host.remove());

const startCell = () => host.cell();

async function startServer(cell: StdioCell, mode: string) {
  return cell.call({
    tool: 'mcp_start',
    input: {
      name: 'fake',
      command: process.execPath,
      args: [FIXTURE, mode],
      env: { FAKE_MCP_VAR: 'given' },
    },
  });
}

const callEcho = (cell: StdioCell, timeoutMs = 10_000) =>
  cell.call({
    tool: 'mcp_send',
    input: {
      name: 'fake',
      message: {
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'hi' } },
      },
    },
    timeoutMs,
  });

async function expectCellStillWorks(cell: StdioCell) {
  const res = await cell.call({ tool: 'bash', input: { command: 'echo still-here' } });
  expect(res).toMatchObject({ ok: true });
  expect(res.output).toContain('still-here');
  expect(cell.alive).toBe(true);
}

describe('MCP servers in the tool server', () => {
  it('answers a JSON-RPC request with the server response, with the listed env set', async () => {
    const cell = await startCell();
    expect(await startServer(cell, 'ok')).toMatchObject({ ok: true });
    const echoed = await callEcho(cell);
    expect(echoed.ok).toBe(true);
    expect(JSON.parse(echoed.output)).toMatchObject({
      id: 7,
      result: { content: [{ type: 'text', text: 'echo: hi' }] },
    });
    const where = await cell.call({
      tool: 'mcp_send',
      input: {
        name: 'fake',
        message: { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'where' } },
      },
    });
    expect(where.output).toContain(`cwd=${fs.realpathSync(dir)}`);
    expect(where.output).toContain('var=given');
  });

  it('reports a crash with its exit code and error output, and the cell goes on', async () => {
    const cell = await startCell();
    await startServer(cell, 'crash');
    const res = await callEcho(cell);
    expect(res.ok).toBe(false);
    expect(res.output).toContain('exited with code 3');
    expect(res.output).toContain('crashing as asked');
    const again = await callEcho(cell);
    expect(again.output).toMatch(/is not running: it exited with code 3/);
    await expectCellStillWorks(cell);
  });

  it('stops a server that does not answer within the call timeout', async () => {
    const cell = await startCell();
    await startServer(cell, 'hang');
    const res = await callEcho(cell, 300);
    expect(res.ok).toBe(false);
    expect(res.output).toContain('did not answer tools/call within 300 ms');
    await expectCellStillWorks(cell);
  });

  it('stops a server that floods one endless line, before the host bound is reached', async () => {
    const cell = await startCell();
    await startServer(cell, 'flood');
    const res = await callEcho(cell);
    expect(res.ok).toBe(false);
    expect(res.output).toContain('a message longer than 524288 bytes');
    await expectCellStillWorks(cell);
  });

  it('refuses an answer that would encode past the host frame bound, and the cell goes on', async () => {
    const cell = await startCell();
    await startServer(cell, 'wide');
    const res = await callEcho(cell);
    expect(res.ok).toBe(false);
    expect(res.output).toContain('answered with a message too large to pass on');
    await expectCellStillWorks(cell);
    // Not a reason to stop it: the next call reaches the server again.
    expect((await callEcho(cell)).output).toContain('too large');
  });

  it('stops a server that floods messages nobody asked for', async () => {
    const cell = await startCell();
    await startServer(cell, 'chatty');
    const res = await callEcho(cell);
    expect(res.ok).toBe(false);
    expect(res.output).toContain('messages nobody asked for');
    await expectCellStillWorks(cell);
  });

  it('refuses calls after a stop and for a server never started', async () => {
    const cell = await startCell();
    await startServer(cell, 'ok');
    expect(await cell.call({ tool: 'mcp_stop', input: { name: 'fake' } })).toMatchObject({
      ok: true,
    });
    expect((await callEcho(cell)).output).toContain('is not running: stopped by the host');
    const never = await cell.call({
      tool: 'mcp_send',
      input: { name: 'other', message: { jsonrpc: '2.0', id: 1, method: 'ping' } },
    });
    expect(never).toMatchObject({ ok: false });
    expect(never.output).toContain('no MCP server other was started');
  });

  it('reports a command that cannot be started', async () => {
    const cell = await startCell();
    const res = await cell.call({
      tool: 'mcp_start',
      input: { name: 'fake', command: '/no/such/binary', args: [] },
    });
    expect(res.ok).toBe(false);
    expect(res.output).toContain('cannot start MCP server fake');
    await expectCellStillWorks(cell);
  });
});
