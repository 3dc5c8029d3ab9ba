import type { HeadReading } from './audit-head.js';
import { GENESIS_HASH, parseRecordLine, type AuditRecord } from './audit-record.js';
import { HashCheck, type KeyCheck } from './hash-check.js';
import type { LogLine } from './log-lines.js';

export interface AuditProblem {
  /** Line of the log file; one past the last line for problems with the end (the head). */
  line: number;
  seq?: number;
  problem: string;
}

export type VerifyResult =
  | {
      ok: true;
      records: number;
      /** The first keyed record; absent when no record is keyed (a log from before the key). */
      keyedFrom?: number;
    }
  | {
      ok: false;
      records: number;
      problems: AuditProblem[];
      /** Why keyed records could not be checked (the key is missing or unusable). */
      keyProblem?: string;
    };

export type { KeyCheck } from './hash-check.js';

function seqRange(from: number, to: number): string {
  return from === to ? `seq ${from} is` : `seqs ${from}..${to} are`;
}

/**
 * Checks every record's hash and its link to the record before it, then the end of the log
 * against the head. After a problem the check goes on from the record that caused it, so
 * one edit, deletion or swap is reported where it happened instead of on every later line.
 *
 * Read the head before the lines: the writer may append in between, and a head older than
 * the lines is fine, while lines older than the head would look truncated.
 */
export function verifyChain(
  lines: Iterable<LogLine>,
  head: HeadReading,
  keyCheck?: KeyCheck,
): VerifyResult {
  const hashes = new HashCheck(keyCheck);
  const problems: AuditProblem[] = [];
  let records = 0;
  let lastLine = 0;
  let last: AuditRecord | null = null;
  const headSeq = head.state === 'ok' ? head.head.seq : -1;
  let hashAtHeadSeq: string | null = headSeq === 0 ? GENESIS_HASH : null;

  for (const { line, text, terminated } of lines) {
    lastLine = line;
    const parsed = parseRecordLine(text);
    if (!parsed.ok) {
      problems.push({
        line,
        problem: terminated
          ? `malformed line: ${text.length === 0 ? 'empty' : parsed.reason}`
          : 'torn last line: an append was cut short (a crash while writing?)',
      });
      continue;
    }
    records++;
    const r = parsed.record;
    for (const problem of hashes.record(r)) problems.push({ line, seq: r.seq, problem });
    const expectedSeq = last ? last.seq + 1 : 1;
    if (last && r.seq <= last.seq) {
      problems.push({
        line,
        seq: r.seq,
        problem: `seq ${r.seq} comes after seq ${last.seq}: records were reordered or duplicated`,
      });
      // Keep checking against the record that was in order, so the swap shows up once.
      continue;
    }
    if (r.seq > expectedSeq) {
      problems.push({
        line,
        seq: r.seq,
        problem: `${seqRange(expectedSeq, r.seq - 1)} missing before it: records were deleted or moved`,
      });
    } else if (r.prev !== (last ? last.hash : GENESIS_HASH)) {
      problems.push({
        line,
        seq: r.seq,
        problem: last
          ? `its prev does not match the hash of seq ${last.seq}: a record before it was replaced`
          : 'the first record does not start the chain (its prev is not the genesis value)',
      });
    }
    last = r;
    if (r.seq === headSeq) hashAtHeadSeq = r.hash;
  }

  const end = lastLine + 1;
  const lastSeq = last ? last.seq : 0;
  if (head.state === 'missing') {
    if (records > 0) {
      problems.push({
        line: end,
        problem: 'audit.head is missing, so records cut from the end would go unnoticed',
      });
    }
  } else if (head.state === 'malformed') {
    problems.push({ line: end, problem: `audit.head is malformed: ${head.reason}` });
  } else if (head.head.seq > lastSeq) {
    problems.push({
      line: end,
      seq: head.head.seq,
      problem: `the log ends at seq ${lastSeq} but audit.head records seq ${head.head.seq}: ${seqRange(lastSeq + 1, head.head.seq)} missing from the end (truncated)`,
    });
  } else if (hashAtHeadSeq !== head.head.hash) {
    problems.push({
      line: end,
      seq: head.head.seq,
      problem:
        hashAtHeadSeq === null
          ? `audit.head records seq ${head.head.seq}, which is not in order in the log`
          : `audit.head records a different hash for seq ${head.head.seq}: that record was replaced`,
    });
  }
  const endReported = problems.some((p) => p.line === end);
  for (const problem of hashes.end(records, lastSeq, head, endReported)) {
    problems.push({ line: end, problem });
  }
  const keyProblem = hashes.keyProblem();
  const keyedFrom = hashes.keyedFrom;
  if (problems.length === 0 && keyProblem === undefined) {
    return { ok: true, records, ...(keyedFrom !== undefined ? { keyedFrom } : {}) };
  }
  return { ok: false, records, problems, ...(keyProblem !== undefined ? { keyProblem } : {}) };
}
