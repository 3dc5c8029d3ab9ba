import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApprovalStore, type NewApproval } from './approvals.js';
import { Store } from './store.js';

const approval = (code: string, over: Partial<NewApproval> = {}): NewApproval => ({
  code,
  fingerprint: 'fp-1',
  groupName: 'family',
  taskId: null,
  tool: 'bash',
  input: { command: 'ls' },
  createdAt: '2025-03-01T12:00:00.000Z',
  expiresAt: '2025-03-01T12:10:00.000Z',
  ...over,
});

describe('ApprovalStore', () => {
  let store: Store;
  let approvals: ApprovalStore;
  beforeEach(() => {
    store = Store.open(':memory:');
    approvals = new ApprovalStore(store.db);
  });
  afterEach(() => {
    store.close();
  });

  it('refuses a code that is taken instead of throwing', () => {
    expect(approvals.insert(approval('AAAAAA'))?.code).toBe('AAAAAA');
    expect(approvals.insert(approval('AAAAAA', { fingerprint: 'fp-2' }))).toBeUndefined();
  });

  it('consumes the oldest live yes first, each once', () => {
    approvals.insert(approval('AAAAAA'));
    approvals.insert(approval('BBBBBB', { expiresAt: '2025-03-01T12:20:00.000Z' }));
    approvals.answer('AAAAAA', 'approved', '2025-03-01T12:01:00.000Z');
    approvals.answer('BBBBBB', 'approved', '2025-03-01T12:01:00.000Z');
    const now = '2025-03-01T12:02:00.000Z';
    expect(approvals.consume('fp-1', now)?.code).toBe('AAAAAA');
    expect(approvals.consume('fp-1', now)?.code).toBe('BBBBBB');
    expect(approvals.consume('fp-1', now)).toBeUndefined();
  });

  it('only answers a pending approval before it expires', () => {
    approvals.insert(approval('AAAAAA'));
    expect(approvals.answer('AAAAAA', 'approved', '2025-03-01T12:10:00.000Z')).toBeUndefined();
    expect(approvals.answer('AAAAAA', 'denied', '2025-03-01T12:09:59.999Z')?.status).toBe('denied');
    expect(approvals.answer('AAAAAA', 'approved', '2025-03-01T12:09:59.999Z')).toBeUndefined();
  });

  it('lists the pending, unexpired approvals oldest first: not answered or expired ones', () => {
    approvals.insert(approval('AAAAAA'));
    approvals.insert(approval('BBBBBB', { fingerprint: 'fp-2' }));
    approvals.insert(
      approval('CCCCCC', { fingerprint: 'fp-3', expiresAt: '2025-03-01T12:01:00.000Z' }),
    );
    approvals.answer('AAAAAA', 'denied', '2025-03-01T12:01:00.000Z');

    const pending = approvals.pending('2025-03-01T12:02:00.000Z');

    expect(pending.map((a) => [a.code, a.input])).toEqual([['BBBBBB', { command: 'ls' }]]);
  });

  it('forgets expired approvals on request', () => {
    approvals.insert(approval('AAAAAA'));
    approvals.insert(approval('BBBBBB', { expiresAt: '2025-03-02T00:00:00.000Z' }));
    expect(approvals.deleteExpired('2025-03-01T13:00:00.000Z')).toBe(1);
    expect(approvals.byCode('AAAAAA')).toBeUndefined();
    expect(approvals.byCode('BBBBBB')).toBeDefined();
  });
});
