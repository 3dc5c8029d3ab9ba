import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from './audit-event.js';
import { auditKeyFiles, auditKeyPath, createAuditKey, readKeyingStart } from './audit-key.js';
import { AuditLog, AuditLogError, auditLogPath } from './audit-log.js';
import { GENESIS_HASH, KEYED_ALG, recordHash } from './audit-record.js';

const EVENTS: AuditEvent[] = [
  { type: 'startup', version: '0.1.0', pid: 4242, runtime: 'bwrap' },
  { type: 'shutdown', reason: 'signal' },
  { type: 'startup', version: '0.1.0', pid: 4243, runtime: 'bwrap' },
  { type: 'shutdown', reason: 'signal' },
];

interface Line {
  seq: number;
  ts: string;
  prev: string;
  alg?: string;
  hash: string;
  event: Record<string, unknown>;
}

/**
 * An attacker who can write the data dir (the log and its head) but not the owner's config
 * dir: it rewrites records and recomputes every hash after them and the head, consistently.
 */
describe('the keyed audit chain', () => {
  let root: string;
  let file: string;
  let headFile: string;
  let keyFile: string;
  let configDir: string;
  let clockMs: number;
  const now = () => new Date((clockMs += 1000));
  const openKeyed = (logFile = file) => AuditLog.open(logFile, { now, configDir });
  const openPlain = () => AuditLog.open(file, { now });
  const lines = (): Line[] =>
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Line);
  const write = (log: AuditLog, events: AuditEvent[]) => {
    for (const e of events) log.append(e);
    log.close();
  };
  /** Rewrites the records as given and rechains them all, with `key` or plain SHA-256. */
  const forge = (records: Line[], key?: Buffer) => {
    let prev = GENESIS_HASH;
    const out = records.map((r, i) => {
      const seq = i + 1;
      const { alg: _alg, ...rest } = r;
      const hash = recordHash(prev, seq, r.ts, r.event, key);
      const line = key
        ? { ...rest, seq, prev, alg: KEYED_ALG, hash }
        : { ...rest, seq, prev, hash };
      prev = hash;
      return JSON.stringify(line);
    });
    fs.writeFileSync(file, `${out.join('\n')}\n`);
    fs.writeFileSync(headFile, `${JSON.stringify({ seq: records.length, hash: prev })}\n`);
  };
  const problems = (log: AuditLog) => {
    const result = log.verify();
    if (result.ok) throw new Error('verify found the forged log intact');
    return result.problems.map((p) => p.problem).join('\n');
  };

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-audit-key-'));
    file = auditLogPath(path.join(root, 'data'));
    headFile = path.join(root, 'data', 'audit', 'audit.head');
    configDir = path.join(root, 'config');
    keyFile = auditKeyPath(configDir);
    clockMs = Date.parse('2026-03-01T09:00:00.000Z');
  });
  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('makes the key at the first record: 0600 in a 0700 config dir, and keys every record', () => {
    expect(fs.existsSync(keyFile)).toBe(false);
    write(openKeyed(), EVENTS);
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(keyFile)).mode & 0o777).toBe(0o700);
    expect(lines().every((r) => r.alg === KEYED_ALG)).toBe(true);
    expect(openKeyed().verify()).toEqual({ ok: true, records: 4, keyedFrom: 1 });
  });

  it('detects an edited record rechained with plain hashes, head included', () => {
    write(openKeyed(), EVENTS);
    const records = lines();
    records[1]!.event = { type: 'shutdown', reason: 'crash' };
    forge(records);
    // The forged log is a perfectly good unkeyed chain: only the key tells it apart.
    expect(openPlain().verify()).toEqual({ ok: true, records: 4 });
    expect(problems(openKeyed())).toMatch(
      /record is not keyed, but every record from seq 1 on is: it was written or rewritten without the audit key/,
    );
  });

  it('detects a record rechained with a key of the attacker’s own', () => {
    write(openKeyed(), EVENTS);
    const records = lines().slice(0, 3);
    forge(records, Buffer.alloc(32, 7));
    expect(problems(openKeyed())).toMatch(/its keyed hash does not match its content/);
  });

  it('detects records deleted from the middle and the rest rechained', () => {
    write(openKeyed(), EVENTS);
    const records = lines();
    forge([records[0]!, records[3]!]);
    expect(openKeyed().verify().ok).toBe(false);
  });

  it('detects the log and its head deleted while the key remains', () => {
    write(openKeyed(), EVENTS);
    fs.rmSync(file);
    fs.rmSync(headFile);
    expect(problems(openKeyed())).toMatch(
      /the log and audit.head are gone, but the config dir records that this log was keyed/,
    );
  });

  it('refuses to call keyed records intact without the key, and says where it looked', () => {
    write(openKeyed(), EVENTS);
    fs.rmSync(keyFile);
    const result = openKeyed().verify();
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.keyProblem).toMatch(
      /records from seq 1 on are keyed, so they cannot be checked without the audit key, and .*audit\.key does not exist; point NANOCELL_CONFIG_DIR/,
    );
  });

  it('keeps one chain when two writers share the key', () => {
    const a = openKeyed();
    const b = openKeyed();
    a.append(EVENTS[0]!);
    b.append(EVENTS[1]!);
    a.append(EVENTS[2]!);
    a.close();
    b.close();
    expect(openKeyed().verify()).toEqual({ ok: true, records: 3, keyedFrom: 1 });
  });

  describe('a log written before the key (upgrade)', () => {
    beforeEach(() => write(openPlain(), EVENTS.slice(0, 3)));

    it('verifies as before, unkeyed, until the host writes again', () => {
      expect(openKeyed().verify()).toEqual({ ok: true, records: 3 });
      expect(fs.existsSync(keyFile)).toBe(false);
    });

    it('keys from the next record on, which seals the older ones', () => {
      write(openKeyed(), EVENTS.slice(3));
      expect(readKeyingStart(auditKeyFiles(configDir, file).startPath)).toEqual({
        state: 'ok',
        since: 4,
      });
      expect(lines().map((r) => r.alg ?? 'plain')).toEqual(['plain', 'plain', 'plain', KEYED_ALG]);
      expect(openKeyed().verify()).toEqual({ ok: true, records: 4, keyedFrom: 4 });

      // Rewriting an old plain record (and rechaining the plain ones) breaks the keyed
      // record's link to them; the keyed record and the head stay as they were.
      const records = lines();
      const sealed = JSON.stringify(records[3]);
      const head = fs.readFileSync(headFile, 'utf8');
      records[1]!.event = { type: 'shutdown', reason: 'crash' };
      forge(records.slice(0, 3));
      fs.appendFileSync(file, `${sealed}\n`);
      fs.writeFileSync(headFile, head);
      expect(problems(openKeyed())).toBe(
        'its prev does not match the hash of seq 3: a record before it was replaced',
      );
    });

    it('detects the whole log rewritten unkeyed, head included', () => {
      write(openKeyed(), EVENTS.slice(3));
      forge(lines());
      expect(problems(openKeyed())).toMatch(
        /^record is not keyed, but every record from seq 4 on is/,
      );
    });

    it('detects keyed records cut from the end below where the key began', () => {
      write(openKeyed(), EVENTS.slice(3));
      forge(lines().slice(0, 2));
      expect(problems(openKeyed())).toMatch(
        /the log ends at seq 2, but it was keyed when it had reached seq 3/,
      );
    });
  });

  describe('a key file that cannot be used', () => {
    const secretText = 'sk-live-9f8e7d6c5b4a';

    it.each([
      [
        'readable by others',
        () => {
          createAuditKey(keyFile);
          fs.chmodSync(keyFile, 0o644);
        },
        /is readable by others \(mode 644\); run chmod 600 on it/,
      ],
      [
        'a symlink',
        () => {
          fs.mkdirSync(path.dirname(keyFile), { recursive: true });
          fs.writeFileSync(path.join(root, 'elsewhere'), 'x', { mode: 0o600 });
          fs.symlinkSync(path.join(root, 'elsewhere'), keyFile);
        },
        /is a symlink; it must be a regular file/,
      ],
      [
        'not JSON',
        () => {
          fs.mkdirSync(path.dirname(keyFile), { recursive: true });
          fs.writeFileSync(keyFile, `{"version":1,"key":"${secretText}`, { mode: 0o600 });
        },
        /is not valid JSON$/,
      ],
      [
        'the wrong shape',
        () => {
          fs.mkdirSync(path.dirname(keyFile), { recursive: true });
          fs.writeFileSync(keyFile, JSON.stringify({ version: 1, key: secretText, since: 1 }), {
            mode: 0o600,
          });
        },
        /is not an audit key/,
      ],
    ])('stops the append when the key is %s, without quoting it', (_what, setup, message) => {
      setup();
      const log = openKeyed();
      let caught: unknown;
      try {
        log.append(EVENTS[0]!);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(AuditLogError);
      expect((caught as Error).message).toMatch(message);
      expect((caught as Error).message).not.toContain(secretText);
      expect(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '').toBe('');
    });
  });

  it('never replaces a key another process made first', () => {
    const first = createAuditKey(keyFile);
    const second = createAuditKey(keyFile);
    expect(second).toEqual(first);
    expect(fs.readdirSync(path.dirname(keyFile))).toEqual(['audit.key']);
  });

  it('detects a plain record after a keyed one even when the keying start is gone', () => {
    write(openKeyed(), EVENTS);
    fs.rmSync(path.join(configDir, 'audit-starts'), { recursive: true });
    const records = lines();
    // Keep the first two keyed records; rewrite the rest as plain ones chained onto them.
    let prev = records[1]!.hash;
    const plain = records.slice(2).map((r) => {
      const hash = recordHash(prev, r.seq, r.ts, r.event);
      const { alg: _alg, ...rest } = r;
      const line = JSON.stringify({ ...rest, prev, hash });
      prev = hash;
      return line;
    });
    const kept = records.slice(0, 2).map((r) => JSON.stringify(r));
    fs.writeFileSync(file, `${[...kept, ...plain].join('\n')}\n`);
    fs.writeFileSync(headFile, JSON.stringify({ seq: 4, hash: prev }));
    expect(problems(openKeyed())).toMatch(/^record is not keyed, but seq 1 before it is/);
  });

  it('serves several data dirs from one config dir, each keyed from its own start', () => {
    const other = auditLogPath(path.join(root, 'data-old'));
    write(AuditLog.open(other, { now }), EVENTS.slice(0, 3));
    write(openKeyed(), EVENTS);
    write(openKeyed(other), EVENTS.slice(3));
    expect(openKeyed().verify()).toEqual({ ok: true, records: 4, keyedFrom: 1 });
    expect(openKeyed(other).verify()).toEqual({ ok: true, records: 4, keyedFrom: 4 });
    // A data dir never written: nothing recorded for it, nothing reported.
    const fresh = auditLogPath(path.join(root, 'data-fresh'));
    expect(openKeyed(fresh).verify()).toEqual({ ok: true, records: 0 });
  });

  it('keeps the keying start when the audit folder is swapped for a symlink to a forged log', () => {
    write(openKeyed(), EVENTS);
    const records = lines();
    const forgedDir = path.join(root, 'forged');
    fs.mkdirSync(forgedDir);
    fs.renameSync(path.dirname(file), path.join(root, 'hidden'));
    fs.symlinkSync(forgedDir, path.dirname(file));
    forge(records.slice(0, 2));
    expect(problems(openKeyed())).toMatch(
      /^record is not keyed, but every record from seq 1 on is/,
    );
  });

  it('stops the append with a clear message when the config dir cannot hold the key', () => {
    fs.writeFileSync(path.join(root, 'not-a-dir'), '');
    configDir = path.join(root, 'not-a-dir', 'config');
    expect(() => openKeyed().append(EVENTS[0]!)).toThrow(
      /^cannot append to the audit log .*: the audit key .*not-a-dir\/config\/audit\.key cannot be opened \(ENOTDIR\)$/,
    );
    expect(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '').toBe('');
  });
});
