import { parseArgs } from 'node:util';
import type { AuditReader } from '../audit/audit-log.js';
import type { AuditRecord } from '../audit/audit-record.js';
import type { CliCommand, TextOut } from './command.js';

export interface AuditCliDeps {
  auditLog: AuditReader;
  stdout: TextOut;
  stderr: TextOut;
}

const DEFAULT_TAIL = 20;
const MAX_TAIL = 100_000;

export const AUDIT_USAGE = `usage: nanocell audit tail [-n N]   the last N records (default ${DEFAULT_TAIL})
       nanocell audit verify        check that no record was edited, deleted or reordered
                                    (keyed records need the audit key in the config dir)
`;

/** `./nanocell audit tail|verify ...`. Exit statuses: 0 ok, 1 tampered, 2 bad usage. */
export function audit(args: string[], deps: AuditCliDeps): number {
  const [sub, ...rest] = args;
  if (sub === 'tail') return auditTail(rest, deps);
  if (sub === 'verify') return auditVerify(rest, deps);
  deps.stderr.write(
    `nanocell: ${sub ? `unknown audit command "${sub}"` : 'audit needs a command'}\n\n${AUDIT_USAGE}`,
  );
  return 2;
}

/** Prints one line per record: `seq ts type key=value ...`. */
export function auditTail(args: string[], { auditLog, stdout, stderr }: AuditCliDeps): number {
  let count = DEFAULT_TAIL;
  try {
    const { values } = parseArgs({
      args,
      options: { lines: { type: 'string', short: 'n' } },
      allowPositionals: false,
    });
    if (values.lines !== undefined) {
      const n = /^\d+$/.test(values.lines) ? Number(values.lines) : NaN;
      if (!(n >= 1 && n <= MAX_TAIL)) {
        stderr.write(
          `nanocell: audit tail -n needs a whole number from 1 to ${MAX_TAIL}, e.g. -n 50 (got "${values.lines}")\n`,
        );
        return 2;
      }
      count = n;
    }
  } catch (err) {
    stderr.write(`nanocell: ${(err as Error).message}\n\n${AUDIT_USAGE}`);
    return 2;
  }
  for (const record of auditLog.tail(count)) stdout.write(`${formatRecord(record)}\n`);
  return 0;
}

/** Prints `audit log intact: N records` (0), or every problem and `audit log TAMPERED` (1). */
export function auditVerify(args: string[], { auditLog, stdout, stderr }: AuditCliDeps): number {
  if (args.length > 0) {
    stderr.write(`nanocell: audit verify takes no arguments (got "${args.join(' ')}")\n`);
    return 2;
  }
  const result = auditLog.verify();
  if (result.ok) {
    const keyed =
      result.keyedFrom === undefined
        ? ''
        : result.keyedFrom === 1
          ? ', keyed'
          : `, keyed from seq ${result.keyedFrom}`;
    stdout.write(
      `audit log intact: ${result.records} record${result.records === 1 ? '' : 's'}${keyed}\n`,
    );
    if (result.records > 0 && result.keyedFrom === undefined) {
      stdout.write(
        'note: no record is keyed yet (the log predates the audit key): a rewrite of the log together with audit.head would not be detected; the next record the host writes makes the key and seals every record before it\n',
      );
    } else if (result.keyedFrom !== undefined && result.keyedFrom > 1) {
      stdout.write(
        `note: ${result.keyedFrom === 2 ? 'seq 1 predates' : `seqs 1..${result.keyedFrom - 1} predate`} the audit key; the keyed record ${result.keyedFrom} seals ${result.keyedFrom === 2 ? 'it' : 'them'}\n`,
      );
    }
    return 0;
  }
  for (const p of result.problems) {
    stdout.write(`line ${p.line}${p.seq !== undefined ? ` (seq ${p.seq})` : ''}: ${p.problem}\n`);
  }
  if (result.keyProblem !== undefined) stdout.write(`${result.keyProblem}\n`);
  const n = result.problems.length;
  stdout.write(
    n === 0
      ? `audit log NOT VERIFIED: ${auditLog.path} (${result.records} records read)\n`
      : `audit log TAMPERED: ${n} problem${n === 1 ? '' : 's'} in ${auditLog.path} (${result.records} records read)\n`,
  );
  return 1;
}

export function formatRecord(record: AuditRecord): string {
  const { type, ...fields } = record.event;
  const pairs = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  return [String(record.seq), record.ts, safe(type), ...pairs].join(' ');
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') {
    // A full digest is noise on a line meant for reading; 12 digits still tell records apart.
    if (/^[0-9a-f]{64}$/.test(value)) return value.slice(0, 12);
    return safe(value);
  }
  return safe(JSON.stringify(value) ?? String(value));
}

/**
 * Quotes values with spaces, quotes or control characters. Event text can come from a
 * hostile model, so it must not be able to move the cursor or fake lines on the terminal.
 */
function safe(text: string): string {
  if (text.length > 0 && !/[\s"'=\\\p{C}]/u.test(text)) return text;
  // JSON.stringify escapes C0 controls; C1 controls and format characters (bidi overrides,
  // zero-width) pass through it, so escape them too.
  return JSON.stringify(text).replace(/[\u007f-\u009f\u2028\u2029\p{Cf}]/gu, (c) => {
    const code = c.codePointAt(0) ?? 0;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

export const auditCli: CliCommand = {
  name: 'audit',
  summary: 'show or check the tamper-evident audit log: tail [-n N] | verify',
  usage: AUDIT_USAGE,
  needs: 'store',
  run: (args, { base, out, err }) =>
    audit(args, { auditLog: base.audit, stdout: out, stderr: err }),
};
