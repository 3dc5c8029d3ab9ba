import { describe, expect, it } from 'vitest';
import type { Mount } from '../cells/cell-runtime.js';
import { egressGuard } from './egress-guard.js';
import { untrustedSourceOf } from './message-source.js';
import { taint, TRUSTED } from './provenance.js';
import { isSinkCall } from './tool-sink.js';

const owner = (channel: string, sender: string) => channel === 'telegram' && sender === '42';

describe('untrustedSourceOf', () => {
  it("trusts the owner's own surfaces and paired accounts, nobody else, and never mail", () => {
    const m = (channel: string, sender: string) =>
      untrustedSourceOf({ channel, sender, senderName: 'Bob' }, owner);
    expect(m('terminal', 'owner')).toBeUndefined();
    expect(m('web', 'web:owner')).toBeUndefined();
    expect(m('telegram', '42')).toBeUndefined();
    expect(m('web', 'web-link:abc')).toEqual({ kind: 'chat-message', detail: 'Bob on web' });
    expect(m('telegram', '77')).toEqual({ kind: 'chat-message', detail: 'Bob on telegram' });
    expect(m('email', 'bob@example.com')).toEqual({ kind: 'email', detail: 'bob@example.com' });
  });
});

describe('isSinkCall', () => {
  const rw: Mount[] = [
    { hostPath: '/srv/docs', cellPath: '/workspace/extra/docs', readOnly: false },
  ];
  it('names the outbound actions: standing tasks, other groups, writes into extra mounts', () => {
    expect(isSinkCall('schedule_task', {}, [])).toBe(true);
    expect(isSinkCall('update_task', {}, [])).toBe(true);
    expect(isSinkCall('register_group', {}, [])).toBe(true);
    expect(isSinkCall('send_message', { text: 'hi' }, [])).toBe(false);
    expect(isSinkCall('send_message', { text: 'hi', group: 'work' }, [])).toBe(true);
    expect(isSinkCall('write_file', { path: 'notes.txt' }, rw)).toBe(false);
    expect(isSinkCall('write_file', { path: '/workspace/extra/docs/a' }, rw)).toBe(true);
    expect(isSinkCall('edit_file', { path: '../extra/docs/a' }, rw)).toBe(true);
    expect(isSinkCall('read_file', { path: '/workspace/extra/docs/a' }, rw)).toBe(false);
    expect(isSinkCall('bash', { command: 'ls' }, [])).toBe(false);
    expect(isSinkCall('bash', { command: 'ls' }, rw)).toBe(true);
    expect(isSinkCall('bash', { command: 'ls' }, [{ ...rw[0]!, readOnly: true }])).toBe(false);
  });
});

describe('egressGuard', () => {
  const read = taint(TRUSTED, { kind: 'email', detail: 'bob@example.com' });
  const request = { host: 'api.x.com', credentialed: false, grantHasCredentials: false };
  it('lets everything through in a trusted run', () => {
    const guard = egressGuard(() => TRUSTED, { admin: true, extraMounts: true });
    expect(guard({ ...request, kind: 'http', method: 'POST' })).toBeUndefined();
  });

  it('refuses writes and credentialed requests of an untrusted run, naming what it read', () => {
    const guard = egressGuard(() => read, { admin: false, extraMounts: false });
    expect(guard({ ...request, kind: 'http', method: 'GET' })).toBeUndefined();
    expect(guard({ ...request, kind: 'http', method: 'post' })).toMatch(
      /read an email from bob@example\.com, and a POST to api\.x\.com could carry data out/,
    );
    expect(guard({ ...request, kind: 'http', method: 'GET', credentialed: true })).toMatch(
      /GET with a credential/,
    );
    // A tunnel hides its content: held only where the run can reach private data.
    expect(guard({ ...request, kind: 'connect', method: 'CONNECT' })).toBeUndefined();
    const admin = egressGuard(() => read, { admin: true, extraMounts: false });
    expect(admin({ ...request, kind: 'connect', method: 'CONNECT' })).toMatch(/a tunnel to api/);
  });
});
