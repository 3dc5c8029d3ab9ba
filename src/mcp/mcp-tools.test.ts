import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_MCP_SERVER, HostToolServer } from '../../test/support/host-tool-server.js';
import type { Cell } from '../cells/cell-runtime.js';
import { answerTo } from './cell-transport.js';
import type { McpServerConfig } from './mcp-config.js';
import { openMcpTools, type McpTools } from './mcp-tools.js';

/** The host's MCP client against the fixture server, run by a real tool server on the host. */
let host: HostToolServer;
const opened: McpTools[] = [];

beforeAll(() => {
  host = HostToolServer.create();
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((t) => t.close()));
  await host.stopCells();
});
afterAll(() => host.remove());

const server = (name: string, mode: string, callTimeoutMs = 10_000): McpServerConfig => ({
  name,
  command: process.execPath,
  args: [FAKE_MCP_SERVER, mode],
  env: {},
  groups: ['main'],
  callTimeoutMs,
});

async function open(cell: Cell, servers: McpServerConfig[]) {
  const reports: string[] = [];
  const tainted: string[] = [];
  const tools = await openMcpTools({
    cell,
    servers,
    log: pino({ level: 'silent' }),
    report: (_server, text) => reports.push(text),
    taint: (s) => tainted.push(s),
    connectTimeoutMs: 5000,
  });
  opened.push(tools);
  return { tools, reports, tainted };
}

describe('MCP tools of a run', () => {
  it('offers the tools of each server and calls them, labelling results untrusted', async () => {
    const cell = await host.cell();
    const { tools, reports, tainted } = await open(cell, [server('fake', 'ok')]);
    expect(reports).toEqual([]);
    expect(tools.definitions.map((d) => d.name).sort()).toEqual([
      'fake__child',
      'fake__connect',
      'fake__echo',
      'fake__where',
    ]);
    expect(tools.execute('bash', {})).toBeUndefined();
    expect(await tools.execute('fake__echo', { text: 'hi' })).toEqual({
      output: 'echo: hi',
      isError: false,
    });
    expect(tainted).toEqual(['fake']);
  });

  it('drops the tools that lie about their schema and tells the owner which and why', async () => {
    const cell = await host.cell();
    const { tools, reports } = await open(cell, [server('odd', 'bad-schema')]);
    expect(tools.definitions.map((d) => d.name)).toEqual(['odd__echo']);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain('MCP server odd: not offered to the model');
    expect(reports[0]).toContain('tool "stringy": its inputSchema does not describe an object');
    expect(reports[0]).toContain('tool "bad name!": its name must be');
  });

  it('answers a hung server with an error, tells the owner once, and keeps the others', async () => {
    const cell = await host.cell();
    const { tools, reports } = await open(cell, [
      server('stuck', 'hang', 1000),
      server('fake', 'ok'),
    ]);
    const first = await tools.execute('stuck__echo', { text: 'x' });
    expect(first).toMatchObject({ isError: true });
    expect(first!.output).toContain('did not answer tools/call within 1000 ms');
    const second = await tools.execute('stuck__echo', { text: 'x' });
    expect(second!.output).toContain('is not running');
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/^MCP server stuck stopped during a run: .*within 1000 ms/);
    expect(await tools.execute('fake__echo', { text: 'ok' })).toEqual({
      output: 'echo: ok',
      isError: false,
    });
    expect(cell.alive).toBe(true);
  });

  it('reports a server that cannot start and offers none of its tools', async () => {
    const cell = await host.cell();
    const { tools, reports } = await open(cell, [
      { ...server('gone', 'ok'), command: '/no/such/program' },
    ]);
    expect(tools.definitions).toEqual([]);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/^MCP server gone did not start in the cell: cannot start/);
  });

  it('refuses an input too large to send', async () => {
    const cell = await host.cell();
    const { tools } = await open(cell, [server('fake', 'ok')]);
    const res = await tools.execute('fake__echo', { text: 'x'.repeat(300 * 1024) });
    expect(res).toEqual({
      output: expect.stringContaining('larger than 262144 bytes'),
      isError: true,
    });
  });
});

describe('an MCP server answer', () => {
  it.each([
    ['not JSON', 'nope', /not JSON/],
    ['not JSON-RPC', '{"hello":1}', /malformed JSON-RPC/],
    ['the answer to another request', '{"jsonrpc":"2.0","id":9,"result":{}}', /not the response/],
    ['a request of its own', '{"jsonrpc":"2.0","id":1,"method":"x"}', /not the response/],
  ])('is refused when it is %s', (_what, text, why) => {
    expect(answerTo(1, text)).toMatch(why);
  });

  it('is passed on when it answers the request', () => {
    expect(answerTo(1, '{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}')).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: { tools: [] },
    });
  });
});
