/** What the owner sees happen while the host runs (`start` prints one line per event). */
export type HostEvent =
  | { type: 'run_finished'; group: string; toolCalls: number; source: string }
  | { type: 'run_failed'; group: string; error: string; source: string }
  | { type: 'approval_asked'; group: string; tool: string; code: string }
  | {
      type: 'approval_answered';
      group: string;
      tool: string;
      code: string;
      answer: 'yes' | 'no';
      via: string;
    }
  | { type: 'task_ran'; group: string; taskId: number; ok: boolean; error?: string }
  | { type: 'policy_changed'; file: string }
  | { type: 'error'; message: string };

export type HostEventSink = (event: HostEvent) => void;

const MAX_DETAIL = 200;

function isControl(ch: string): boolean {
  const c = ch.codePointAt(0) ?? 0;
  return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/** One line, no message text (only what happened, where, and why it failed). */
export function formatHostEvent(event: HostEvent, at: Date): string {
  const time = at.toISOString().slice(11, 19);
  const cut = (s: string) => {
    // Control characters (a terminal escape in an error text) become spaces.
    const flat = [...s].map((ch) => (isControl(ch) ? ' ' : ch)).join('');
    return flat.length > MAX_DETAIL ? `${flat.slice(0, MAX_DETAIL)}…` : flat;
  };
  switch (event.type) {
    case 'run_finished':
      return `${time} run finished: ${event.group} (${event.source}, ${event.toolCalls} tool call${event.toolCalls === 1 ? '' : 's'})`;
    case 'run_failed':
      return `${time} run failed: ${event.group} (${event.source}): ${cut(event.error)}`;
    case 'approval_asked':
      return `${time} approval asked: ${event.group} wants ${event.tool} (code ${event.code})`;
    case 'approval_answered':
      return `${time} approval answered: ${event.answer} ${event.code} for ${event.group} ${event.tool} (from ${event.via})`;
    case 'task_ran':
      return event.ok
        ? `${time} task #${event.taskId} ran: ${event.group}`
        : `${time} task #${event.taskId} failed: ${event.group}: ${cut(event.error ?? 'unknown error')}`;
    case 'policy_changed':
      return `${time} policy changed: ${cut(event.file)} (audited)`;
    case 'error':
      return `${time} error: ${cut(event.message)}`;
  }
}

/** Fans each event out to its listeners (the `start` printer, tests). */
export class HostEvents {
  private readonly listeners: HostEventSink[] = [];

  on(listener: HostEventSink): void {
    this.listeners.push(listener);
  }

  readonly emit: HostEventSink = (event) => {
    for (const listener of this.listeners) listener(event);
  };
}
