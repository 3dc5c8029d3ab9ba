import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CellLimits } from './cell-runtime.js';
import { StdioCell } from './stdio-cell.js';
import { ToolSocket } from './tool-socket.js';

const LIMITS: CellLimits = {
  memoryMb: 64,
  pids: 16,
  cpus: 1,
  callTimeoutMs: 5000,
  maxOutputBytes: 10_000,
};
const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

/** The real tool server, transpiled from the source beside this test (as tool-server.test.ts). */
let workDir: string;
let serverScript: string;
beforeAll(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-tool-socket-test-'));
  const source = fs.readFileSync(new URL('./tool-server.ts', import.meta.url), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  serverScript = path.join(workDir, 'tool-server.mjs');
  fs.writeFileSync(serverScript, outputText);
});
afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

const toClose: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of toClose.splice(0).reverse()) await close();
});

async function listen(): Promise<ToolSocket> {
  const socket = await ToolSocket.listen(owner, workDir);
  toClose.push(() => socket.close());
  return socket;
}

function connect(
  socketPath: string,
): Promise<{ ok: true; conn: net.Socket } | { ok: false; code: string }> {
  return new Promise((resolve) => {
    const conn = net.createConnection(socketPath);
    conn.once('connect', () => {
      toClose.push(() => conn.destroy());
      resolve({ ok: true, conn });
    });
    conn.once('error', (err: NodeJS.ErrnoException) =>
      resolve({ ok: false, code: err.code ?? '?' }),
    );
  });
}

/** A process holding the cell's place: the real tool server, or a script told the socket's path. */
function spawnServer(socket: ToolSocket, args: string[]) {
  const child = spawn(process.execPath, args, {
    cwd: workDir,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NANOCELL_TOOL_SOCKET: path.join(socket.dir, 'tool.sock'),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  toClose.push(() => child.kill('SIGKILL'));
  return child;
}

async function attach(socket: ToolSocket, args: string[], startTimeoutMs = 10_000) {
  const child = spawnServer(socket, args);
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const cell = await StdioCell.attach('test-socket', child, {
    cleanup: async () => socket.close(),
    limits: LIMITS,
    startTimeoutMs,
    toolSocket: socket,
  });
  toClose.push(() => cell.stop());
  return { cell, child, stdout: () => stdout };
}

describe('ToolSocket', () => {
  it('takes exactly one connection: a second connect finds no socket', async () => {
    const socket = await listen();
    const socketPath = path.join(socket.dir, 'tool.sock');
    const first = await connect(socketPath);
    expect(first.ok).toBe(true);
    const taken = await socket.connection;
    expect(taken.ok).toBe(true);
    expect(fs.existsSync(socketPath)).toBe(false);
    const second = await connect(socketPath);
    expect(second).toEqual({ ok: false, code: 'ENOENT' });
  });

  it("lets only the cell's user connect, knowing the path: the socket is 0600 and its, both directories only searchable", async () => {
    const socket = await listen();
    const st = fs.lstatSync(path.join(socket.dir, 'tool.sock'));
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect([st.uid, st.gid]).toEqual([owner.uid, owner.gid]);
    expect(fs.statSync(socket.dir).mode & 0o777).toBe(0o711);
    // Its name is unguessable, in a directory only the host can list.
    expect(path.basename(socket.dir)).toMatch(/^[0-9a-f]{32}$/);
    expect(fs.statSync(path.dirname(socket.dir)).mode & 0o777).toBe(0o711);
  });

  it('removes its directory when closed, with or without a connection', async () => {
    const unused = await listen();
    unused.close();
    expect(fs.existsSync(path.dirname(unused.dir))).toBe(false);
    expect(await unused.connection).toEqual({ ok: false, reason: 'the cell was removed' });

    const used = await listen();
    expect((await connect(path.join(used.dir, 'tool.sock'))).ok).toBe(true);
    await used.connection;
    used.close();
    expect(fs.existsSync(path.dirname(used.dir))).toBe(false);
  });
});

describe('ToolSocket.removeStale', () => {
  it('removes the directories of host processes that are gone, and only those', async () => {
    const base = fs.mkdtempSync(path.join(workDir, 'stale-'));
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => gone.once('exit', resolve));
    const stale = path.join(base, `nanocell-tool-${gone.pid}-abc123`);
    const live = path.join(base, `nanocell-tool-${process.pid}-def456`);
    const unrelated = path.join(base, 'nanocell-other');
    for (const d of [stale, live, unrelated]) fs.mkdirSync(d);
    expect(ToolSocket.removeStale(base)).toBe(1);
    expect([stale, live, unrelated].map((d) => fs.existsSync(d))).toEqual([false, true, true]);
  });
});

describe('a cell over its tool socket', () => {
  it('answers calls over the socket, not stdout, and hides the socket from commands', async () => {
    const socket = await listen();
    const { cell, stdout } = await attach(socket, [serverScript]);
    const r = await cell.call({
      tool: 'bash',
      input: { command: 'echo hi ${NANOCELL_TOOL_SOCKET:-unset}' },
    });
    expect(r).toMatchObject({ ok: true, output: 'hi unset\n' });
    expect(stdout()).toBe('');
    expect((await connect(path.join(socket.dir, 'tool.sock'))).ok).toBe(false);
  });

  it('stops cleanly when the host ends the socket, and the directory is removed', async () => {
    const socket = await listen();
    const { cell, child } = await attach(socket, [serverScript]);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await cell.stop();
    expect(await exited).toBe(0);
    expect(fs.existsSync(path.dirname(socket.dir))).toBe(false);
  });

  it('fails to start, saying why, when the tool server never connects', async () => {
    const socket = await listen();
    await expect(attach(socket, ['-e', 'setInterval(() => {}, 1000)'], 300)).rejects.toThrow(
      /did not start: its tool server did not connect to \/run\/nanocell-tool\/tool\.sock within 300 ms/,
    );
  });

  it("fails to start with the tool server's own error when it cannot connect", async () => {
    const socket = await listen();
    const child = spawn(process.execPath, [serverScript], {
      cwd: workDir,
      env: { PATH: '/usr/bin:/bin', NANOCELL_TOOL_SOCKET: path.join(workDir, 'no-such.sock') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    await expect(
      StdioCell.attach('test-socket', child, {
        cleanup: async () => socket.close(),
        limits: LIMITS,
        startTimeoutMs: 10_000,
        toolSocket: socket,
      }),
    ).rejects.toThrow(
      /exited with code 1: tool server: cannot connect to the host's tool socket .*no-such\.sock/,
    );
  });

  it('kills a cell that writes anything to its stdout beside the socket, as a protocol breach', async () => {
    const socket = await listen();
    // Says ready on the socket, then at the first request writes to its stdout instead.
    const script = [
      `const s = require('net').createConnection(process.env.NANOCELL_TOOL_SOCKET);`,
      `s.on('connect', () => s.write(JSON.stringify({ ready: true }) + '\\n'));`,
      `s.once('data', () => process.stdout.write('junk\\n'));`,
      `setInterval(() => {}, 1000);`,
    ].join('\n');
    const { cell } = await attach(socket, ['-e', script]);
    const r = await cell.call({ tool: 'bash', input: { command: 'true' } });
    expect(r.ok).toBe(false);
    expect(r.output).toContain(
      'the cell broke the tool protocol (output on its stdout, which carries nothing beside its tool socket)',
    );
    expect(cell.alive).toBe(false);
  });

  it('is dead once the tool server closes its socket, even while its process lingers', async () => {
    const socket = await listen();
    // Says ready on the socket, then hangs up at the first request and stays running.
    const script = [
      `const s = require('net').createConnection(process.env.NANOCELL_TOOL_SOCKET);`,
      `s.on('connect', () => s.write(JSON.stringify({ ready: true }) + '\\n'));`,
      `s.once('data', () => s.destroy());`,
      `setInterval(() => {}, 1000);`,
    ].join('\n');
    const { cell, child } = await attach(socket, ['-e', script]);
    const r = await cell.call({ tool: 'bash', input: { command: 'true' } });
    expect(r.ok).toBe(false);
    expect(r.output).toContain(
      'the cell stopped during this call: the cell closed its tool socket',
    );
    expect(cell.alive).toBe(false);
    expect(child.exitCode !== null || child.signalCode !== null).toBe(true);
  });
});
