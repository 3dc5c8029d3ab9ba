import { GrammyError, type Api } from 'grammy';
import type { Logger } from 'pino';
import type { Clock } from '../../cells/clock.js';
import type { OffsetFile } from './telegram-offset.js';
import { safeProblem } from './telegram-problem.js';
import { wait } from './telegram-retry.js';
import { apiSignal } from './telegram-signal.js';
import {
  parseUpdate,
  updateIdOf,
  type TelegramInbound,
  type UpdateLimits,
} from './telegram-update.js';

/** An update whose handling fails is tried this often before the sender is told to resend. */
const MAX_ATTEMPTS = 3;
const BACKOFF_MS = [1000, 2000, 5000, 10_000, 30_000];

export interface PollDeps {
  api: Api;
  /** Aborted by stop: the poll in flight and any wait end. */
  signal: AbortSignal;
  offsets: OffsetFile;
  botId: number;
  /** The first update not taken in yet, as saved; undefined: where Telegram is. */
  next: number | undefined;
  clock: Clock;
  log: Logger;
  token: string;
  pollSeconds: number;
  limits: UpdateLimits;
  /** Takes one message or press in; rejects (to be tried again) while the host lacks it. */
  handle(inbound: Exclude<TelegramInbound, { kind: 'skip' }>): Promise<void>;
}

/**
 * Long polling until the signal aborts. Updates are taken one at a time, in order; after each
 * is taken (or skipped) the offset moves past it and is saved, so the next getUpdates confirms
 * it to Telegram and a restart resumes after it. A failing update is tried again with backoff,
 * then given up with a word to its sender, so one bad update never blocks the chat for good.
 */
export async function pollUpdates(deps: PollDeps): Promise<void> {
  const { log, token, signal } = deps;
  const state = { next: deps.next, failed: null as { updateId: number; attempts: number } | null };
  let failures = 0;
  while (!signal.aborted) {
    let batch: unknown;
    try {
      batch = await deps.api.getUpdates(
        {
          offset: state.next,
          timeout: deps.pollSeconds,
          allowed_updates: ['message', 'callback_query'],
        },
        apiSignal(signal),
      );
    } catch (err) {
      if (signal.aborted) return;
      failures++;
      const conflict = err instanceof GrammyError && err.error_code === 409;
      log.warn(
        { problem: safeProblem(err, token), attempt: failures },
        conflict
          ? 'telegram poll refused: another process polls this bot token (stop it, or use another bot)'
          : 'telegram poll failed; trying again',
      );
      await pause(deps, failures);
      continue;
    }
    failures = 0;
    if (!Array.isArray(batch)) {
      log.warn('telegram getUpdates answered something that is not a list; trying again');
      await pause(deps, 1);
      continue;
    }
    const before = state.next;
    let retry = false;
    for (const raw of batch) {
      if (signal.aborted) return;
      retry = !(await take(deps, state, raw));
      if (retry) break;
    }
    if (retry) await pause(deps, state.failed?.attempts ?? 1);
    // A batch of updates without a usable id would come back at once, forever.
    else if (batch.length > 0 && state.next === before) await pause(deps, 1);
  }
}

type PollState = {
  next: number | undefined;
  failed: { updateId: number; attempts: number } | null;
};

/** One update: true when it is done with (taken or skipped), false to try it again. */
async function take(deps: PollDeps, state: PollState, raw: unknown): Promise<boolean> {
  const { log, token } = deps;
  const updateId = updateIdOf(raw);
  if (updateId === null) {
    log.warn('telegram update without an update id skipped');
    return true;
  }
  if (state.next !== undefined && updateId < state.next) return true;
  const inbound = parseUpdate(raw, deps.limits);
  try {
    if (inbound.kind === 'skip') {
      const level = inbound.reason.startsWith('malformed') ? 'warn' : 'debug';
      log[level]({ updateId, reason: inbound.reason }, 'telegram update skipped');
    } else await deps.handle(inbound);
  } catch (err) {
    if (deps.signal.aborted) return false;
    const attempts = state.failed?.updateId === updateId ? state.failed.attempts + 1 : 1;
    const problem = safeProblem(err, token);
    if (attempts < MAX_ATTEMPTS) {
      state.failed = { updateId, attempts };
      log.error(
        { updateId, attempt: attempts, problem },
        'telegram update not taken in; trying again',
      );
      return false;
    }
    log.error({ updateId, problem }, 'telegram update not taken in; giving up on it');
    if (inbound.kind === 'message') {
      await deps.api
        .sendMessage(
          inbound.chatId,
          'Sorry, this message could not be taken in. Please send it again.',
          {},
          apiSignal(deps.signal),
        )
        .catch((e: unknown) =>
          log.warn({ problem: safeProblem(e, token) }, 'telegram failure notice not sent'),
        );
    }
  }
  state.failed = null;
  state.next = updateId + 1;
  try {
    deps.offsets.write(deps.botId, state.next);
  } catch (err) {
    // Telegram is told at the next poll all the same; only a crash before it would replay.
    log.error({ err }, 'telegram offset not saved');
  }
  return true;
}

async function pause(deps: PollDeps, attempt: number): Promise<void> {
  const ms = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length) - 1]!;
  // Rejects only when the channel stops; the loop sees the abort and ends.
  await wait(deps.clock, ms, deps.signal).catch(() => undefined);
}
