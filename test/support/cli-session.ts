import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { CLI, REPO_ROOT, cliEnv } from './run-cli.js';

/** A long-lived `./nanocell ARGS` (e.g. `chat`) whose stdin the test types into. */
export interface CliSession {
  child: ChildProcess;
  /** Every stdout line so far. */
  lines: () => string[];
  stderr: () => string;
  /** Resolves with the first stdout line (already seen or still to come) matching `pattern`. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<string>;
  type: (line: string) => void;
  exited: Promise<number | null>;
  /** Ends stdin (as Ctrl-D would) and waits for the exit. */
  close: () => Promise<number | null>;
}

export function startCliSession(args: string[], env: Record<string, string>): CliSession {
  const child = spawn(CLI, args, {
    cwd: REPO_ROOT,
    env: cliEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const seen: string[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  // The prompt `you> ` has no newline; it is stripped so replies start their own lines.
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    seen.push(line.replace(/^(you> )+/, ''));
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  void exited.then(() => {
    for (const w of [...waiters]) w();
  });
  const waitFor = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<string>((resolve, reject) => {
      let from = 0;
      const check = () => {
        for (; from < seen.length; from++) {
          if (pattern.test(seen[from]!)) {
            done();
            return resolve(seen[from]!);
          }
        }
        if (child.exitCode !== null) {
          done();
          reject(new Error(`exited before ${pattern}: ${seen.join('\n')}\n${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(`no line ${pattern} within ${timeoutMs} ms: ${seen.join('\n')}\n${stderr}`),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return {
    child,
    lines: () => [...seen],
    stderr: () => stderr,
    waitFor,
    type: (line) => child.stdin!.write(`${line}\n`),
    exited,
    close: async () => {
      child.stdin!.end();
      return exited;
    },
  };
}
