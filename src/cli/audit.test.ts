import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../audit/audit-event.js';
import { AuditLog, auditLogPath } from '../audit/audit-log.js';
import { fingerprint } from '../audit/canonical-json.js';
import { audit, auditTail, auditVerify } from './audit.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

const TOOL_CALL: AuditEvent = {
  type: 'tool_call',
  group: 'family',
  tool: 'bash',
  inputFingerprint: fingerprint({ command: 'cat /etc/shadow' }),
  summary: 'cat /etc/shadow',
  decision: 'deny',
  rule: 'family.rules:3',
  outcome: 'not_run',
  durationMs: 0,
};

describe('audit CLI', () => {
  let home: string;
  let file: string;
  let log: AuditLog;
  let keyFile: string;
  let stdout: Capture;
  let stderr: Capture;
  let clockMs: number;
  const deps = () => ({ auditLog: log, stdout, stderr });

  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-audit-cli-'));
    file = auditLogPath(home);
    clockMs = Date.parse('2025-03-01T09:00:00.000Z');
    keyFile = path.join(home, 'config', 'audit.key');
    log = AuditLog.open(file, {
      now: () => new Date((clockMs += 1000)),
      configDir: path.join(home, 'config'),
    });
    stdout = new Capture();
    stderr = new Capture();
  });
  afterEach(() => {
    log.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  function appendStartupAndCalls(calls: number): void {
    log.append({ type: 'startup', version: '0.1.0', pid: 4242 });
    for (let i = 0; i < calls; i++) log.append({ ...TOOL_CALL, durationMs: i } as AuditEvent);
  }

  describe('tail', () => {
    it('prints one line per record: seq, time, type and its fields', () => {
      appendStartupAndCalls(1);
      expect(auditTail([], deps())).toBe(0);
      const short = fingerprint({ command: 'cat /etc/shadow' }).slice(0, 12);
      expect(stdout.text).toBe(
        '1 2025-03-01T09:00:01.000Z startup version=0.1.0 pid=4242\n' +
          `2 2025-03-01T09:00:02.000Z tool_call group=family tool=bash inputFingerprint=${short} ` +
          'summary="cat /etc/shadow" decision=deny rule=family.rules:3 outcome=not_run durationMs=0\n',
      );
      expect(stderr.text).toBe('');
    });

    it.each([
      [
        ['-n', '2'],
        [24, 25],
      ],
      [
        ['--lines', '3'],
        [23, 24, 25],
      ],
      [[], [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25]],
    ])('with %j prints the last records, oldest first', (args, seqs) => {
      appendStartupAndCalls(24);
      expect(auditTail(args, deps())).toBe(0);
      const printed = stdout.text
        .trimEnd()
        .split('\n')
        .map((l) => Number(l.split(' ')[0]));
      expect(printed).toEqual(seqs);
    });

    it.each([
      [['-n', 'ten'], /-n needs a whole number from 1 to 100000, e.g. -n 50 \(got "ten"\)/],
      [['-n', '0'], /-n needs a whole number/],
      [['--lines=-3'], /-n needs a whole number/],
      [['--since', 'x'], /Unknown option '--since'/],
      [['extra'], /Unexpected argument 'extra'|unexpected argument/i],
    ])('rejects %j with exit status 2 and a hint', (args, message) => {
      expect(auditTail(args, deps())).toBe(2);
      expect(stderr.text).toMatch(message);
      expect(stdout.text).toBe('');
    });

    it('escapes control characters a hostile summary could use to fake terminal output', () => {
      log.append({ ...TOOL_CALL, summary: 'ok\u001b[2J\nline 2\u202e' } as AuditEvent);
      expect(auditTail([], deps())).toBe(0);
      expect(stdout.text).toContain('summary="ok\\u001b[2J\\nline 2\\u202e"');
      expect(stdout.text.split('\n')).toHaveLength(2);
    });

    it('prints nothing for an empty log', () => {
      expect(auditTail([], deps())).toBe(0);
      expect(stdout.text).toBe('');
    });
  });

  describe('verify', () => {
    it('reports an intact log with exit status 0', () => {
      appendStartupAndCalls(2);
      expect(auditVerify([], deps())).toBe(0);
      expect(stdout.text).toBe('audit log intact: 3 records, keyed\n');
    });

    it('says when no record is keyed yet (a log from before the audit key)', () => {
      const plain = AuditLog.open(file, { now: () => new Date((clockMs += 1000)) });
      plain.append({ type: 'startup', version: '0.1.0', pid: 1 });
      plain.close();
      expect(auditVerify([], deps())).toBe(0);
      expect(stdout.text).toMatch(
        /^audit log intact: 1 record\nnote: no record is keyed yet .*would not be detected/,
      );
      appendStartupAndCalls(0);
      stdout.text = '';
      expect(auditVerify([], deps())).toBe(0);
      expect(stdout.text).toBe(
        'audit log intact: 2 records, keyed from seq 2\n' +
          'note: seq 1 predates the audit key; the keyed record 2 seals it\n',
      );
    });

    it('reports keyed records it cannot check without the key as NOT VERIFIED, exit status 1', () => {
      appendStartupAndCalls(1);
      fs.rmSync(keyFile);
      expect(auditVerify([], deps())).toBe(1);
      expect(stdout.text).toMatch(
        /records from seq 1 on are keyed, so they cannot be checked without the audit key.*\naudit log NOT VERIFIED: /,
      );
    });

    it('reports every problem with its line and TAMPERED, with exit status 1', () => {
      appendStartupAndCalls(3);
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      lines[1] = (lines[1] ?? '').replace('"decision":"deny"', '"decision":"allow"');
      lines.splice(2, 1);
      fs.writeFileSync(file, lines.join('\n'));
      expect(auditVerify([], deps())).toBe(1);
      expect(stdout.text).toBe(
        'line 2 (seq 2): record was edited: its keyed hash does not match its content\n' +
          'line 3 (seq 4): seq 3 is missing before it: records were deleted or moved\n' +
          `audit log TAMPERED: 2 problems in ${file} (3 records read)\n`,
      );
    });

    it('rejects arguments with exit status 2', () => {
      expect(auditVerify(['--fix'], deps())).toBe(2);
      expect(stderr.text).toMatch(/takes no arguments/);
    });
  });

  it.each([
    [['verify'], 0, 'audit log intact'],
    [['tail', '-n', '1'], 0, 'startup'],
  ])('audit %j runs the subcommand', (args, status, output) => {
    appendStartupAndCalls(0);
    expect(audit(args, deps())).toBe(status);
    expect(stdout.text).toContain(output);
  });

  it.each([[[]], [['rotate']]])('audit %j shows the usage with exit status 2', (args) => {
    expect(audit(args, deps())).toBe(2);
    expect(stderr.text).toContain('usage: nanocell audit tail [-n N]');
  });
});
