/**
 * Splits a cell's stdout into newline-terminated frames without ever holding more than
 * `maxFrameBytes` of an unfinished one. A cell controls every byte of that stream (a process in
 * it can write straight into the tool server's stdout through /proc/$PPID/fd/1), so an endless
 * line must cost the host a bounded buffer, never a string past V8's limit.
 *
 * After an overflow the reader is spent: it reports once and drops everything after.
 */
export type FrameEvent = { kind: 'frame'; text: string } | { kind: 'overflow'; limitBytes: number };

export class FrameReader {
  private parts: Buffer[] = [];
  private buffered = 0;
  private spent = false;

  constructor(private readonly maxFrameBytes: number) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1) {
      throw new Error(`maxFrameBytes must be a positive integer, got ${maxFrameBytes}`);
    }
  }

  /** The frames `chunk` completes, in order; an overflow ends the list and the reader. */
  push(chunk: Buffer): FrameEvent[] {
    if (this.spent) return [];
    const events: FrameEvent[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      if (this.buffered + (end - start) > this.maxFrameBytes) {
        this.spent = true;
        events.push({ kind: 'overflow', limitBytes: this.maxFrameBytes });
        this.parts = [];
        this.buffered = 0;
        return events;
      }
      if (nl === -1) {
        if (end > start) {
          // A copy: a slice would pin the whole chunk the stream handed us.
          this.parts.push(Buffer.from(chunk.subarray(start, end)));
          this.buffered += end - start;
        }
        return events;
      }
      const last = chunk.subarray(start, nl);
      const whole = this.parts.length === 0 ? last : Buffer.concat([...this.parts, last]);
      this.parts = [];
      this.buffered = 0;
      events.push({ kind: 'frame', text: whole.toString('utf8') });
      start = nl + 1;
    }
  }

  /** Bytes of an unfinished frame held right now. */
  get bufferedBytes(): number {
    return this.buffered;
  }
}
