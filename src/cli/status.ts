import fs from 'node:fs';
import type { Base } from '../app.js';
import { escapeForTerminal } from '../channels/terminal-escape.js';
import { describeSchedule } from '../scheduler/schedule.js';
import { hostFile, webToken, type HostInfo } from './start.js';

/** `status`: groups, the running host's live cells and queue, and the next task runs. */
export async function statusCommand(base: Base, out: NodeJS.WritableStream): Promise<number> {
  const { store, config } = base;
  out.write(`home: ${config.home}\n`);
  const host = readHost(config.home);
  if (host) {
    try {
      const res = await fetch(`${host.url}api/status`, {
        headers: { authorization: `Bearer ${webToken(config.home)}` },
        signal: AbortSignal.timeout(3000),
      });
      const s = (await res.json()) as {
        runtime: string;
        liveCells: number;
        queue: { running: number; waiting: number };
        outboxPending: number;
      };
      out.write(
        `host: running (pid ${host.pid}, since ${host.startedAt}, ${host.url}), cells: ${s.runtime}\n` +
          `live cells: ${s.liveCells}; runs: ${s.queue.running} running, ${s.queue.waiting} waiting; outbox: ${s.outboxPending} pending\n`,
      );
    } catch (err) {
      out.write(`host: pid ${host.pid} listed but not answering (${(err as Error).message})\n`);
    }
  } else {
    out.write('host: not running (start it with ./nanocell start)\n');
  }
  out.write('groups:\n');
  for (const g of store.groups.list()) {
    const pending = store.messages
      .pendingFor(g.id, g.cursorMessageId)
      .filter((m) => m.triggered).length;
    out.write(`  ${g.name}${g.isAdmin ? ' (admin)' : ''}: ${pending} message(s) waiting\n`);
  }
  const upcoming = store.tasks.upcoming(10);
  out.write(upcoming.length ? 'next task runs:\n' : 'next task runs: none\n');
  for (const t of upcoming) {
    const group = store.groups.byId(t.groupId)?.name ?? `#${t.groupId}`;
    // The prompt may come from a model: one line, no control sequences.
    const line = `  ${t.nextRunAt}  #${t.id} [${group}] ${describeSchedule(t.schedule)}: ${t.prompt.slice(0, 60)}`;
    out.write(`${escapeForTerminal(line, { singleLine: true })}\n`);
  }
  return 0;
}

function readHost(home: string): HostInfo | undefined {
  try {
    const info = JSON.parse(fs.readFileSync(hostFile(home), 'utf8')) as HostInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}
