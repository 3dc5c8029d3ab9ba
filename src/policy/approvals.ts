import crypto from 'node:crypto';
import type { Approval, ApprovalStore } from '../store/approvals.js';
import { callFingerprint } from './fingerprint.js';

/** No 0/O, 1/I/L: codes are read on a phone and typed back by hand. */
export const APPROVAL_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const APPROVAL_CODE_LENGTH = 6;
export const DEFAULT_APPROVAL_TTL_MS = 10 * 60_000;

export interface ApprovalRequest {
  groupName: string;
  tool: string;
  input: Record<string, unknown>;
  taskId?: string;
}

export type AnswerResult = { ok: true; approval: Approval } | { ok: false; reason: string };

/**
 * `none`, `expired` and `used` mean the call may be asked about again; while `pending` the
 * owner has the question already; after `denied` the same call is refused until that
 * answer expires, so an agent cannot pester the owner by retrying.
 */
export type ConsumeResult =
  | { granted: true; approval: Approval }
  | {
      granted: false;
      state: 'none' | 'pending' | 'denied' | 'expired' | 'used';
      reason: string;
    };

export class ApprovalCodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApprovalCodeError';
  }
}

export interface ApprovalsOptions {
  store: ApprovalStore;
  clock?: () => Date;
  ttlMs?: number;
  /** Draws one candidate code; by default crypto-random over APPROVAL_CODE_ALPHABET. */
  newCode?: () => string;
}

export function randomApprovalCode(): string {
  let code = '';
  for (let i = 0; i < APPROVAL_CODE_LENGTH; i++) {
    code += APPROVAL_CODE_ALPHABET[crypto.randomInt(APPROVAL_CODE_ALPHABET.length)];
  }
  return code;
}

/**
 * The owner's say over `ask` calls: a single-use approval per exact call, answered in chat
 * with a short code, expiring as a denial. State lives in the store; only waiters for an
 * answer live here, so a restart loses nothing but the waiting.
 */
export class Approvals {
  private readonly store: ApprovalStore;
  private readonly clock: () => Date;
  private readonly newCode: () => string;
  readonly ttlMs: number;
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(options: ApprovalsOptions) {
    this.store = options.store;
    this.clock = options.clock ?? (() => new Date());
    this.ttlMs = options.ttlMs ?? DEFAULT_APPROVAL_TTL_MS;
    this.newCode = options.newCode ?? randomApprovalCode;
  }

  /**
   * Ask the owner about a call. While a question about the same exact call is pending,
   * returns that one (`created: false`), so the owner is asked once, not once per retry.
   */
  requestApproval(request: ApprovalRequest): { approval: Approval; created: boolean } {
    const now = this.clock();
    const fingerprint = callFingerprint(request);
    const pending = this.store.pendingFor(fingerprint, now.toISOString());
    if (pending) return { approval: pending, created: false };
    for (let attempt = 0; attempt < 20; attempt++) {
      const approval = this.store.insert({
        code: this.newCode(),
        fingerprint,
        groupName: request.groupName,
        taskId: request.taskId ?? null,
        tool: request.tool,
        input: request.input,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + this.ttlMs).toISOString(),
      });
      if (approval) return { approval, created: true };
    }
    throw new ApprovalCodeError('could not draw an unused approval code in 20 attempts');
  }

  /** Record the owner's `yes`/`no`. Only the owner may answer: the caller checks who spoke. */
  answer(code: string, answer: 'yes' | 'no', now: Date = this.clock()): AnswerResult {
    const normalised = code.trim().toUpperCase();
    const updated = this.store.answer(
      normalised,
      answer === 'yes' ? 'approved' : 'denied',
      now.toISOString(),
    );
    if (updated) {
      this.notify(normalised);
      return { ok: true, approval: updated };
    }
    const existing = this.store.byCode(normalised);
    if (!existing) {
      return {
        ok: false,
        reason: `there is no approval with code ${normalised}; check the code in the request`,
      };
    }
    if (existing.status !== 'pending') {
      const said = existing.status === 'approved' ? 'yes' : 'no';
      return { ok: false, reason: `approval ${normalised} was already answered (${said})` };
    }
    return {
      ok: false,
      reason: `approval ${normalised} expired at ${existing.expiresAt} and counts as a no; the agent may ask again`,
    };
  }

  /** Use the owner's yes for this exact call, once. Anything else is a refusal, with why. */
  consume(fingerprint: string, now: Date = this.clock()): ConsumeResult {
    const at = now.toISOString();
    const approval = this.store.consume(fingerprint, at);
    if (approval) return { granted: true, approval };
    const latest = this.store.latestFor(fingerprint);
    if (!latest) {
      return { granted: false, state: 'none', reason: "this call needs the owner's approval" };
    }
    if (latest.expiresAt <= at) {
      const reason =
        latest.status === 'pending'
          ? 'the owner did not answer in time, so the call was refused'
          : "the owner's answer has expired";
      return { granted: false, state: 'expired', reason };
    }
    if (latest.status === 'denied') {
      return { granted: false, state: 'denied', reason: 'the owner refused this call' };
    }
    if (latest.status === 'pending') {
      return { granted: false, state: 'pending', reason: "waiting for the owner's answer" };
    }
    return {
      granted: false,
      state: 'used',
      reason: 'the approval for this call was already used; each approval allows one call',
    };
  }

  /**
   * Resolves once the approval with `code` has been answered (at once if it already is), or
   * with 'aborted' when `signal` fires. Pass a signal that fires at `expiresAt`.
   */
  waitForAnswer(code: string, signal?: AbortSignal): Promise<'answered' | 'aborted'> {
    const normalised = code.trim().toUpperCase();
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve('aborted');
      const current = this.store.byCode(normalised);
      if (current && current.status !== 'pending') return resolve('answered');
      const listeners = this.waiters.get(normalised) ?? new Set<() => void>();
      this.waiters.set(normalised, listeners);
      const done = (outcome: 'answered' | 'aborted') => {
        listeners.delete(onAnswer);
        if (listeners.size === 0) this.waiters.delete(normalised);
        signal?.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const onAnswer = () => done('answered');
      const onAbort = () => done('aborted');
      listeners.add(onAnswer);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private notify(code: string): void {
    for (const listener of [...(this.waiters.get(code) ?? [])]) listener();
  }
}
