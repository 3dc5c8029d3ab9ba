import type { TurnEvent } from '../agent/agent-loop.js';
import type { RunContext } from '../run/run.js';

/**
 * A run's events (text deltas, tools starting and ending) to whoever watches that group now:
 * the terminal chats stream a reply as it is written. Listeners must not throw.
 */
export class RunEventRelay {
  private readonly listeners = new Map<number, Set<(event: TurnEvent) => void>>();
  private readonly everyRun = new Set<(ctx: RunContext, event: TurnEvent) => void>();

  emit(ctx: RunContext, event: TurnEvent): void {
    for (const listener of this.listeners.get(ctx.group.id) ?? []) listener(event);
    for (const listener of this.everyRun) listener(ctx, event);
  }

  /** Every group's runs (the owner's dashboard). Returns the unsubscribe. */
  watchAll(listener: (ctx: RunContext, event: TurnEvent) => void): () => void {
    this.everyRun.add(listener);
    return () => this.everyRun.delete(listener);
  }

  /** Returns the unsubscribe. */
  watch(groupId: number, listener: (event: TurnEvent) => void): () => void {
    const set = this.listeners.get(groupId) ?? new Set();
    set.add(listener);
    this.listeners.set(groupId, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(groupId);
    };
  }
}
