import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidAuditEventError, MAX_TEXT_CHARS, type AuditEvent } from './audit-event.js';
import { AuditLog, AuditLogError, auditLogPath } from './audit-log.js';
import { GENESIS_HASH, recordHash } from './audit-record.js';
import { fingerprint } from './canonical-json.js';

const TOOL_CALL = {
  type: 'tool_call',
  group: 'main',
  tool: 'bash',
  inputFingerprint: fingerprint({ command: 'ls' }),
  decision: 'allow',
  rule: 'default: cell tools',
  outcome: 'ok',
  durationMs: 120,
} satisfies AuditEvent;

const EGRESS = {
  type: 'egress',
  task: 't1',
  group: 'family',
  host: 'api.example.com',
  port: 443,
  method: 'GET',
  path: '/v1/items',
  decision: 'denied',
  rule: null,
  bytesUp: 0,
  bytesDown: 0,
} satisfies AuditEvent;

const EVENTS: AuditEvent[] = [
  { type: 'startup', version: '0.1.0', pid: 4242, runtime: 'bwrap' },
  TOOL_CALL,
  {
    type: 'tool_call',
    group: 'family',
    task: 't1',
    tool: 'bash',
    inputFingerprint: fingerprint({ command: 'cat /etc/shadow' }),
    decision: 'deny',
    rule: 'family.rules:3',
    outcome: 'not_run',
    durationMs: 0,
  },
  {
    type: 'approval',
    group: 'family',
    tool: 'send_message',
    inputFingerprint: fingerprint({ to: 'x' }),
    code: 'K7Q2',
    status: 'asked',
  },
  EGRESS,
  { type: 'shutdown', reason: 'signal' },
];

describe('AuditLog', () => {
  let home: string;
  let file: string;
  let headFile: string;
  let clockMs: number;
  const now = () => new Date((clockMs += 1000));
  const open = () => AuditLog.open(file, { now });
  const fileLines = () => fs.readFileSync(file, 'utf8').split('\n').slice(0, -1);
  const writeLines = (lines: string[]) => fs.writeFileSync(file, `${lines.join('\n')}\n`);
  const seqOf = (line: string) => (JSON.parse(line) as { seq: number }).seq;

  function writeEvents(events = EVENTS): void {
    const log = open();
    for (const event of events) log.append(event);
    log.close();
  }

  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-audit-'));
    file = auditLogPath(home);
    headFile = path.join(home, 'audit', 'audit.head');
    clockMs = Date.parse('2025-03-01T09:00:00.000Z');
  });
  afterEach(() => {
    fs.rmSync(home, { recursive: true, force: true });
  });

  describe('append', () => {
    it('chains each record to the one before, from the genesis value', () => {
      writeEvents();
      const records = fileLines().map(
        (l) =>
          JSON.parse(l) as { seq: number; ts: string; prev: string; hash: string; event: unknown },
      );
      expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(records[0]?.prev).toBe(GENESIS_HASH);
      for (const [i, r] of records.entries()) {
        if (i > 0) expect(r.prev).toBe(records[i - 1]?.hash);
        expect(r.hash).toBe(recordHash(r.prev, r.seq, r.ts, r.event));
      }
      expect(records[0]?.ts).toBe('2025-03-01T09:00:01.000Z');
    });

    it('keeps the last seq and hash in audit.head', () => {
      writeEvents();
      const last = JSON.parse(fileLines().at(-1) ?? '') as { hash: string };
      expect(JSON.parse(fs.readFileSync(headFile, 'utf8'))).toEqual({ seq: 6, hash: last.hash });
    });

    it('drops keys an event does not name, so a full input never reaches the file', () => {
      const log = open();
      const event = {
        ...TOOL_CALL,
        input: { command: 'curl -H "Authorization: Bearer sk-live-secret"' },
      };
      const record = log.append(event);
      log.close();
      expect(record.event).not.toHaveProperty('input');
      expect(fs.readFileSync(file, 'utf8')).not.toContain('sk-live-secret');
    });

    it('keeps no query string of an egress path', () => {
      const log = open();
      const record = log.append({ ...EGRESS, path: '/v1/items?api_key=sk-live-secret' });
      log.close();
      expect(record.event.path).toBe('/v1/items');
      expect(fs.readFileSync(file, 'utf8')).not.toContain('sk-live-secret');
    });

    it('cuts a long summary to the cap', () => {
      const log = open();
      const record = log.append({ ...TOOL_CALL, summary: 'x'.repeat(5000) });
      log.close();
      expect(Array.from(record.event.summary as string)).toHaveLength(MAX_TEXT_CHARS);
      expect(log.verify()).toEqual({ ok: true, records: 1 });
    });

    it.each([
      [
        'a fingerprint that is not a sha256 digest',
        { ...TOOL_CALL, inputFingerprint: 'ls' },
        /inputFingerprint/,
      ],
      ['an unknown event type', { type: 'coffee' }, /type/],
      ['a negative duration', { ...TOOL_CALL, durationMs: -1 }, /durationMs/],
    ])('refuses %s as a bug, writing nothing', (_name, event, message) => {
      const log = open();
      expect(() => log.append(event as AuditEvent)).toThrow(InvalidAuditEventError);
      expect(() => log.append(event as AuditEvent)).toThrow(message);
      expect(fs.existsSync(file)).toBe(false);
    });

    it('throws AuditLogError when the log cannot be written', () => {
      const log = open();
      fs.writeFileSync(path.join(home, 'audit'), 'a file where the folder should be');
      expect(() => log.append(EVENTS[0] as AuditEvent)).toThrow(AuditLogError);
      expect(() => log.append(EVENTS[0] as AuditEvent)).toThrow(/cannot append to the audit log/);
    });

    it('throws AuditLogError when the log cannot be read on opening', () => {
      fs.writeFileSync(path.join(home, 'audit'), 'a file where the folder should be');
      expect(() => open()).toThrow(/cannot read the audit log/);
    });

    it('continues the chain after reopening', () => {
      writeEvents(EVENTS.slice(0, 3));
      writeEvents(EVENTS.slice(3));
      expect(fileLines().map(seqOf)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(open().verify()).toEqual({ ok: true, records: 6 });
    });

    it('continues the chain another writer extended, instead of forking it', () => {
      const a = open();
      const b = open();
      a.append(EVENTS[0] as AuditEvent);
      b.append(EVENTS[1] as AuditEvent);
      a.append(EVENTS[2] as AuditEvent);
      a.close();
      b.close();
      expect(fileLines().map(seqOf)).toEqual([1, 2, 3]);
      expect(open().verify()).toEqual({ ok: true, records: 3 });
    });

    it('writes with fsync when asked', () => {
      const log = AuditLog.open(file, { now, fsync: true });
      log.append(EVENTS[0] as AuditEvent);
      log.close();
      expect(log.verify()).toEqual({ ok: true, records: 1 });
    });
  });

  describe('tail', () => {
    it.each([
      [2, [5, 6]],
      [6, [1, 2, 3, 4, 5, 6]],
      [50, [1, 2, 3, 4, 5, 6]],
      [0, []],
    ])('tail(%i) gives the last records, oldest first', (n, seqs) => {
      writeEvents();
      expect(
        open()
          .tail(n)
          .map((r) => r.seq),
      ).toEqual(seqs);
    });

    it('skips a torn last line', () => {
      writeEvents();
      fs.appendFileSync(file, '{"seq":7,"ts":"2025');
      expect(
        open()
          .tail(1)
          .map((r) => r.seq),
      ).toEqual([6]);
    });

    it('gives nothing for a log that does not exist yet', () => {
      expect(open().tail(5)).toEqual([]);
    });
  });

  describe('verify', () => {
    it('finds a fresh log intact', () => {
      writeEvents();
      expect(open().verify()).toEqual({ ok: true, records: 6 });
    });

    it('finds a log that was never written intact, with no records', () => {
      expect(open().verify()).toEqual({ ok: true, records: 0 });
    });

    it('accepts a head one record behind: a crash between the record and the head', () => {
      writeEvents();
      const fifth = JSON.parse(fileLines()[4] ?? '') as { hash: string };
      fs.writeFileSync(headFile, JSON.stringify({ seq: 5, hash: fifth.hash }));
      expect(open().verify()).toEqual({ ok: true, records: 6 });
    });

    type Tamper = (lines: string[]) => string;
    const join = (lines: string[]) => `${lines.join('\n')}\n`;
    const swap = (lines: string[], i: number, j: number) => {
      const copy = [...lines];
      [copy[i], copy[j]] = [copy[j] ?? '', copy[i] ?? ''];
      return copy;
    };
    const rehash = (line: string, edit: (event: Record<string, unknown>) => void) => {
      const r = JSON.parse(line) as {
        seq: number;
        ts: string;
        prev: string;
        hash: string;
        event: Record<string, unknown>;
      };
      edit(r.event);
      r.hash = recordHash(r.prev, r.seq, r.ts, r.event);
      return JSON.stringify(r);
    };

    const tamperings: Array<
      [string, Tamper, Array<{ line: number; seq?: number; problem: RegExp }>]
    > = [
      [
        'a field of a middle record edited',
        (l) =>
          join(
            l.map((x, i) => (i === 2 ? x.replace('"decision":"deny"', '"decision":"allow"') : x)),
          ),
        [{ line: 3, seq: 3, problem: /edited: its hash does not match/ }],
      ],
      [
        'a middle record edited and its hash recomputed',
        (l) => join(l.map((x, i) => (i === 2 ? rehash(x, (e) => (e.decision = 'allow')) : x))),
        [{ line: 4, seq: 4, problem: /prev does not match the hash of seq 3/ }],
      ],
      [
        'a middle record deleted',
        (l) => join(l.filter((_, i) => i !== 2)),
        [{ line: 3, seq: 4, problem: /seq 3 is missing before it/ }],
      ],
      [
        'the first record deleted',
        (l) => join(l.slice(1)),
        [{ line: 1, seq: 2, problem: /seq 1 is missing before it/ }],
      ],
      [
        'two records swapped',
        (l) => join(swap(l, 2, 3)),
        [
          { line: 3, seq: 4, problem: /seq 3 is missing before it/ },
          { line: 4, seq: 3, problem: /seq 3 comes after seq 4: records were reordered/ },
        ],
      ],
      [
        'a record copied to the end',
        (l) => join([...l, l[1] ?? '']),
        [{ line: 7, seq: 2, problem: /reordered or duplicated/ }],
      ],
      [
        'the last record cut off while the head says more',
        (l) => join(l.slice(0, -1)),
        [{ line: 6, seq: 6, problem: /ends at seq 5 but audit.head records seq 6.*truncated/ }],
      ],
      [
        'the last two records cut off',
        (l) => join(l.slice(0, -2)),
        [{ line: 5, seq: 6, problem: /seqs 5..6 are missing from the end/ }],
      ],
      [
        'the last record replaced by a valid one',
        (l) => join([...l.slice(0, -1), rehash(l[5] ?? '', (e) => (e.reason = 'crash'))]),
        [{ line: 7, seq: 6, problem: /audit.head records a different hash for seq 6/ }],
      ],
      [
        'a torn last line',
        (l) => `${join(l)}{"seq":7,"ts":"2025-03-01T09:0`,
        [{ line: 7, problem: /torn last line/ }],
      ],
      [
        'a line of garbage inserted',
        (l) => join([...l.slice(0, 2), 'hello', ...l.slice(2)]),
        [{ line: 3, problem: /malformed line: not valid JSON/ }],
      ],
      [
        'an empty line inserted',
        (l) => join([...l.slice(0, 2), '', ...l.slice(2)]),
        [{ line: 3, problem: /malformed line: empty/ }],
      ],
      [
        'a key added outside the hashed fields',
        (l) => join(l.map((x, i) => (i === 1 ? x.replace('{', '{"note":"harmless",') : x))),
        [
          { line: 2, problem: /not an audit record/ },
          { line: 3, seq: 3, problem: /seq 2 is missing before it/ },
        ],
      ],
    ];

    it.each(tamperings)('detects %s', (_name, tamper, expected) => {
      writeEvents();
      fs.writeFileSync(file, tamper(fileLines()));
      const result = open().verify();
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.problems).toHaveLength(expected.length);
      for (const [i, want] of expected.entries()) {
        const got = result.problems[i];
        expect(got?.line).toBe(want.line);
        expect(got?.seq).toBe(want.seq);
        expect(got?.problem).toMatch(want.problem);
      }
    });

    it('detects a deleted head', () => {
      writeEvents();
      fs.rmSync(headFile);
      expect(open().verify()).toEqual({
        ok: false,
        records: 6,
        problems: [{ line: 7, problem: expect.stringMatching(/audit.head is missing/) }],
      });
    });

    it('detects a head that is not JSON', () => {
      writeEvents();
      fs.writeFileSync(headFile, 'seq 6');
      const result = open().verify();
      expect(result.ok).toBe(false);
      expect(!result.ok && result.problems[0]?.problem).toMatch(/audit.head is malformed/);
    });

    it('detects a deleted log whose head remains', () => {
      writeEvents();
      fs.rmSync(file);
      const result = open().verify();
      expect(!result.ok && result.problems).toEqual([
        { line: 1, seq: 6, problem: expect.stringMatching(/seqs 1..6 are missing from the end/) },
      ]);
    });
  });

  describe('after a crash or tampering, reopening and appending', () => {
    it('continues from the last whole record past a torn line, which verify still reports', () => {
      writeEvents();
      fs.appendFileSync(file, '{"seq":7,"ts":"2025-03-01T09:0');
      const log = open();
      const record = log.append({ type: 'startup', version: '0.1.0', pid: 1 });
      log.close();
      const lines = fileLines();
      expect(record.seq).toBe(7);
      expect(record.prev).toBe((JSON.parse(lines[5] ?? '') as { hash: string }).hash);
      expect(lines[6]).toBe('{"seq":7,"ts":"2025-03-01T09:0');
      expect(seqOf(lines[7] ?? '')).toBe(7);
      const result = log.verify();
      expect(!result.ok && result.problems).toEqual([
        { line: 7, problem: expect.stringMatching(/malformed line: not valid JSON/) },
      ]);
    });

    it('keeps records cut from the end visible as a gap', () => {
      writeEvents();
      writeLines(fileLines().slice(0, 4));
      const log = open();
      const record = log.append({ type: 'startup', version: '0.1.0', pid: 1 });
      log.close();
      expect(record.seq).toBe(7);
      const result = log.verify();
      expect(!result.ok && result.problems).toEqual([
        { line: 5, seq: 7, problem: expect.stringMatching(/seqs 5..6 are missing before it/) },
      ]);
    });

    it('notices a truncation made while it was open', () => {
      const log = open();
      for (const event of EVENTS) log.append(event);
      writeLines(fileLines().slice(0, 4));
      log.append({ type: 'shutdown', reason: 'done' });
      log.close();
      const result = log.verify();
      expect(!result.ok && result.problems.map((p) => p.problem)).toEqual([
        expect.stringMatching(/seqs 5..6 are missing before it/),
      ]);
    });
  });
});
