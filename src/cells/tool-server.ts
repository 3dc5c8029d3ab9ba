/**
 * The tool server: the only program the host starts inside a cell. It reads ToolRequests as
 * JSON lines on stdin and answers ToolResponses on stdout, or, when NANOCELL_TOOL_SOCKET names
 * a unix socket of the host's (docker, podman), on that socket. It runs as the cell's unprivileged
 * user and relies on the cell for isolation; its own checks only keep answers useful.
 * Node built-ins only: this file is mounted into the cell on its own.
 */
import { spawn } from 'node:child_process';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import v8 from 'node:v8';
import type { ToolRequest, ToolResponse } from './tool-protocol.js';

const MAX_LIST_ENTRIES = 1000;
/** Present only in a cell granted egress: the host proxy's socket, and the forwarder to it. */
const EGRESS_SOCKET = '/run/nanocell/egress.sock';
const EGRESS_FORWARDER = '/run/nanocell/egress-forwarder.mjs';
const EGRESS_PORT = 3128;
const DEFAULT_READ_LINES = 2000;

const DEFAULT_MAX_FILE_BYTES = 1024 * 1024 * 1024;

function maxFileBytes(): number {
  const n = Number(process.env.NANOCELL_MAX_FILE_BYTES);
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_MAX_FILE_BYTES;
}

/** RLIMIT_FSIZE in 1 KiB blocks, as `ulimit -f` takes it. */
function maxFileBlocks(): number {
  return Math.max(1, Math.floor(maxFileBytes() / 1024));
}

/**
 * True when this process already runs under the cap, soft and hard (a real cell sets it once
 * before starting the tool server: cell-runtime.ts), so each command needs no wrapper of its
 * own. Read from /proc/self/limits; false when it cannot be read or says otherwise.
 */
function fileSizeCapApplied(): boolean {
  let limits: string;
  try {
    limits = fsSync.readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return false;
  }
  const row = /^Max file size\s+(\S+)\s+(\S+)/m.exec(limits);
  const cap = maxFileBlocks() * 1024;
  return row !== null && row.slice(1).every((v) => v !== 'unlimited' && Number(v) <= cap);
}

/** Spelled the same in cell-runtime.ts (this file cannot import host code). */
const OWN_PID_NAMESPACE_FLAG = '--own-pid-namespace';
/** A tool server in a namespace of its own is one of its first processes. */
const MAX_PID_IN_OWN_NAMESPACE = 64;
/** How long a finished command's output may stay open (held by a process it left behind). */
const CLOSE_GRACE_MS = 1000;
const MAX_SWEEP_ROUNDS = 100;

/**
 * The cell's processes, known through its own PID namespace: every process in it other than
 * the tool server, its ancestors (the namespace's init) and the egress forwarder was started by
 * a call. When no call is running, none of them may live: a `setsid`, `nohup` or double-forked
 * daemon escapes a process-group kill but not this sweep.
 *
 * Only a runtime that gives the cell its own PID namespace passes OWN_PID_NAMESPACE_FLAG, and
 * the tool server checks it looks like it runs in one.
 */
class CellProcesses {
  private running = 0;
  private readonly keep = new Set<number>();
  /** Process groups that must survive sweeps: the MCP servers the host started, with their children. */
  private readonly keepGroups = new Set<number>();
  readonly sweeps: boolean;
  /** The commands it starts inherit the file-size cap already (set once when the cell started). */
  readonly fileSizeCapped = fileSizeCapApplied();

  constructor(ownNamespace: boolean) {
    // Belt and braces: a cell's tool server is never root, is a child of the namespace's
    // init and one of its first processes. On a host (root above all), a sweep would kill
    // every process it may signal.
    this.sweeps =
      ownNamespace &&
      process.getuid?.() !== 0 &&
      process.ppid === 1 &&
      process.pid <= MAX_PID_IN_OWN_NAMESPACE;
    for (let pid: number | undefined = process.pid; pid && pid > 0; pid = parentOf(pid)) {
      this.keep.add(pid);
      if (pid === 1) break;
    }
  }

  /** A process that must survive sweeps (the egress forwarder). */
  spare(pid: number | undefined): void {
    if (pid) this.keep.add(pid);
  }

  spareGroup(pgid: number): void {
    this.keepGroups.add(pgid);
  }

  releaseGroup(pgid: number): void {
    this.keepGroups.delete(pgid);
  }

  callStarted(): void {
    this.running++;
  }

  /** Call once per callStarted, before answering: the next call finds no stray process. */
  callEnded(): void {
    this.running--;
    this.sweepIfIdle();
  }

  /**
   * Kill every stray process when the only call left is the one asking (`callers` of them):
   * with another call running, its processes cannot be told from strays, so the sweep waits
   * for the last call to end. Synchronous, so no new call can start halfway through.
   */
  sweepIfIdle(callers = 0): void {
    if (!this.sweeps || this.running > callers) return;
    // SIGKILL rounds until a round finds nothing: a process forking while it is killed leaves
    // children that the next round finds.
    for (let round = 0; round < MAX_SWEEP_ROUNDS; round++) {
      let found = 0;
      for (const pid of livePids()) {
        if (this.keep.has(pid)) continue;
        if (this.keepGroups.size > 0 && this.keepGroups.has(readStat(pid)?.pgrp ?? -1)) continue;
        found++;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // ESRCH: gone already; EPERM: not ours, so not started by a call.
        }
      }
      if (found === 0) return;
    }
  }
}

/** Live (not zombie) processes this tool server can see. */
function livePids(): number[] {
  let names: string[];
  try {
    names = fsSync.readdirSync('/proc');
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat && stat.state !== 'Z' && stat.state !== 'X') pids.push(Number(name));
  }
  return pids;
}

function parentOf(pid: number): number | undefined {
  return readStat(pid)?.ppid;
}

function readStat(pid: number): { state: string; ppid: number; pgrp: number } | undefined {
  try {
    const text = fsSync.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    const [state = '', ppid = '', pgrp = ''] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state, ppid: Number(ppid), pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

type Handler = (
  input: Record<string, unknown>,
  req: ToolRequest,
  procs: CellProcesses,
) => Promise<ToolResponse>;

/** Where requests come from and answers go: stdio, or the host's tool socket. */
interface Channel {
  requests: NodeJS.ReadableStream;
  send(frame: object): void;
}

/**
 * The host's tool socket when NANOCELL_TOOL_SOCKET names one, connected first thing: the host
 * takes one connection only, and nothing else in the cell runs before this. The variable is
 * dropped from the environment so no command or MCP server inherits it.
 */
async function openChannel(): Promise<Channel> {
  const socketPath = process.env.NANOCELL_TOOL_SOCKET;
  delete process.env.NANOCELL_TOOL_SOCKET;
  if (!socketPath) {
    return {
      requests: process.stdin,
      send: (frame) => process.stdout.write(`${JSON.stringify(frame)}\n`),
    };
  }
  const socket = net.createConnection(socketPath);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (err) =>
      reject(new Error(`cannot connect to the host's tool socket ${socketPath}: ${err.message}`)),
    );
  });
  // The host gone mid-write is the end of the cell, reported by the socket closing.
  socket.on('error', () => undefined);
  return { requests: socket, send: (frame) => socket.write(`${JSON.stringify(frame)}\n`) };
}

function cap(text: string, maxBytes: number): string {
  const bytes = Buffer.byteLength(text);
  if (bytes <= maxBytes) return text;
  const kept = Buffer.from(text).subarray(0, maxBytes).toString('utf8');
  return `${kept}\n[output truncated: ${bytes - maxBytes} of ${bytes} bytes dropped]`;
}

function str(input: Record<string, unknown>, key: string): string | undefined {
  const v = input[key];
  return typeof v === 'string' ? v : undefined;
}

function resolvePath(p: string | undefined): string {
  return path.resolve(process.cwd(), p ?? '.');
}

/**
 * Run a program with a wall-time limit. When it exits or times out its process group is
 * killed, and, with no other call running, every process it left behind (CellProcesses).
 */
function run(
  file: string,
  args: string[],
  req: ToolRequest,
  procs: CellProcesses,
): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, {
      cwd: process.cwd(),
      // stdin ignored: a command must never read the protocol stream.
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group, so a timeout or exit can kill every descendant.
      detached: true,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let dropped = 0;
    const collect = (chunk: Buffer) => {
      const room = req.maxOutputBytes - size;
      if (room > 0) {
        chunks.push(chunk.subarray(0, room));
        size += Math.min(room, chunk.length);
      }
      dropped += Math.max(0, chunk.length - Math.max(room, 0));
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is already gone, which is what we wanted.
      }
    };
    let closeTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
      procs.sweepIfIdle(1);
    }, req.timeoutMs);
    let exitCode: number | null = null;
    child.on('exit', (code) => {
      exitCode = code;
      // Background jobs left behind would hold the pipes open and outlive the call.
      killGroup();
      procs.sweepIfIdle(1);
      // One that escaped (another call running, so no sweep) must not hold this call open.
      closeTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, CLOSE_GRACE_MS);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, output: `cannot run ${file}: ${err.message}`, timedOut: false });
    });
    child.once('close', () => {
      clearTimeout(timer);
      clearTimeout(closeTimer);
      let output = Buffer.concat(chunks).toString('utf8');
      if (dropped > 0) output += `\n[output truncated: ${dropped} bytes dropped]`;
      resolve({ code: exitCode, output, timedOut });
    });
  });
}

const handlers: Record<string, Handler> = {
  async bash(input, req, procs) {
    // A hard cap on the size of any file one command writes (RLIMIT_FSIZE, which the command
    // cannot raise again), so a runaway or hostile command cannot fill the host's disk in one go.
    // Set once for the whole cell when it started (one process per command), else here.
    const command = str(input, 'command') ?? '';
    const args = procs.fileSizeCapped
      ? ['-c', command]
      : [
          '-c',
          'ulimit -f "$1" && exec /bin/bash -c "$2"',
          'nanocell',
          String(maxFileBlocks()),
          command,
        ];
    const r = await run('/bin/bash', args, req, procs);
    if (r.timedOut) {
      return {
        id: req.id,
        ok: false,
        output: `${r.output}\n[timed out after ${req.timeoutMs} ms; the command and its children were killed]`,
      };
    }
    const ok = r.code === 0;
    return {
      id: req.id,
      ok,
      output: ok ? r.output : `${r.output}\n[exit code ${r.code ?? 'killed by a signal'}]`,
    };
  },

  async read_file(input, req) {
    const file = resolvePath(str(input, 'path'));
    const text = await fs.readFile(file, 'utf8');
    const lines = text.split('\n');
    if (text.endsWith('\n')) lines.pop();
    const offset = typeof input.offset === 'number' ? input.offset : 1;
    const limit = typeof input.limit === 'number' ? input.limit : DEFAULT_READ_LINES;
    const slice = lines.slice(offset - 1, offset - 1 + limit);
    const numbered = slice.map((l, i) => `${String(offset + i).padStart(6)}\t${l}`).join('\n');
    const more =
      offset - 1 + limit < lines.length
        ? `\n[${lines.length - (offset - 1 + limit)} more lines; read on with offset]`
        : '';
    return { id: req.id, ok: true, output: cap(numbered + more, req.maxOutputBytes) };
  },

  async write_file(input, req) {
    const file = resolvePath(str(input, 'path'));
    const content = str(input, 'content') ?? '';
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, content);
    return { id: req.id, ok: true, output: `wrote ${Buffer.byteLength(content)} bytes to ${file}` };
  },

  async edit_file(input, req) {
    const file = resolvePath(str(input, 'path'));
    const oldString = str(input, 'old_string') ?? '';
    const newString = str(input, 'new_string') ?? '';
    const text = await fs.readFile(file, 'utf8');
    const count = text.split(oldString).length - 1;
    if (count === 0) return { id: req.id, ok: false, output: `old_string not found in ${file}` };
    if (count > 1 && input.replace_all !== true) {
      return {
        id: req.id,
        ok: false,
        output: `old_string occurs ${count} times in ${file}; add context to make it unique or set replace_all`,
      };
    }
    await fs.writeFile(file, text.split(oldString).join(newString));
    return { id: req.id, ok: true, output: `replaced ${count} occurrence(s) in ${file}` };
  },

  async list_files(input, req) {
    const root = resolvePath(str(input, 'path'));
    const entries: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      const items = await fs.readdir(dir, { withFileTypes: true });
      items.sort((a, b) => a.name.localeCompare(b.name));
      for (const item of items) {
        if (entries.length >= MAX_LIST_ENTRIES) return;
        const full = path.join(dir, item.name);
        const shown = path.relative(root, full);
        if (item.isDirectory()) {
          entries.push(`${shown}/`);
          await walk(full);
        } else {
          entries.push(item.isSymbolicLink() ? `${shown}@` : shown);
        }
      }
    };
    await walk(root);
    const more =
      entries.length >= MAX_LIST_ENTRIES ? `\n[stopped at ${MAX_LIST_ENTRIES} entries]` : '';
    const body = entries.length === 0 ? '(empty)' : entries.join('\n');
    return { id: req.id, ok: true, output: cap(body + more, req.maxOutputBytes) };
  },

  async grep(input, req, procs) {
    const args = ['-rnHE', '--binary-files=without-match'];
    if (input.ignore_case === true) args.push('-i');
    args.push('--', str(input, 'pattern') ?? '', resolvePath(str(input, 'path')));
    const r = await run('grep', args, req, procs);
    if (r.timedOut)
      return { id: req.id, ok: false, output: `grep timed out after ${req.timeoutMs} ms` };
    if (r.code === 1) return { id: req.id, ok: true, output: 'no matches' };
    return { id: req.id, ok: r.code === 0, output: r.output };
  },
};

async function handle(
  req: ToolRequest,
  procs: CellProcesses,
  mcp?: McpServers,
): Promise<ToolResponse> {
  if (mcp && (req.tool === 'mcp_start' || req.tool === 'mcp_send' || req.tool === 'mcp_stop')) {
    return mcp.handle(req);
  }
  const handler = Object.hasOwn(handlers, req.tool) ? handlers[req.tool] : undefined;
  if (!handler) return { id: req.id, ok: false, output: `unknown tool: ${req.tool}` };
  try {
    return await handler(req.input ?? {}, req, procs);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason =
      e.code === 'ENOENT'
        ? `no such file or directory: ${e.path ?? ''}`
        : e.code === 'EACCES' || e.code === 'EROFS' || e.code === 'EPERM'
          ? `permission denied (${e.code}): ${e.path ?? ''} is outside what this cell may write`
          : e.code === 'EISDIR'
            ? `${e.path ?? 'path'} is a directory`
            : e.message;
    return { id: req.id, ok: false, output: reason };
  }
}

/** Spelled as in tool-protocol.ts (this file cannot import values from host code). */
const MAX_MCP_MESSAGE_BYTES = 512 * 1024;
const MCP_SERVER_NAME = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
/**
 * The host refuses (and kills the cell for) a frame past 1 MiB, the floor of
 * maxResponseFrameBytes: an answer that would encode longer is refused here instead, so an MCP
 * server cannot get its whole cell killed.
 */
const MAX_MCP_FRAME_BYTES = 1024 * 1024 - 4096;
/** Messages nobody asked for (notifications, logs on stdout) per window before it is a flood. */
const MAX_MCP_UNASKED = 1000;
const MCP_UNASKED_WINDOW_MS = 10_000;
const MCP_STDERR_TAIL_BYTES = 4096;

interface McpProcess {
  name: string;
  child: ReturnType<typeof spawn>;
  pgid: number;
  waiting: Map<string, (res: { ok: boolean; output: string }) => void>;
  /** Why it stopped, once it has. */
  stopped?: string;
  stderr: string;
  unasked: number;
  windowStart: number;
}

/**
 * The stdio MCP servers the host started in this cell (ToolRequest `mcp_*`). Each is a process
 * group of its own, kept from the sweep of strays, and killed on `mcp_stop`, when it misbehaves,
 * or when the cell ends. Everything it writes is bounded before it is buffered.
 */
class McpServers {
  private readonly servers = new Map<string, McpProcess>();

  constructor(private readonly procs: CellProcesses) {}

  async handle(req: ToolRequest): Promise<ToolResponse> {
    const input = req.input ?? {};
    const name = str(input, 'name') ?? '';
    const fail = (output: string): ToolResponse => ({ id: req.id, ok: false, output });
    if (name.length > 32 || !MCP_SERVER_NAME.test(name)) return fail(`bad MCP server name`);
    if (req.tool === 'mcp_stop') {
      this.stop(name, 'stopped by the host');
      return { id: req.id, ok: true, output: `stopped ${name}` };
    }
    if (req.tool === 'mcp_start') return { id: req.id, ...(await this.start(name, input)) };
    const server = this.servers.get(name);
    if (!server) return fail(`no MCP server ${name} was started in this cell`);
    if (server.stopped) return fail(`MCP server ${name} is not running: ${server.stopped}`);
    return { id: req.id, ...(await this.send(server, input.message, req.timeoutMs)) };
  }

  private start(
    name: string,
    input: Record<string, unknown>,
  ): Promise<{ ok: boolean; output: string }> {
    this.stop(name, 'replaced by a new start');
    const command = str(input, 'command') ?? '';
    const args = Array.isArray(input.args) ? input.args.filter((a) => typeof a === 'string') : [];
    const extra =
      typeof input.env === 'object' && input.env !== null
        ? Object.entries(input.env).filter((e): e is [string, string] => typeof e[1] === 'string')
        : [];
    const child = spawn(command, args, {
      cwd: process.cwd(),
      env: { ...process.env, ...Object.fromEntries(extra) },
      stdio: ['pipe', 'pipe', 'pipe'],
      // Own process group: stop kills the server and everything it started.
      detached: true,
    });
    const server: McpProcess = {
      name,
      child,
      pgid: child.pid ?? -1,
      waiting: new Map(),
      stderr: '',
      unasked: 0,
      windowStart: Date.now(),
    };
    this.servers.set(name, server);
    if (child.pid) this.procs.spareGroup(child.pid);
    child.stdin?.on('error', () => {
      // EPIPE from a server that died: reported through 'exit'.
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      server.stderr = (
        server.stderr + chunk.subarray(-MCP_STDERR_TAIL_BYTES).toString('utf8')
      ).slice(-MCP_STDERR_TAIL_BYTES);
    });
    let parts: Buffer[] = [];
    let size = 0;
    child.stdout?.on('data', (chunk: Buffer) => {
      let start = 0;
      while (!server.stopped) {
        const nl = chunk.indexOf(0x0a, start);
        const end = nl === -1 ? chunk.length : nl;
        if (size + end - start > MAX_MCP_MESSAGE_BYTES) {
          this.kill(
            server,
            `it sent a message longer than ${MAX_MCP_MESSAGE_BYTES} bytes (a flood)`,
          );
          return;
        }
        parts.push(Buffer.from(chunk.subarray(start, end)));
        size += end - start;
        if (nl === -1) return;
        const line = Buffer.concat(parts).toString('utf8');
        parts = [];
        size = 0;
        start = nl + 1;
        this.onLine(server, line);
      }
    });
    child.on('exit', (code, signal) => {
      const tail = server.stderr.trim();
      this.kill(
        server,
        `${signal ? `it was killed by ${signal}` : `it exited with code ${code}`}${tail ? `; its last error output: ${tail.slice(-1000)}` : ''}`,
      );
    });
    return new Promise((resolve) => {
      child.once('spawn', () => resolve({ ok: true, output: `started ${name}` }));
      child.once('error', (err) => {
        this.kill(server, `it could not be started: ${err.message}`);
        resolve({ ok: false, output: `cannot start MCP server ${name}: ${err.message}` });
      });
    });
  }

  private send(
    server: McpProcess,
    message: unknown,
    timeoutMs: number,
  ): Promise<{ ok: boolean; output: string }> {
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      return Promise.resolve({ ok: false, output: 'message must be one JSON-RPC object' });
    }
    const line = JSON.stringify(message);
    if (Buffer.byteLength(line) > MAX_MCP_MESSAGE_BYTES) {
      return Promise.resolve({ ok: false, output: 'message too long for an MCP server' });
    }
    const { id, method } = message as Record<string, unknown>;
    const isRequest = typeof method === 'string' && id !== undefined && id !== null;
    if (!isRequest) {
      server.child.stdin?.write(`${line}\n`);
      return Promise.resolve({ ok: true, output: '' });
    }
    const key = JSON.stringify(id);
    if (server.waiting.has(key)) {
      return Promise.resolve({ ok: false, output: `request id ${key} is already waiting` });
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        server.waiting.delete(key);
        resolve({
          ok: false,
          output: `MCP server ${server.name} did not answer ${method} within ${timeoutMs} ms and was stopped`,
        });
        this.kill(server, `it did not answer ${method} within ${timeoutMs} ms (hung)`);
      }, timeoutMs);
      server.waiting.set(key, (res) => {
        clearTimeout(timer);
        resolve(res);
      });
      server.child.stdin?.write(`${line}\n`);
    });
  }

  private onLine(server: McpProcess, line: string): void {
    if (line.trim() === '') return;
    let msg: Record<string, unknown> | undefined;
    try {
      const v: unknown = JSON.parse(line);
      msg =
        typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as typeof msg) : undefined;
    } catch {
      msg = undefined;
    }
    const key = msg && 'id' in msg && !('method' in msg) ? JSON.stringify(msg.id) : undefined;
    const resolve = key !== undefined ? server.waiting.get(key) : undefined;
    if (key !== undefined && resolve) {
      server.waiting.delete(key);
      // Refused here rather than sent: the host would stop the whole cell for such a frame.
      if (Buffer.byteLength(JSON.stringify(line)) > MAX_MCP_FRAME_BYTES) {
        resolve({
          ok: false,
          output: `MCP server ${server.name} answered with a message too large to pass on`,
        });
      } else {
        resolve({ ok: true, output: line });
      }
      return;
    }
    const now = Date.now();
    if (now - server.windowStart > MCP_UNASKED_WINDOW_MS) {
      server.windowStart = now;
      server.unasked = 0;
    }
    if (++server.unasked > MAX_MCP_UNASKED) {
      this.kill(server, `it sent more than ${MAX_MCP_UNASKED} messages nobody asked for (a flood)`);
      return;
    }
    // The host offers the server no capabilities: a ping is answered, any other request refused.
    if (msg && typeof msg.method === 'string' && msg.id !== undefined && msg.id !== null) {
      const answer =
        msg.method === 'ping'
          ? { jsonrpc: '2.0', id: msg.id, result: {} }
          : {
              jsonrpc: '2.0',
              id: msg.id,
              error: { code: -32601, message: 'not supported by this client' },
            };
      server.child.stdin?.write(`${JSON.stringify(answer)}\n`);
    }
  }

  private kill(server: McpProcess, why: string): void {
    if (server.stopped) return;
    server.stopped = why;
    try {
      if (server.pgid > 0) process.kill(-server.pgid, 'SIGKILL');
    } catch {
      // ESRCH: the group is already gone.
    }
    this.procs.releaseGroup(server.pgid);
    for (const resolve of server.waiting.values()) {
      resolve({ ok: false, output: `MCP server ${server.name} stopped: ${why}` });
    }
    server.waiting.clear();
  }

  stop(name: string, why: string): void {
    const server = this.servers.get(name);
    if (server) this.kill(server, why);
  }

  stopAll(): void {
    for (const server of this.servers.values()) this.kill(server, 'the cell ended');
  }
}

/**
 * In a cell granted egress, start the forwarder (127.0.0.1:3128 → the proxy socket) and wait
 * for it to listen before announcing readiness, so the first command can already use it.
 */
async function startEgressForwarder(procs: CellProcesses): Promise<(() => void) | undefined> {
  try {
    await fs.access(EGRESS_SOCKET);
  } catch {
    return undefined;
  }
  const child = spawn('/usr/bin/node', [EGRESS_FORWARDER, EGRESS_SOCKET, String(EGRESS_PORT)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  procs.spare(child.pid);
  await new Promise<void>((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    rl.once('line', () => resolve());
    child.once('exit', (code) => reject(new Error(`egress forwarder exited with code ${code}`)));
  });
  return () => child.kill('SIGKILL');
}

/**
 * How soon V8's memory reducer looks at an idle cell (issue 17): its default, 8 s, left a warm
 * cell holding what its start and first calls freed (about 2 MiB of pooled heap pages, so PSS
 * 11 MiB where a bare node holds 8.4) for as long as the bench or a user's minute between
 * calls. The reducer still collects only when the cell is idle (low allocation rate), so a busy
 * cell is not slowed; a forced gc() would not do: it keeps the freed pages pooled.
 */
const MEMORY_REDUCER_DELAY_FLAG = '--gc-memory-reducer-start-delay-ms=300';

async function main(): Promise<void> {
  v8.setFlagsFromString(MEMORY_REDUCER_DELAY_FLAG);
  // Under the cell's file-size cap, a write past it must fail with EFBIG, not end the server.
  process.on('SIGXFSZ', () => undefined);
  const channel = await openChannel();
  const answer = (res: ToolResponse) => channel.send(res);
  const procs = new CellProcesses(process.argv.includes(OWN_PID_NAMESPACE_FLAG));
  const stopForwarder = await startEgressForwarder(procs);
  const mcp = new McpServers(procs);
  // A process's first command pays for loading and compiling the spawn and bash paths (tens
  // of ms): pay it before ready, twice, so a spare answers its first call as a warm cell does.
  for (let i = 0; i < 2; i++) {
    await handle(
      { id: 0, tool: 'bash', input: { command: 'true' }, timeoutMs: 5000, maxOutputBytes: 1000 },
      procs,
    );
  }
  const lines = readline.createInterface({ input: channel.requests, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    let req: ToolRequest;
    try {
      req = JSON.parse(line) as ToolRequest;
    } catch {
      answer({ id: -1, ok: false, output: 'malformed request: not JSON' });
      return;
    }
    if (typeof req !== 'object' || req === null || typeof req.id !== 'number') {
      answer({
        id: -1,
        ok: false,
        output: 'malformed request: expected an object with a numeric id',
      });
      return;
    }
    procs.callStarted();
    handle(req, procs, mcp).then(
      (res) => {
        procs.callEnded();
        answer(res);
      },
      (err: unknown) => {
        procs.callEnded();
        answer({ id: req.id, ok: false, output: `tool server error: ${String(err)}` });
      },
    );
  });
  // The host closing stdin (or the socket) is the signal to stop.
  lines.on('close', () => {
    mcp.stopAll();
    stopForwarder?.();
    process.exit(0);
  });
  channel.send({ ready: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`tool server: ${(err as Error).message}\n`);
  process.exit(1);
});
