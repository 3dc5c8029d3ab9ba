import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ToolRequest, ToolResponse } from './tool-protocol.js';

/**
 * The tool server runs here as a plain child process (no sandbox), the way a cell starts it.
 * It is transpiled from this source into a temp .mjs (as mounted in cells) rather than taken
 * from dist/, so the test checks the code beside it and never races a concurrent build.
 */
let serverScript: string;
let scriptDir: string;

beforeAll(() => {
  scriptDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-tool-server-'));
  const source = fs.readFileSync(new URL('./tool-server.ts', import.meta.url), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  serverScript = path.join(scriptDir, 'tool-server.mjs');
  fs.writeFileSync(serverScript, outputText);
});
afterAll(() => {
  fs.rmSync(scriptDir, { recursive: true, force: true });
});

class ToolServerProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, (res: ToolResponse) => void>();
  /** Lines that were not an answer to a request we are waiting on. */
  readonly strayLines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  static async start(
    cwd: string,
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<ToolServerProcess> {
    const child = spawn(process.execPath, [serverScript], {
      cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const server = new ToolServerProcess(child);
    const lines = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) =>
        reject(new Error(`tool server exited with ${code} before ready`)),
      );
      lines.once('line', (line) => {
        if (line === JSON.stringify({ ready: true })) resolve();
        else reject(new Error(`unexpected first line: ${line}`));
      });
    });
    lines.on('line', (line) => server.onLine(line));
    return server;
  }

  private onLine(line: string): void {
    let res: ToolResponse | undefined;
    try {
      res = JSON.parse(line) as ToolResponse;
    } catch {
      res = undefined;
    }
    const resolve = res && typeof res === 'object' ? this.waiting.get(res.id) : undefined;
    if (!res || !resolve) {
      this.strayLines.push(line);
      return;
    }
    this.waiting.delete(res.id);
    resolve(res);
  }

  /** Resolves with the answer carrying `id`, or rejects if the server exits first. */
  answerFor(id: number): Promise<ToolResponse> {
    const answered = new Promise<ToolResponse>((resolve) => this.waiting.set(id, resolve));
    const died = this.exited.then(({ code, signal }) => {
      throw new Error(`tool server exited (${signal ?? code}) without answering ${id}`);
    });
    return Promise.race([answered, died]);
  }

  sendLine(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  call(
    tool: string,
    input: Record<string, unknown>,
    opts: { timeoutMs?: number; maxOutputBytes?: number } = {},
  ): Promise<ToolResponse> {
    const id = this.nextId++;
    const req = {
      id,
      tool: tool as ToolRequest['tool'],
      input,
      timeoutMs: opts.timeoutMs ?? 10_000,
      maxOutputBytes: opts.maxOutputBytes ?? 30_000,
    } satisfies ToolRequest;
    const answer = this.answerFor(id);
    this.sendLine(JSON.stringify(req));
    return answer;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.stdin.end();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
  }
}

/** Whether a process is still running; a zombie (killed, not yet reaped) counts as gone. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('tool server', () => {
  let workdir: string;
  let server: ToolServerProcess;

  beforeEach(async () => {
    workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-cell-'));
    server = await ToolServerProcess.start(workdir);
  });
  afterEach(async () => {
    await server.stop();
    fs.rmSync(workdir, { recursive: true, force: true });
  });

  const write = (rel: string, content: string): void => {
    fs.mkdirSync(path.dirname(path.join(workdir, rel)), { recursive: true });
    fs.writeFileSync(path.join(workdir, rel), content);
  };
  const read = (rel: string): string => fs.readFileSync(path.join(workdir, rel), 'utf8');

  describe('bash', () => {
    it('runs in the working directory and answers ok with the output of exit 0', async () => {
      const res = await server.call('bash', { command: 'echo hello; pwd; echo oops >&2' });
      expect(res.ok).toBe(true);
      expect(res.output).toBe(`hello\n${fs.realpathSync(workdir)}\noops\n`);
    });

    it('answers ok:false with the exit code for a non-zero exit', async () => {
      const res = await server.call('bash', { command: 'echo partial; exit 3' });
      expect(res.ok).toBe(false);
      expect(res.output).toBe('partial\n\n[exit code 3]');
    });

    it('kills the whole process tree on timeout', async () => {
      const res = await server.call(
        'bash',
        { command: 'sleep 1000 & echo "$! $$"; sleep 1000' },
        { timeoutMs: 500 },
      );
      expect(res.ok).toBe(false);
      expect(res.output).toContain(
        '[timed out after 500 ms; the command and its children were killed]',
      );
      const pids = res.output.split('\n')[0]!.split(' ').map(Number);
      expect(pids).toHaveLength(2);
      for (const pid of pids) {
        expect(pid).toBeGreaterThan(1);
        expect(isRunning(pid), `pid ${pid}`).toBe(false);
      }
    });

    it('returns promptly when the command leaves a background process behind', async () => {
      const startedAt = Date.now();
      const res = await server.call(
        'bash',
        { command: 'sleep 1000 & echo "$!"' },
        { timeoutMs: 30_000 },
      );
      expect(res.ok).toBe(true);
      expect(Date.now() - startedAt).toBeLessThan(10_000);
      // Killed with the call: on a loaded machine the signal may take a moment to land.
      await expect.poll(() => isRunning(Number(res.output.trim())), { timeout: 2000 }).toBe(false);
    });

    it('caps the output and says how much was dropped', async () => {
      const res = await server.call(
        'bash',
        { command: "head -c 100000 /dev/zero | tr '\\0' a" },
        { maxOutputBytes: 1000 },
      );
      expect(res.ok).toBe(true);
      const [kept, note] = res.output.split('\n');
      expect(kept).toBe('a'.repeat(1000));
      expect(note).toBe('[output truncated: 99000 bytes dropped]');
    });

    it('does not give commands the protocol stream as stdin', async () => {
      const res = await server.call('bash', { command: 'cat' }, { timeoutMs: 5000 });
      expect(res).toEqual({ id: expect.any(Number), ok: true, output: '' });
      const after = await server.call('bash', { command: 'echo still here' });
      expect(after.output).toBe('still here\n');
    });

    it('answers concurrent requests by id', async () => {
      const slow = server.call('bash', { command: 'sleep 0.3; echo slow' });
      const fast = server.call('bash', { command: 'echo fast' });
      expect((await fast).output).toBe('fast\n');
      expect((await slow).output).toBe('slow\n');
    });
  });

  describe('read_file', () => {
    beforeEach(() => {
      write('notes.txt', Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n'));
    });

    it('numbers every line of a file', async () => {
      const res = await server.call('read_file', { path: 'notes.txt' });
      expect(res.ok).toBe(true);
      const lines = res.output.split('\n');
      expect(lines).toHaveLength(10);
      expect(lines[0]).toBe('     1\tline 1');
      expect(lines[9]).toBe('    10\tline 10');
    });

    it('reads from offset for limit lines and says how many remain', async () => {
      const res = await server.call('read_file', { path: 'notes.txt', offset: 3, limit: 2 });
      expect(res).toMatchObject({
        ok: true,
        output: '     3\tline 3\n     4\tline 4\n[6 more lines; read on with offset]',
      });
    });

    it('reads an absolute path', async () => {
      const res = await server.call('read_file', {
        path: path.join(workdir, 'notes.txt'),
        limit: 1,
      });
      expect(res.output.split('\n')[0]).toBe('     1\tline 1');
    });

    it.each([
      ['a missing file', 'missing.txt', /^no such file or directory: .*missing\.txt$/],
      ['a directory', '.', /is a directory$/],
    ])('answers ok:false for %s', async (_, file, reason) => {
      const res = await server.call('read_file', { path: file });
      expect(res.ok).toBe(false);
      expect(res.output).toMatch(reason);
    });
  });

  describe('write_file', () => {
    it('creates the file and its parent folders', async () => {
      const res = await server.call('write_file', { path: 'a/b/c.txt', content: 'héllo' });
      expect(res.ok).toBe(true);
      expect(res.output).toMatch(/^wrote 6 bytes to .*a\/b\/c\.txt$/);
      expect(read('a/b/c.txt')).toBe('héllo');
    });

    it('replaces an existing file', async () => {
      write('x.txt', 'old content that is longer');
      await server.call('write_file', { path: 'x.txt', content: 'new' });
      expect(read('x.txt')).toBe('new');
    });
  });

  describe('edit_file', () => {
    it.each([
      {
        name: 'replaces a unique occurrence',
        input: { old_string: 'beta', new_string: 'BETA' },
        ok: true,
        output: /replaced 1 occurrence/,
        after: 'alpha BETA gamma\nalpha again',
      },
      {
        name: 'refuses when old_string is not found',
        input: { old_string: 'delta', new_string: 'x' },
        ok: false,
        output: /old_string not found/,
        after: 'alpha beta gamma\nalpha again',
      },
      {
        name: 'refuses an ambiguous old_string without replace_all',
        input: { old_string: 'alpha', new_string: 'x' },
        ok: false,
        output: /old_string occurs 2 times/,
        after: 'alpha beta gamma\nalpha again',
      },
      {
        name: 'replaces every occurrence with replace_all',
        input: { old_string: 'alpha', new_string: '$&-x', replace_all: true },
        ok: true,
        output: /replaced 2 occurrence/,
        after: '$&-x beta gamma\n$&-x again',
      },
    ])('$name', async ({ input, ok, output, after }) => {
      write('doc.txt', 'alpha beta gamma\nalpha again');
      const res = await server.call('edit_file', { path: 'doc.txt', ...input });
      expect(res.ok).toBe(ok);
      expect(res.output).toMatch(output);
      expect(read('doc.txt')).toBe(after);
    });

    it('answers ok:false for a missing file', async () => {
      const res = await server.call('edit_file', {
        path: 'nope.txt',
        old_string: 'a',
        new_string: 'b',
      });
      expect(res.ok).toBe(false);
      expect(res.output).toMatch(/no such file/);
    });
  });

  describe('list_files', () => {
    it('lists recursively, sorted, with folders marked by /', async () => {
      write('b.txt', '');
      write('a/one.txt', '');
      write('a/deep/two.txt', '');
      fs.mkdirSync(path.join(workdir, 'empty'));
      const res = await server.call('list_files', {});
      expect(res).toMatchObject({
        ok: true,
        output: ['a/', 'a/deep/', 'a/deep/two.txt', 'a/one.txt', 'b.txt', 'empty/'].join('\n'),
      });
    });

    it('marks symbolic links with @ and does not follow them', async () => {
      fs.mkdirSync(path.join(workdir, 'real'));
      write('real/inside.txt', '');
      fs.symlinkSync(path.join(workdir, 'real'), path.join(workdir, 'link'));
      const res = await server.call('list_files', {});
      expect(res.output.split('\n')).toEqual(['link@', 'real/', 'real/inside.txt']);
    });

    it('lists a sub-folder relative to itself, and says when it is empty', async () => {
      write('sub/x.txt', '');
      fs.mkdirSync(path.join(workdir, 'void'));
      expect((await server.call('list_files', { path: 'sub' })).output).toBe('x.txt');
      expect((await server.call('list_files', { path: 'void' })).output).toBe('(empty)');
    });
  });

  describe('grep', () => {
    beforeEach(() => {
      write('a.txt', 'Hello world\nnothing here\n');
      write('sub/b.txt', 'hello again\n');
    });

    it('prints file:line:text for every match', async () => {
      const res = await server.call('grep', { pattern: 'hello' });
      expect(res.ok).toBe(true);
      expect(res.output.trim().split('\n')).toEqual([
        `${path.join(workdir, 'sub/b.txt')}:1:hello again`,
      ]);
    });

    it('matches regardless of case with ignore_case', async () => {
      const res = await server.call('grep', { pattern: 'HELLO', ignore_case: true });
      expect(res.output.trim().split('\n').sort()).toEqual([
        `${path.join(workdir, 'a.txt')}:1:Hello world`,
        `${path.join(workdir, 'sub/b.txt')}:1:hello again`,
      ]);
    });

    it('answers ok with "no matches" when nothing matches', async () => {
      expect(await server.call('grep', { pattern: 'absent' })).toMatchObject({
        ok: true,
        output: 'no matches',
      });
    });

    it('treats a pattern that starts with - as a pattern, not an option', async () => {
      write('c.txt', 'a -v flag\n');
      const res = await server.call('grep', { pattern: '-v' });
      expect(res).toMatchObject({
        ok: true,
        output: `${path.join(workdir, 'c.txt')}:1:a -v flag\n`,
      });
    });

    it('answers ok:false when the path does not exist', async () => {
      const res = await server.call('grep', { pattern: 'x', path: 'missing' });
      expect(res.ok).toBe(false);
      expect(res.output).toMatch(/No such file/);
    });
  });

  describe('protocol', () => {
    it('answers a line that is not JSON with id -1 and keeps serving', async () => {
      const answer = server.answerFor(-1);
      server.sendLine('{not json');
      expect(await answer).toEqual({ id: -1, ok: false, output: 'malformed request: not JSON' });
      expect((await server.call('bash', { command: 'echo alive' })).output).toBe('alive\n');
    });

    it('answers a JSON line that is not a request object with id -1 instead of crashing', async () => {
      const answer = server.answerFor(-1);
      server.sendLine('null');
      expect(await answer).toMatchObject({ id: -1, ok: false });
    });

    it('answers an unknown tool with ok:false', async () => {
      expect(await server.call('rm_rf', {})).toMatchObject({
        ok: false,
        output: 'unknown tool: rm_rf',
      });
    });

    it('answers a tool named after an Object.prototype member as unknown', async () => {
      const unknown = server.call('toString', {});
      // A later request that is answered first shows the first one got no answer of its own.
      const later = server.call('bash', { command: 'sleep 0.2' }).then(() => 'no answer');
      expect(await Promise.race([unknown, later])).toEqual({
        id: expect.any(Number),
        ok: false,
        output: 'unknown tool: toString',
      });
    });

    it('exits with code 0 when its stdin closes', async () => {
      server.child.stdin.end();
      expect(await server.exited).toEqual({ code: 0, signal: null });
    });
  });
});

describe('tool server file size cap', () => {
  it('stops a command from writing a file larger than NANOCELL_MAX_FILE_BYTES', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'tool-server-fsize-'));
    const server = await ToolServerProcess.start(cwd, {
      ...process.env,
      NANOCELL_MAX_FILE_BYTES: String(1024 * 1024),
    });
    try {
      const r = await server.call('bash', {
        command:
          'head -c 5M /dev/zero > big.bin; echo "rc=$?"; ulimit -f 999999999 2>&1 || echo raise-refused',
      });
      expect(r.output).not.toContain('rc=0');
      expect(r.output).toContain('raise-refused');
      expect(fs.statSync(path.join(cwd, 'big.bin')).size).toBeLessThanOrEqual(1024 * 1024);
      const small = await server.call('bash', {
        command: 'head -c 1000 /dev/zero > small.bin && echo ok',
      });
      expect(small.output).toBe('ok\n');
    } finally {
      await server.stop();
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });
});
