import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApprovalStore } from '../store/approvals.js';
import { Store } from '../store/store.js';
import {
  APPROVAL_CODE_ALPHABET,
  APPROVAL_CODE_LENGTH,
  ApprovalCodeError,
  Approvals,
  randomApprovalCode,
  type ApprovalRequest,
} from './approvals.js';
import { callFingerprint } from './fingerprint.js';

const T0 = new Date('2025-03-01T12:00:00.000Z');
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);

const request: ApprovalRequest = {
  groupName: 'family',
  tool: 'bash',
  input: { command: 'rm -rf build' },
  taskId: '7',
};
const fp = callFingerprint(request);

/** A clock the test moves by hand. */
class FakeClock {
  constructor(public now: Date) {}
  readonly read = (): Date => this.now;
}

describe('Approvals', () => {
  let store: Store;
  let clock: FakeClock;
  let approvals: Approvals;
  beforeEach(() => {
    store = Store.open(':memory:');
    clock = new FakeClock(T0);
    approvals = new Approvals({ store: new ApprovalStore(store.db), clock: clock.read });
  });
  afterEach(() => {
    store.close();
  });

  it('creates a pending approval with a short, unambiguous code, expiring after 10 minutes', () => {
    const { approval, created } = approvals.requestApproval(request);
    expect(created).toBe(true);
    expect(approval.code).toMatch(
      new RegExp(`^[${APPROVAL_CODE_ALPHABET}]{${APPROVAL_CODE_LENGTH}}$`),
    );
    expect(approval).toMatchObject({
      fingerprint: fp,
      groupName: 'family',
      taskId: '7',
      tool: 'bash',
      input: { command: 'rm -rf build' },
      status: 'pending',
      createdAt: T0.toISOString(),
      expiresAt: at(10).toISOString(),
    });
  });

  it('asks once while a question about the same call is pending', () => {
    const first = approvals.requestApproval(request);
    clock.now = at(3);
    const again = approvals.requestApproval({ ...request, input: { command: 'rm -rf build' } });
    expect(again).toEqual({ approval: first.approval, created: false });
    const other = approvals.requestApproval({ ...request, input: { command: 'rm -rf dist' } });
    expect(other.created).toBe(true);
  });

  it('grants a yes exactly once', () => {
    const { approval } = approvals.requestApproval(request);
    expect(approvals.answer(approval.code, 'yes', at(1))).toMatchObject({
      ok: true,
      approval: { status: 'approved', answeredAt: at(1).toISOString() },
    });
    expect(approvals.consume(fp, at(2))).toMatchObject({
      granted: true,
      approval: { consumedAt: at(2).toISOString() },
    });
    expect(approvals.consume(fp, at(2))).toMatchObject({ granted: false, state: 'used' });
  });

  it('does not grant a different input, group or tool', () => {
    const { approval } = approvals.requestApproval(request);
    approvals.answer(approval.code, 'yes', at(1));
    for (const other of [
      { ...request, input: { command: 'rm -rf /' } },
      { ...request, groupName: 'work' },
      { ...request, tool: 'write_file' },
    ]) {
      expect(approvals.consume(callFingerprint(other), at(2))).toMatchObject({
        granted: false,
        state: 'none',
      });
    }
    expect(approvals.consume(fp, at(2)).granted).toBe(true);
  });

  it.each<[string, (code: string) => void, string, RegExp]>([
    ['before any answer', () => undefined, 'pending', /waiting for the owner/],
    ['after a no', (code) => approvals.answer(code, 'no', at(1)), 'denied', /refused/],
  ])('refuses %s', (_name, act, state, reason) => {
    const { approval } = approvals.requestApproval(request);
    act(approval.code);
    expect(approvals.consume(fp, at(2))).toMatchObject({
      granted: false,
      state,
      reason: expect.stringMatching(reason),
    });
  });

  it('treats expiry as a denial, answered or not', () => {
    const unanswered = approvals.requestApproval(request).approval;
    expect(approvals.consume(fp, at(10))).toMatchObject({
      granted: false,
      state: 'expired',
      reason: expect.stringMatching(/did not answer in time/),
    });
    expect(approvals.answer(unanswered.code, 'yes', at(10))).toEqual({
      ok: false,
      reason: expect.stringMatching(/expired .* counts as a no/),
    });

    clock.now = at(20);
    const answered = approvals.requestApproval(request);
    expect(answered.created).toBe(true);
    approvals.answer(answered.approval.code, 'yes', at(21));
    expect(approvals.consume(fp, at(30))).toMatchObject({ granted: false, state: 'expired' });
  });

  it('accepts a code in any case and with spaces', () => {
    const { approval } = approvals.requestApproval(request);
    expect(approvals.answer(` ${approval.code.toLowerCase()} `, 'yes', at(1)).ok).toBe(true);
  });

  it.each<[string, string, RegExp]>([
    ['an unknown code', 'ZZZZZZ', /no approval with code ZZZZZZ/],
    ['a code answered before', 'first', /already answered \(no\)/],
  ])('rejects an answer to %s', (_name, which, reason) => {
    const { approval } = approvals.requestApproval(request);
    approvals.answer(approval.code, 'no', at(1));
    const code = which === 'first' ? approval.code : which;
    expect(approvals.answer(code, 'yes', at(2))).toEqual({
      ok: false,
      reason: expect.stringMatching(reason),
    });
    expect(approvals.consume(fp, at(2)).granted).toBe(false);
  });

  it('draws another code when one is taken, and fails loudly when none can be drawn', () => {
    const codes = ['AAAAAA', 'AAAAAA', 'BBBBBB'];
    const drawing = new Approvals({
      store: new ApprovalStore(store.db),
      clock: clock.read,
      newCode: () => codes.shift() ?? 'AAAAAA',
    });
    expect(drawing.requestApproval(request).approval.code).toBe('AAAAAA');
    expect(drawing.requestApproval({ ...request, tool: 'grep' }).approval.code).toBe('BBBBBB');
    expect(() => drawing.requestApproval({ ...request, tool: 'edit_file' })).toThrow(
      ApprovalCodeError,
    );
  });

  it('honours a configured lifetime', () => {
    const short = new Approvals({
      store: new ApprovalStore(store.db),
      clock: clock.read,
      ttlMs: 60_000,
    });
    expect(short.requestApproval(request).approval.expiresAt).toBe(at(1).toISOString());
  });

  it('wakes a waiter when the owner answers, and lets a signal end the wait', async () => {
    const { approval } = approvals.requestApproval(request);
    const waiting = approvals.waitForAnswer(approval.code);
    approvals.answer(approval.code, 'yes', at(1));
    await expect(waiting).resolves.toBe('answered');
    await expect(approvals.waitForAnswer(approval.code)).resolves.toBe('answered');

    const other = approvals.requestApproval({ ...request, tool: 'grep' }).approval;
    const controller = new AbortController();
    const aborted = approvals.waitForAnswer(other.code, controller.signal);
    controller.abort();
    await expect(aborted).resolves.toBe('aborted');
  });

  it('randomApprovalCode draws from the alphabet', () => {
    for (let i = 0; i < 50; i++) {
      expect(randomApprovalCode()).toMatch(/^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{6}$/);
    }
  });
});

describe('Approvals on a database file', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-approvals-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps questions, answers and uses across a restart', () => {
    const file = path.join(dir, 'nanocell.db');
    const open = (): { store: Store; approvals: Approvals } => {
      const store = Store.open(file);
      return {
        store,
        approvals: new Approvals({ store: new ApprovalStore(store.db), clock: () => T0 }),
      };
    };

    const first = open();
    const { approval } = first.approvals.requestApproval(request);
    first.store.close();

    const second = open();
    expect(second.approvals.answer(approval.code, 'yes', at(1)).ok).toBe(true);
    second.store.close();

    const third = open();
    expect(third.approvals.consume(fp, at(2)).granted).toBe(true);
    third.store.close();

    const fourth = open();
    expect(fourth.approvals.consume(fp, at(3))).toMatchObject({ granted: false, state: 'used' });
    fourth.store.close();
  });
});
