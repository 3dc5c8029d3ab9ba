import { ControlClient } from './control-client.js';
import { DataDirLock, type LockHolder } from './data-dir-lock.js';

export type Ownership =
  | { kind: 'own'; lock: DataDirLock }
  | { kind: 'client'; client: ControlClient }
  | { kind: 'busy'; holder: LockHolder | undefined };

export interface OwnershipOptions {
  /** How long to wait for a holder that is starting up (or a short command) to answer. */
  waitMs: number;
  /** Pause between tries while waiting. */
  retryMs: number;
}

/**
 * Who a command talks to: the data dir itself (it took the lock, so nobody else writes) or
 * the owner over its control socket. A holder that does not answer yet — a host still
 * starting, a short store command — is waited for, up to `waitMs`.
 */
export async function ownDataDir(
  home: string,
  command: string,
  options: OwnershipOptions = { waitMs: 30_000, retryMs: 100 },
): Promise<Ownership> {
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    const locked = await DataDirLock.acquire(home, command);
    if (locked.ok) return { kind: 'own', lock: locked.lock };
    const client = await ControlClient.connect(home);
    if (client) return { kind: 'client', client };
    if (Date.now() >= deadline) return { kind: 'busy', holder: locked.holder };
    await new Promise((resolve) => setTimeout(resolve, options.retryMs));
  }
}

/** Why a command could not reach the data dir's owner, and what to do. */
export function busyMessage(home: string, holder: LockHolder | undefined): string {
  const who = holder
    ? `nanocell ${holder.command} (pid ${holder.pid})`
    : 'another nanocell process';
  return `${who} holds the data dir ${home} but does not answer on its control socket; wait for it to finish, or stop it and try again`;
}

/** Why `start` refuses: the data dir has an owner already. */
export function alreadyRunningMessage(home: string, holder: LockHolder | undefined): string {
  if (holder?.command === 'start') {
    return `nanocell is already running (pid ${holder.pid}${holder.url ? `, ${holder.url}` : ''}); use it, or stop it first (kill -TERM ${holder.pid})`;
  }
  if (holder) {
    return `nanocell ${holder.command} (pid ${holder.pid}) is using the data dir ${home}; quit it first, then start the host`;
  }
  return `another nanocell process is using the data dir ${home}; stop it first, then start the host`;
}
