import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { CLI, REPO_ROOT, cliEnv } from './run-cli.js';

export interface HostProcess {
  child: ChildProcess;
  url: string;
  token: string;
  /** Lines the host printed on stderr (for failure messages). */
  stderr: () => string;
  /** Lines the host printed on stdout (its event lines). */
  stdoutLines: () => string[];
  /** Resolves with the first stdout line (seen or to come) matching `pattern`. */
  waitForLine: (pattern: RegExp, timeoutMs?: number) => Promise<string>;
  post(chatId: string, text: string, senderName?: string): Promise<Response>;
  messages(
    chatId: string,
    after?: number,
  ): Promise<Array<{ id: number; direction: string; text: string; senderName: string }>>;
  /**
   * The first reply stored in `chatId` after message `afterId`. For a host that answers as it
   * starts (a turn resumed after a crash), before an event stream could connect.
   */
  storedReply(chatId: string, afterId?: number, timeoutMs?: number): Promise<string>;
  /**
   * Subscribe to the host's delivery events; `next(chatId)` resolves with the next reply
   * delivered to that chat (the published signal, not a timer).
   */
  subscribe(): Promise<{
    next: (chatId: string, timeoutMs?: number) => Promise<string>;
    close: () => void;
  }>;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Start `./nanocell start` as a real process and wait for its readiness line (the web chat
 * address), not for time to pass.
 */
export async function startHost(
  env: Record<string, string>,
  args: string[] = ['start'],
): Promise<HostProcess> {
  const child = spawn(CLI, args, {
    cwd: REPO_ROOT,
    env: cliEnv({ NANOCELL_WEB_PORT: '0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = readline.createInterface({ input: child.stdout! });
  const printed: string[] = [];
  const lineWaiters = new Set<() => void>();
  lines.on('line', (line) => {
    printed.push(line);
    for (const w of [...lineWaiters]) w();
  });
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`host did not start: ${stderr}`)), 60_000);
    lines.on('line', (line) => {
      const m = /Web chat: (\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`host exited with ${code} before it was ready: ${stderr}`));
    });
  });
  const url = new URL(ready);
  const token = url.searchParams.get('token')!;
  const base = `${url.origin}/`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  return {
    child,
    url: base,
    token,
    stderr: () => stderr,
    stdoutLines: () => [...printed],
    waitForLine: (pattern, timeoutMs = 60_000) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          lineWaiters.delete(check);
          reject(new Error(`host printed no ${pattern} in ${timeoutMs} ms: ${printed.join('\n')}`));
        }, timeoutMs);
        const check = () => {
          const hit = printed.find((l) => pattern.test(l));
          if (hit === undefined) return;
          clearTimeout(timer);
          lineWaiters.delete(check);
          resolve(hit);
        };
        lineWaiters.add(check);
        check();
      }),
    post: (chatId, text, senderName) =>
      fetch(`${base}api/chats/${chatId}/messages`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ text, ...(senderName ? { senderName } : {}) }),
      }),
    messages: async (chatId, after = 0) => {
      const res = await fetch(`${base}api/chats/${chatId}/messages?after=${after}`, { headers });
      return ((await res.json()) as { messages: never[] }).messages;
    },
    storedReply: async (chatId, afterId = 0, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await fetch(`${base}api/chats/${chatId}/messages?after=${afterId}`, {
          headers,
        });
        const { messages } = (await res.json()) as {
          messages: Array<{ direction: string; text: string }>;
        };
        const reply = messages.find((m) => m.direction === 'out');
        if (reply) return reply.text;
        if (Date.now() > deadline) {
          throw new Error(`no reply stored in ${chatId} within ${timeoutMs} ms: ${stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    subscribe: async () => {
      const controller = new AbortController();
      const res = await fetch(`${base}api/events`, { headers, signal: controller.signal });
      const queue: Array<{ chatId: string; text: string }> = [];
      const waiters: Array<() => void> = [];
      void (async () => {
        const decoder = new TextDecoder();
        let buffer = '';
        try {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            buffer += decoder.decode(chunk, { stream: true });
            let cut;
            while ((cut = buffer.indexOf('\n\n')) >= 0) {
              const event = buffer.slice(0, cut);
              buffer = buffer.slice(cut + 2);
              const data = /^data: (.*)$/m.exec(event)?.[1];
              // Deliveries only: "edit" and "typing" events are not new replies.
              const kind = /^event: (.*)$/m.exec(event)?.[1] ?? 'message';
              if (data && kind === 'message') {
                queue.push(JSON.parse(data) as { chatId: string; text: string });
                for (const w of waiters.splice(0)) w();
              }
            }
          }
        } catch {
          // Aborted by close(), or the host went away.
        }
      })();
      const next = async (chatId: string, timeoutMs = 60_000): Promise<string> => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const i = queue.findIndex((e) => e.chatId === chatId);
          if (i >= 0) return queue.splice(i, 1)[0]!.text;
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`no reply to ${chatId} within ${timeoutMs} ms: ${stderr}`);
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, left);
            waiters.push(() => {
              clearTimeout(t);
              resolve();
            });
          });
        }
      };
      return { next, close: () => controller.abort() };
    },
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export function hostJson(home: string): { pid: number } | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(home, 'host.json'), 'utf8')) as { pid: number };
  } catch {
    return undefined;
  }
}
