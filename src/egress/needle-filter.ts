import { Transform, type TransformCallback } from 'node:stream';

export interface Needle {
  find: Buffer;
  /** What to write instead; null: finding it stops the stream with NeedleFoundError. */
  replaceWith: Buffer | null;
  /** Why finding a forbidden needle stops the stream (for the audit log and the cell). */
  reason?: string;
}

export class NeedleFoundError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'NeedleFoundError';
  }
}

/**
 * Replaces or forbids byte strings in a stream of any length, also across chunk boundaries:
 * it holds back the last (longest needle - 1) bytes until the next chunk shows how they end.
 * A forbidden needle is never passed on, not even in part.
 */
export class NeedleFilter extends Transform {
  private carry: Buffer = Buffer.alloc(0);
  private readonly keep: number;

  constructor(private readonly needles: readonly Needle[]) {
    super();
    this.keep = Math.max(0, ...needles.map((n) => n.find.length - 1));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.scan(Buffer.concat([this.carry, chunk]), false, callback);
  }

  override _flush(callback: TransformCallback): void {
    this.scan(this.carry, true, callback);
  }

  private scan(buf: Buffer, final: boolean, callback: TransformCallback): void {
    const parts: Buffer[] = [];
    let pos = 0;
    for (;;) {
      let at = -1;
      let found: Needle | undefined;
      for (const needle of this.needles) {
        const i = buf.indexOf(needle.find, pos);
        if (i !== -1 && (at === -1 || i < at)) {
          at = i;
          found = needle;
        }
      }
      if (!found) break;
      if (!found.replaceWith) {
        callback(new NeedleFoundError(found.reason ?? 'forbidden content in the stream'));
        return;
      }
      parts.push(buf.subarray(pos, at), found.replaceWith);
      pos = at + found.find.length;
    }
    // A needle cut off by the chunk's end starts within the last `keep` bytes.
    const cut = final ? buf.length : Math.max(pos, buf.length - this.keep);
    parts.push(buf.subarray(pos, cut));
    this.carry = Buffer.from(buf.subarray(cut));
    const out = Buffer.concat(parts);
    callback(null, out.length > 0 ? out : undefined);
  }
}
