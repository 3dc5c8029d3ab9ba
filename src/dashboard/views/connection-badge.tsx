import type { ConnectionState } from '../live-events.js';

const LABELS: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  live: 'Connected',
  offline: 'Offline: the host is not answering',
};

export function ConnectionBadge({ state }: { state: ConnectionState }) {
  return (
    <span class={`connection ${state}`} role="status" aria-live="polite">
      <span class="dot" aria-hidden="true" />
      {LABELS[state]}
    </span>
  );
}
