/** Which of a container's streams a piece of an attach stream belongs to. */
export type AttachStreamName = 'stdout' | 'stderr';

const HEADER_BYTES = 8;

/**
 * The engine API's multiplexed attach stream (docker's and podman's, for a container without a
 * terminal): frames of an 8-byte header (stream 1 stdout, 2 stderr; three zero bytes; the
 * payload's length, 32-bit big-endian) and the payload. What a cell writes is untrusted: the
 * payload is passed on as it arrives, never gathered, so a frame that claims 4 GiB holds no
 * more memory than the chunk in hand; only a header is ever buffered.
 */
export class AttachStreamDemuxer {
  private header = Buffer.alloc(0);
  private stream: AttachStreamName | undefined;
  private remaining = 0;
  private broken: string | undefined;

  constructor(private readonly onData: (stream: AttachStreamName, chunk: Buffer) => void) {}

  /** Why the stream is not well formed, once it is not; nothing more is passed on then. */
  get error(): string | undefined {
    return this.broken;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.broken) {
      if (this.remaining > 0) {
        const piece = chunk.subarray(at, at + this.remaining);
        at += piece.length;
        this.remaining -= piece.length;
        if (this.stream) this.onData(this.stream, piece);
        continue;
      }
      const need = HEADER_BYTES - this.header.length;
      this.header = Buffer.concat([this.header, chunk.subarray(at, at + need)]);
      at += Math.min(need, chunk.length - at);
      if (this.header.length < HEADER_BYTES) return;
      const kind = this.header[0];
      if (kind !== 1 && kind !== 2 && kind !== 0) {
        this.broken = `an attach frame of unknown stream ${kind}`;
        return;
      }
      // Stream 0 (stdin echoed back) carries nothing a cell's host reads: skipped.
      this.stream = kind === 1 ? 'stdout' : kind === 2 ? 'stderr' : undefined;
      this.remaining = this.header.readUInt32BE(4);
      this.header = Buffer.alloc(0);
    }
  }
}
