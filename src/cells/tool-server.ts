/**
 * The tool server: the only program the host starts inside a cell. It reads ToolRequests as
 * JSON lines on stdin and answers ToolResponses on stdout. It runs as the cell's unprivileged
 * user and relies on the cell for isolation; its own checks only keep answers useful.
 * Node built-ins only: this file is mounted into the cell on its own.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
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

type Handler = (input: Record<string, unknown>, req: ToolRequest) => Promise<ToolResponse>;

function answer(res: ToolResponse): void {
  process.stdout.write(`${JSON.stringify(res)}\n`);
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

/** Run a program with a wall-time limit; on timeout the whole process group is killed. */
function run(
  file: string,
  args: string[],
  req: ToolRequest,
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
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, req.timeoutMs);
    let exitCode: number | null = null;
    child.on('exit', (code) => {
      exitCode = code;
      // Background jobs left behind would hold the pipes open and outlive the call.
      killGroup();
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, output: `cannot run ${file}: ${err.message}`, timedOut: false });
    });
    child.on('close', () => {
      clearTimeout(timer);
      let output = Buffer.concat(chunks).toString('utf8');
      if (dropped > 0) output += `\n[output truncated: ${dropped} bytes dropped]`;
      resolve({ code: exitCode, output, timedOut });
    });
  });
}

const handlers: Record<string, Handler> = {
  async bash(input, req) {
    // A hard cap on the size of any file one command writes (RLIMIT_FSIZE, which the command
    // cannot raise again), so a runaway or hostile command cannot fill the host's disk in one go.
    const blocks = Math.max(1, Math.floor(maxFileBytes() / 1024));
    const r = await run(
      '/bin/bash',
      [
        '-c',
        'ulimit -f "$1" && exec /bin/bash -c "$2"',
        'nanocell',
        String(blocks),
        str(input, 'command') ?? '',
      ],
      req,
    );
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

  async grep(input, req) {
    const args = ['-rnHE', '--binary-files=without-match'];
    if (input.ignore_case === true) args.push('-i');
    args.push('--', str(input, 'pattern') ?? '', resolvePath(str(input, 'path')));
    const r = await run('grep', args, req);
    if (r.timedOut)
      return { id: req.id, ok: false, output: `grep timed out after ${req.timeoutMs} ms` };
    if (r.code === 1) return { id: req.id, ok: true, output: 'no matches' };
    return { id: req.id, ok: r.code === 0, output: r.output };
  },
};

async function handle(req: ToolRequest): Promise<ToolResponse> {
  const handler = Object.hasOwn(handlers, req.tool) ? handlers[req.tool] : undefined;
  if (!handler) return { id: req.id, ok: false, output: `unknown tool: ${req.tool}` };
  try {
    return await handler(req.input ?? {}, req);
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

/**
 * In a cell granted egress, start the forwarder (127.0.0.1:3128 → the proxy socket) and wait
 * for it to listen before announcing readiness, so the first command can already use it.
 */
async function startEgressForwarder(): Promise<(() => void) | undefined> {
  try {
    await fs.access(EGRESS_SOCKET);
  } catch {
    return undefined;
  }
  const child = spawn('/usr/bin/node', [EGRESS_FORWARDER, EGRESS_SOCKET, String(EGRESS_PORT)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    rl.once('line', () => resolve());
    child.once('exit', (code) => reject(new Error(`egress forwarder exited with code ${code}`)));
  });
  return () => child.kill('SIGKILL');
}

async function main(): Promise<void> {
  const stopForwarder = await startEgressForwarder();
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
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
    handle(req).then(answer, (err: unknown) =>
      answer({ id: req.id, ok: false, output: `tool server error: ${String(err)}` }),
    );
  });
  // The host closing stdin is the signal to stop.
  lines.on('close', () => {
    stopForwarder?.();
    process.exit(0);
  });
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`tool server: ${(err as Error).message}\n`);
  process.exit(1);
});
