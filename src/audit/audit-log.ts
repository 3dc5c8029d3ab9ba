import fs from 'node:fs';
import path from 'node:path';
import { normalizeEvent, type AuditEvent, type AuditSink } from './audit-event.js';
import { readHead, writeHead, type AuditHead } from './audit-head.js';
import {
  auditKeyFiles,
  createAuditKey,
  readAuditKey,
  readKeyingStart,
  recordKeyingStart,
  type AuditKey,
} from './audit-key.js';
import {
  GENESIS_HASH,
  KEYED_ALG,
  parseRecordLine,
  recordHash,
  type AuditRecord,
} from './audit-record.js';
import { readLines, readLinesBackward } from './log-lines.js';
import { verifyChain, type VerifyResult } from './verify-chain.js';

export function auditLogPath(home: string): string {
  return path.join(home, 'audit', 'audit.log');
}

/**
 * The log could not be read or written (a broken disk or folder, not tampering, which
 * verify() reports). When append throws it, the action it would record must not go ahead.
 */
export class AuditLogError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuditLogError';
  }
}

export interface AuditLogOptions {
  now?: () => Date;
  /**
   * fsync each record and head. Without it a record is in the OS's file cache before append
   * returns, which survives a crash of this process but not a power cut.
   */
  fsync?: boolean;
  /**
   * The owner's config dir, which holds the audit key (see audit-key.ts). With it, every
   * record is keyed (HMAC) and the key is made at the first append. Without it the chain is
   * plain SHA-256, which whoever can write the log can recompute: for tests of the chain.
   */
  configDir?: string;
}

/** What the CLI needs of the log. */
export interface AuditReader {
  readonly path: string;
  tail(n: number): AuditRecord[];
  verify(): VerifyResult;
}

interface ChainEnd {
  end: AuditHead;
  /** The file ends in a torn line: the next record must start on a line of its own. */
  needsNewline: boolean;
  size: number;
}

/**
 * The append-only, hash-chained audit log: a JSON-lines file plus its head file
 * (`audit.head` beside `audit.log`). One host process writes; opening does not write, so the
 * CLI can read and verify while the host runs.
 */
export class AuditLog implements AuditSink, AuditReader {
  readonly path: string;
  readonly headPath: string;
  private fd: number | null = null;
  private chain: ChainEnd;
  private readonly now: () => Date;
  private readonly fsync: boolean;
  private readonly configDir: string | undefined;
  private key: AuditKey | undefined;

  private constructor(logPath: string, options: AuditLogOptions) {
    this.path = logPath;
    this.configDir = options.configDir;
    this.headPath = logPath.replace(/\.log$/, '') + '.head';
    this.now = options.now ?? (() => new Date());
    this.fsync = options.fsync ?? false;
    try {
      this.chain = this.readChainEnd();
    } catch (err) {
      throw new AuditLogError(`cannot read the audit log ${logPath}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  static open(logPath: string, options: AuditLogOptions = {}): AuditLog {
    return new AuditLog(logPath, options);
  }

  /** Writes one record, and the head after it, before returning. Throws AuditLogError. */
  append(event: AuditEvent): AuditRecord {
    const stored = normalizeEvent(event);
    try {
      const fd = this.openForAppend();
      // Another process appended since we last looked: continue its chain, not a fork of it.
      if (fs.fstatSync(fd).size !== this.chain.size) this.chain = this.readChainEnd();
      const { end, needsNewline } = this.chain;
      const seq = end.seq + 1;
      const ts = this.now().toISOString();
      const key = this.keyFor(seq);
      const hash = recordHash(end.hash, seq, ts, stored, key?.secret);
      const record: AuditRecord = key
        ? { seq, ts, prev: end.hash, alg: KEYED_ALG, hash, event: stored }
        : { seq, ts, prev: end.hash, hash, event: stored };
      const bytes = Buffer.from(`${needsNewline ? '\n' : ''}${JSON.stringify(record)}\n`, 'utf8');
      for (let written = 0; written < bytes.length;) {
        written += fs.writeSync(fd, bytes, written);
      }
      if (this.fsync) fs.fsyncSync(fd);
      writeHead(this.headPath, { seq, hash }, this.fsync);
      this.chain = {
        end: { seq, hash },
        needsNewline: false,
        size: this.chain.size + bytes.length,
      };
      return record;
    } catch (err) {
      throw new AuditLogError(
        `cannot append to the audit log ${this.path}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /** The last n whole records, oldest first; lines that are not records are skipped. */
  tail(n: number): AuditRecord[] {
    const records: AuditRecord[] = [];
    if (n <= 0) return records;
    for (const { text } of readLinesBackward(this.path)) {
      const parsed = parseRecordLine(text);
      if (parsed.ok) records.push(parsed.record);
      if (records.length === n) break;
    }
    return records.reverse();
  }

  verify(): VerifyResult {
    const head = readHead(this.headPath);
    let keyCheck;
    if (this.configDir !== undefined) {
      const files = auditKeyFiles(this.configDir, this.path);
      keyCheck = {
        path: files.keyPath,
        reading: readAuditKey(files.keyPath),
        start: readKeyingStart(files.startPath),
      };
    }
    return verifyChain(readLines(this.path), head, keyCheck);
  }

  /**
   * The key for the record `seq`, made on first use. Looked up again at each append until it
   * exists, so a writer never adds a plain record after another process made the key. A key
   * that cannot be used stops the append: the action it would record must not go ahead.
   */
  private keyFor(seq: number): AuditKey | undefined {
    if (this.configDir === undefined || this.key) return this.key;
    const files = auditKeyFiles(this.configDir, this.path);
    let key = readAuditKey(files.keyPath);
    if (key.state === 'missing') {
      try {
        key = createAuditKey(files.keyPath);
      } catch (err) {
        throw new Error(
          `cannot make the audit key ${files.keyPath} (${(err as Error).message}); the owner's config dir (NANOCELL_CONFIG_DIR) must be writable by nanocell to make it`,
          { cause: err },
        );
      }
    }
    if (key.state !== 'ok') throw new Error(unusableReason(key, files.keyPath));
    let start = readKeyingStart(files.startPath);
    if (start.state === 'missing') start = recordKeyingStart(files.startPath, this.path, seq);
    if (start.state !== 'ok') throw new Error(unusableReason(start, files.startPath));
    this.key = key.key;
    return this.key;
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  private openForAppend(): number {
    if (this.fd !== null) return this.fd;
    fs.mkdirSync(path.dirname(this.path), { recursive: true, mode: 0o700 });
    const fd = fs.openSync(this.path, 'a', 0o600);
    // A head from the very start means a missing head is always worth reporting.
    if (this.chain.end.seq === 0 && readHead(this.headPath).state === 'missing') {
      writeHead(this.headPath, this.chain.end, this.fsync);
    }
    this.fd = fd;
    return fd;
  }

  /**
   * Where the next record links on: the last whole record, past a torn line left by a
   * crash. When the head says the log went further, records were cut from the end; the chain
   * then goes on from the head, so the gap stays visible to verify() after new appends.
   */
  private readChainEnd(): ChainEnd {
    // Size first: an append racing this read then shows up as a size change at the next append.
    const size = fileSize(this.path);
    let last: AuditHead = { seq: 0, hash: GENESIS_HASH };
    let needsNewline = false;
    let first = true;
    for (const { text, terminated } of readLinesBackward(this.path)) {
      if (first && !terminated) needsNewline = true;
      first = false;
      const parsed = parseRecordLine(text);
      if (parsed.ok) {
        last = { seq: parsed.record.seq, hash: parsed.record.hash };
        break;
      }
    }
    const head = readHead(this.headPath);
    const end = head.state === 'ok' && head.head.seq > last.seq ? head.head : last;
    return { end, needsNewline, size };
  }
}

function fileSize(filePath: string): number {
  try {
    return fs.statSync(filePath).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

function unusableReason(reading: { state: string; reason?: string }, file: string): string {
  return reading.reason ?? `${file} vanished while it was being made`;
}
