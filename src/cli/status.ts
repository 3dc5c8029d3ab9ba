import type { Base } from '../app.js';
import { escapeForTerminal } from '../channels/terminal-escape.js';
import { describeSchedule } from '../scheduler/schedule.js';
import type { CliCommand, LiveHost, TextOut } from './command.js';

const USAGE = `usage: nanocell status
  The data dir, who owns it (the running host, its live cells, queue and outbox), the groups
  with messages waiting, and the next task runs.
`;

/** `status`: run by the process that owns the data dir, so what it says about itself is live. */
export function statusCommand(base: Base, out: TextOut, live: LiveHost | undefined): number {
  const { store, config } = base;
  out.write(`home: ${config.home}\n`);
  if (live) {
    const what = live.command === 'start' ? 'running' : `held by a stand-alone \`${live.command}\``;
    out.write(
      `host: ${what} (pid ${live.pid}, since ${live.startedAt}${live.url ? `, ${live.url}` : ''}), cells: ${live.runtime}\n` +
        `live cells: ${live.liveCells}; runs: ${live.queue.running} running, ${live.queue.waiting} waiting; outbox: ${live.outboxPending} pending\n`,
    );
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

export const statusCli: CliCommand = {
  name: 'status',
  summary: 'the running host, its live cells and queue, groups, the next task runs',
  usage: USAGE,
  needs: 'store',
  run(args, { base, out, err, live }) {
    if (args.length > 0) {
      err.write(`nanocell: status takes no arguments (got "${args.join(' ')}")\n${USAGE}`);
      return 2;
    }
    return statusCommand(base, out, live);
  },
};
