import fs from 'node:fs';

export interface LogLine {
  /** 1-based. */
  line: number;
  text: string;
  /** False only for a last line with no newline after it: an append cut short by a crash. */
  terminated: boolean;
}

const NEWLINE = 0x0a;
const DEFAULT_CHUNK_BYTES = 64 * 1024;

function openForReading(filePath: string): number | null {
  try {
    return fs.openSync(filePath, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Every line of a file in order, read in chunks so a long log never sits in memory whole. */
export function* readLines(filePath: string, chunkBytes = DEFAULT_CHUNK_BYTES): Generator<LogLine> {
  const fd = openForReading(filePath);
  if (fd === null) return;
  try {
    const chunk = Buffer.alloc(chunkBytes);
    let partial: Buffer[] = [];
    let line = 0;
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunkBytes, null);
      if (n === 0) break;
      let start = 0;
      for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1 && nl < n;) {
        partial.push(chunk.subarray(start, nl));
        yield { line: ++line, text: Buffer.concat(partial).toString('utf8'), terminated: true };
        partial = [];
        start = nl + 1;
        nl = chunk.indexOf(NEWLINE, start);
      }
      if (start < n) partial.push(Buffer.from(chunk.subarray(start, n)));
    }
    if (partial.length > 0) {
      yield { line: ++line, text: Buffer.concat(partial).toString('utf8'), terminated: false };
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The lines of a file from the last to the first, read backwards in chunks: the end of the
 * log is found without reading all of it. Line numbers are not known this way.
 */
export function* readLinesBackward(
  filePath: string,
  chunkBytes = DEFAULT_CHUNK_BYTES,
): Generator<Omit<LogLine, 'line'>> {
  const fd = openForReading(filePath);
  if (fd === null) return;
  try {
    let pos = fs.fstatSync(fd).size;
    // Bytes after the earliest newline seen so far: the end of a line whose start is unread.
    let rest = Buffer.alloc(0);
    let atEnd = true;
    while (pos > 0) {
      const start = Math.max(0, pos - chunkBytes);
      const chunk = Buffer.alloc(pos - start);
      fs.readSync(fd, chunk, 0, chunk.length, start);
      pos = start;
      const buf = Buffer.concat([chunk, rest]);
      let end = buf.length;
      for (let nl = buf.lastIndexOf(NEWLINE, end - 1); nl !== -1;) {
        const text = buf.subarray(nl + 1, end).toString('utf8');
        if (!atEnd) yield { text, terminated: true };
        else if (text.length > 0) yield { text, terminated: false };
        atEnd = false;
        end = nl;
        nl = nl === 0 ? -1 : buf.lastIndexOf(NEWLINE, nl - 1);
      }
      rest = Buffer.from(buf.subarray(0, end));
    }
    const text = rest.toString('utf8');
    if (!atEnd) yield { text, terminated: true };
    else if (text.length > 0) yield { text, terminated: false };
  } finally {
    fs.closeSync(fd);
  }
}
