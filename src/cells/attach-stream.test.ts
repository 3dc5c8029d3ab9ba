import { describe, expect, it } from 'vitest';
import { AttachStreamDemuxer, type AttachStreamName } from './attach-stream.js';

function frame(stream: number, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

function collect() {
  const got: Record<AttachStreamName, string> = { stdout: '', stderr: '' };
  const chunks: number[] = [];
  const demuxer = new AttachStreamDemuxer((stream, chunk) => {
    got[stream] += chunk.toString();
    chunks.push(chunk.length);
  });
  return { got, chunks, demuxer };
}

describe('AttachStreamDemuxer', () => {
  it('splits stdout from stderr, whatever the chunks the frames arrive in', () => {
    const wire = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err\n'), frame(1, 'out two\n')]);
    for (const size of [1, 3, 8, 9, wire.length]) {
      const { got, demuxer } = collect();
      for (let at = 0; at < wire.length; at += size) demuxer.push(wire.subarray(at, at + size));
      expect(got).toEqual({ stdout: 'out one\nout two\n', stderr: 'err\n' });
      expect(demuxer.error).toBeUndefined();
    }
  });

  it('passes a huge frame on as it comes, never gathering it', () => {
    const { chunks, demuxer } = collect();
    const header = frame(1, '').subarray(0, 8);
    header.writeUInt32BE(0xffffffff, 4);
    demuxer.push(header);
    for (let i = 0; i < 100; i++) demuxer.push(Buffer.alloc(64 * 1024, 'a'));
    expect(chunks).toHaveLength(100);
    expect(Math.max(...chunks)).toBe(64 * 1024);
  });

  it('skips stdin frames and stops at a stream number the engine never sends', () => {
    const { got, demuxer } = collect();
    demuxer.push(
      Buffer.concat([frame(0, 'echoed'), frame(1, 'ok'), frame(7, 'forged'), frame(1, 'after')]),
    );
    expect(got.stdout).toBe('ok');
    expect(demuxer.error).toBe('an attach frame of unknown stream 7');
  });
});
