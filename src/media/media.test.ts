import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempHome } from '../../test/support/temp-home.js';
import type { InboundMedia } from '../channels/channel.js';
import { sniffImageType, MAX_IMAGE_BYTES } from './image-check.js';
import { inboxName } from './inbox-name.js';
import { mediaTurn } from './media-turn.js';
import { saveInboundMedia } from './save-inbound-media.js';
import { CommandTranscriber } from './transcriber.js';

/** A 1x1 png (its signature and a few bytes are all the sniffer reads). */
const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const NOW = new Date('2026-03-01T10:00:00.000Z');
const limits = { maxAttachmentBytes: 1024 };

describe('inbound media', () => {
  let home: { dir: string; cleanup: () => void };
  let groupDir: string;
  beforeEach(() => {
    home = tempHome();
    groupDir = path.join(home.dir, 'family');
    fs.mkdirSync(groupDir);
  });
  afterEach(() => home.cleanup());

  const media = (m: Partial<InboundMedia>): InboundMedia => ({
    kind: 'document',
    name: 'notes.txt',
    mime: 'text/plain',
    bytes: Buffer.from('hello'),
    ...m,
  });

  it('knows images by their bytes, not by the type the sender claims', () => {
    expect(sniffImageType(TINY_PNG)).toBe('image/png');
    expect(sniffImageType(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(sniffImageType(Buffer.from('GIF89a....'))).toBe('image/gif');
    expect(sniffImageType(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(
      sniffImageType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')),
    ).toBeUndefined();
  });

  it('makes inbox names plain, dated and never hidden', () => {
    expect(inboxName('../../etc/passwd', 'document', 'text/plain', NOW)).toBe(
      '20260301-100000-etc_passwd',
    );
    expect(inboxName('.bashrc', 'document', 'text/plain', NOW)).toBe('20260301-100000-bashrc');
    expect(inboxName('', 'voice', 'audio/ogg', NOW)).toBe('20260301-100000-voice.ogg');
  });

  it('saves a document under inbox/ and names it in the turn', async () => {
    const [saved] = saveInboundMedia(groupDir, [media({})], limits, NOW);
    expect(saved?.path).toBe('inbox/20260301-100000-notes.txt');
    expect(fs.readFileSync(path.join(groupDir, saved?.path ?? ''), 'utf8')).toBe('hello');
    expect(fs.statSync(path.join(groupDir, 'inbox')).mode & 0o777).toBe(0o700);
    const turn = await mediaTurn(groupDir, saved ? [saved] : [], limits);
    expect(turn.lines).toEqual([
      '[document "notes.txt" saved as inbox/20260301-100000-notes.txt (text/plain, 5 B)]',
    ]);
    expect(turn.images).toEqual([]);
  });

  it('keeps two files of the same name apart', () => {
    const saved = saveInboundMedia(groupDir, [media({}), media({})], limits, NOW);
    expect(saved.map((s) => s.path)).toEqual([
      'inbox/20260301-100000-notes.txt',
      'inbox/20260301-100000-notes-2.txt',
    ]);
  });

  it('turns a saved image into an image block for the model', async () => {
    const saved = saveInboundMedia(
      groupDir,
      [media({ kind: 'image', name: 'cat.png', mime: 'image/jpeg', bytes: TINY_PNG })],
      limits,
      NOW,
    );
    expect(saved[0]?.mime).toBe('image/png');
    const turn = await mediaTurn(groupDir, saved, limits);
    expect(turn.images).toEqual([
      {
        type: 'image',
        source: { type: 'base64', media_type: 'image/png', data: TINY_PNG.toString('base64') },
      },
    ]);
    expect(turn.lines[0]).toContain('attached below');
  });

  it('drops an image that is not one, or is too big, and says why', async () => {
    const big = Buffer.concat([TINY_PNG, Buffer.alloc(MAX_IMAGE_BYTES)]);
    const saved = saveInboundMedia(
      groupDir,
      [
        media({ kind: 'image', name: 'x.png', bytes: Buffer.from('<svg/>') }),
        media({ kind: 'image', name: 'big.png', bytes: big }),
        media({ name: 'huge.pdf', bytes: Buffer.alloc(2048) }),
      ],
      limits,
      NOW,
    );
    expect(saved.every((s) => s.path === undefined)).toBe(true);
    expect(fs.existsSync(path.join(groupDir, 'inbox'))).toBe(true);
    expect(fs.readdirSync(path.join(groupDir, 'inbox'))).toEqual([]);
    const turn = await mediaTurn(groupDir, saved, limits);
    expect(turn.lines).toEqual([
      '[image "x.png" was not kept: it is not a png, jpeg, gif or webp image]',
      `[image "big.png" was not kept: it is ${big.length} bytes; images the model sees are at most ${MAX_IMAGE_BYTES} bytes]`,
      '[document "huge.pdf" was not kept: it is 2048 bytes; files are kept up to 1024 bytes (NANOCELL_MAX_ATTACHMENT_MB)]',
    ]);
  });

  it('never writes through an inbox the cell replaced by a link', () => {
    const outside = path.join(home.dir, 'outside');
    fs.mkdirSync(outside);
    fs.symlinkSync(outside, path.join(groupDir, 'inbox'));
    const [saved] = saveInboundMedia(groupDir, [media({})], limits, NOW);
    expect(saved?.path).toBeUndefined();
    expect(saved?.dropped).toMatch(/inbox folder is unusable/);
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('does not show an image the cell swapped for a link before the run', async () => {
    const saved = saveInboundMedia(
      groupDir,
      [media({ kind: 'image', name: 'cat.png', bytes: TINY_PNG })],
      limits,
      NOW,
    );
    const file = path.join(groupDir, saved[0]?.path ?? '');
    fs.rmSync(file);
    fs.writeFileSync(path.join(home.dir, 'secret.png'), TINY_PNG);
    fs.symlinkSync(path.join(home.dir, 'secret.png'), file);
    const turn = await mediaTurn(groupDir, saved, limits);
    expect(turn.images).toEqual([]);
    expect(turn.lines[0]).toMatch(/cannot be shown/);
  });

  it('says a voice note is not transcribed when no command is set', async () => {
    const saved = saveInboundMedia(
      groupDir,
      [media({ kind: 'voice', name: '', mime: 'audio/ogg', bytes: Buffer.from('OggS') })],
      limits,
      NOW,
    );
    const turn = await mediaTurn(groupDir, saved, limits);
    expect(turn.lines).toEqual([
      '[voice "(unnamed)" saved as inbox/20260301-100000-voice.ogg; not transcribed (no NANOCELL_TRANSCRIBE_COMMAND is set)]',
    ]);
  });

  it('adds the transcript the configured command prints', async () => {
    const script = path.join(home.dir, 'transcribe.sh');
    fs.writeFileSync(script, '#!/bin/sh\nprintf "heard: "; cat "$1"\n', { mode: 0o755 });
    const saved = saveInboundMedia(
      groupDir,
      [media({ kind: 'voice', name: 'v.ogg', mime: 'audio/ogg', bytes: Buffer.from('buy milk') })],
      limits,
      NOW,
    );
    const transcriber = new CommandTranscriber(script, { timeoutMs: 10_000, maxOutputBytes: 1000 });
    const turn = await mediaTurn(groupDir, saved, { ...limits, transcriber });
    expect(turn.lines[0]).toMatch(/transcript: heard: buy milk\]$/);
  });

  it('bounds the transcription command in time and output', async () => {
    const slow = path.join(home.dir, 'slow.sh');
    fs.writeFileSync(slow, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
    const chatty = path.join(home.dir, 'chatty.sh');
    fs.writeFileSync(chatty, '#!/bin/sh\nexec yes\n', { mode: 0o755 });
    const opts = { timeoutMs: 300, maxOutputBytes: 100 };
    expect(await new CommandTranscriber(slow, opts).transcribe('/dev/null')).toEqual({
      ok: false,
      reason: 'the transcription command took longer than 300 ms',
    });
    expect(await new CommandTranscriber(chatty, opts).transcribe('/dev/null')).toEqual({
      ok: false,
      reason: 'the transcription command printed more than 100 bytes',
    });
    expect(
      await new CommandTranscriber('/nonexistent/cmd', opts).transcribe('/dev/null'),
    ).toMatchObject({
      ok: false,
    });
  });
});
