import type { HeadReading } from './audit-head.js';
import type { KeyReading, StartReading } from './audit-key.js';
import { KEYED_ALG, recordHash, type AuditRecord } from './audit-record.js';

/** The audit key and the log's keying start as the verifier found them. */
export interface KeyCheck {
  /** Where the key was looked for (for messages). */
  path: string;
  reading: KeyReading;
  start: StartReading;
}

/**
 * The hash half of verification, record by record: each record's hash (HMAC for keyed
 * records, plain SHA-256 for records from before the key), and which records must be keyed.
 * The chain's order and links are verifyChain's.
 */
export class HashCheck {
  /** Seq of the first keyed record seen. */
  keyedFrom: number | undefined;
  private unchecked = 0;
  private readonly key: Buffer | undefined;
  private readonly since: number | undefined;

  constructor(private readonly keyCheck: KeyCheck | undefined) {
    this.key = keyCheck?.reading.state === 'ok' ? keyCheck.reading.key.secret : undefined;
    this.since = keyCheck?.start.state === 'ok' ? keyCheck.start.since : undefined;
  }

  /** What is wrong with one record's hash, if anything. */
  record(r: AuditRecord): string[] {
    const keyed = r.alg === KEYED_ALG;
    const problems: string[] = [];
    if (keyed) this.keyedFrom ??= r.seq;
    if (keyed && !this.key) {
      this.unchecked++;
    } else if (recordHash(r.prev, r.seq, r.ts, r.event, keyed ? this.key : undefined) !== r.hash) {
      problems.push(
        keyed
          ? 'record was edited: its keyed hash does not match its content'
          : 'record was edited: its hash does not match its content',
      );
    }
    if (keyed) return problems;
    if (this.since !== undefined && r.seq >= this.since) {
      problems.push(
        `record is not keyed, but every record from seq ${this.since} on is: it was written or rewritten without the audit key`,
      );
    } else if (this.keyedFrom !== undefined) {
      problems.push(
        `record is not keyed, but seq ${this.keyedFrom} before it is: it was written or rewritten without the audit key`,
      );
    }
    return problems;
  }

  /**
   * What is wrong with where the log ends, given where keying began: records cut below it,
   * or the whole log gone. `endReported`: the head check already found the end wrong.
   */
  end(records: number, lastSeq: number, head: HeadReading, endReported: boolean): string[] {
    const since = this.since;
    if (since === undefined) return [];
    if (records === 0 && head.state === 'missing') {
      return [
        'the log and audit.head are gone, but the config dir records that this log was keyed: the log was deleted (or the host stopped between keying it and writing its first record)',
      ];
    }
    if (lastSeq < since - 1 && !endReported) {
      return [
        `the log ends at seq ${lastSeq}, but it was keyed when it had reached seq ${since - 1}: records were removed from the end`,
      ];
    }
    return [];
  }

  /** Why keyed records could not be checked, if some could not. */
  keyProblem(): string | undefined {
    const check = this.keyCheck;
    if (check?.start.state === 'unusable') return check.start.reason;
    if (this.unchecked === 0) return undefined;
    const what = `records from seq ${this.keyedFrom ?? '?'} on are keyed, so they cannot be checked without the audit key`;
    if (!check) return `${what}, and none was given`;
    if (check.reading.state === 'unusable') return `${what}: ${check.reading.reason}`;
    return `${what}, and ${check.path} does not exist; point NANOCELL_CONFIG_DIR at the config dir the host uses`;
  }
}
