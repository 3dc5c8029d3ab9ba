import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DISCONNECT, FakeWhatsApp } from '../../../test/support/fake-whatsapp.js';
import type { ChannelHandlers, InboundMessage, Receipt } from '../channel.js';
import { WhatsAppChannel, WhatsAppStartError } from './whatsapp-channel.js';

/** Log records the channel wrote, parsed. */
function capturedLog() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

class Host {
  readonly messages: InboundMessage[] = [];
  receipt: Receipt | null = null;
  readonly handlers: ChannelHandlers = {
    onMessage: async (message) => {
      this.messages.push(message);
      return this.receipt ?? { status: 'stored', id: this.messages.length };
    },
    onAction: async () => ({ status: 'refused', reason: 'no actions here' }),
  };
}

const MAX_BYTES = 1000;

describe('WhatsAppChannel', () => {
  let fake: FakeWhatsApp;
  let host: Host;
  let logged: ReturnType<typeof capturedLog>;
  let channel: WhatsAppChannel;
  const make = (startTimeoutMs = 2000) =>
    new WhatsAppChannel({
      connect: fake.connect,
      log: logged.log,
      maxAttachmentBytes: MAX_BYTES,
      startTimeoutMs,
      reconnectBaseMs: 5,
      reconnectMaxMs: 20,
    });

  beforeEach(() => {
    fake = new FakeWhatsApp();
    host = new Host();
    logged = capturedLog();
    channel = make();
  });
  afterEach(async () => {
    await channel.stop();
  });

  /** Waits for the ✅ on a message: the host stored it. */
  const storedReceipt = (id: string) => fake.next('react', (e) => e.messageId === id);

  describe('connecting', () => {
    it('keeps delivering after WhatsApp drops the connection (a new socket, with backoff)', async () => {
      await channel.start(host.handlers);
      await storedReceipt(fake.userSays('before'));

      const reopened = fake.nextOpen();
      fake.close(DISCONNECT.connectionLost);
      expect(channel.status()).toMatchObject({ state: 'reconnecting' });
      await expect(channel.send(fake.ownerJid, { text: 'x' })).rejects.toThrow(/reconnecting/);
      await reopened;

      await storedReceipt(fake.userSays('after'));
      expect(host.messages.map((m) => m.text)).toEqual(['before', 'after']);
      expect(fake.connects).toBe(2);
      expect(channel.status()).toEqual({ state: 'connected' });
    });

    it('retries a reconnect that fails, and recovers', async () => {
      await channel.start(host.handlers);
      fake.refuseNext.push(
        { code: DISCONNECT.connectionClosed },
        { code: DISCONNECT.connectionLost },
      );

      const reopened = fake.nextOpen();
      fake.close(DISCONNECT.connectionLost);
      await reopened;

      expect(fake.connects).toBe(4);
      await storedReceipt(fake.userSays('back'));
      expect(fake.openSockets).toBe(1);
    });

    it('stops for good when the phone logs the device out, and says what to do', async () => {
      await channel.start(host.handlers);

      fake.close(DISCONNECT.loggedOut);

      expect(channel.status()).toEqual({
        state: 'failed',
        reason: 'WhatsApp logged this device out: run nanocell whatsapp link again',
      });
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(fake.connects).toBe(1);
      expect(logged.lines).toContainEqual(
        expect.objectContaining({
          level: 50,
          msg: 'WhatsApp logged this device out: run nanocell whatsapp link again',
        }),
      );
    });

    it('fails to start with the fix when the device is logged out', async () => {
      fake.refuseNext.push({ code: DISCONNECT.loggedOut });

      const started = channel.start(host.handlers);

      await expect(started).rejects.toBeInstanceOf(WhatsAppStartError);
      await expect(started).rejects.toThrow('run nanocell whatsapp link again');
      expect(fake.openSockets).toBe(0);
    });

    it('fails to start when WhatsApp asks for a new link (a QR code)', async () => {
      fake.refuseNext.push('qr');

      await expect(channel.start(host.handlers)).rejects.toThrow(/nanocell whatsapp link/);
    });

    it('fails to start, naming the wait, when the connection never opens', async () => {
      channel = make(100);
      fake.refuseNext.push('hang');

      await expect(channel.start(host.handlers)).rejects.toThrow(
        /could not be reached within 100 ms/,
      );
      expect(fake.openSockets).toBe(0);
    });

    it('retries when WhatsApp asks for a restart while connecting (after linking)', async () => {
      fake.refuseNext.push({ code: DISCONNECT.restartRequired });

      await channel.start(host.handlers);

      expect(fake.connects).toBe(2);
      expect(channel.status()).toEqual({ state: 'connected' });
    });

    it('takes a connection that closes the moment it opens as a failed try', async () => {
      fake.refuseNext.push({ code: DISCONNECT.connectionLost, afterOpen: true });

      await channel.start(host.handlers);

      expect(fake.connects).toBe(2);
      await storedReceipt(fake.userSays('still here'));
      expect(fake.openSockets).toBe(1);
    });

    it('leaves nothing open when stopped while it connects', async () => {
      const starting = channel.start(host.handlers);
      await channel.stop();

      await expect(starting).rejects.toThrow(/stopped while connecting/);
      expect(fake.openSockets).toBe(0);
    });

    it('connects no more after stop, even mid-reconnect', async () => {
      await channel.start(host.handlers);
      fake.close(DISCONNECT.connectionLost);
      await channel.stop();
      await new Promise((resolve) => setTimeout(resolve, 60));

      expect(fake.connects).toBe(1);
      expect(fake.openSockets).toBe(0);
    });
  });

  describe('inbound', () => {
    beforeEach(async () => {
      await channel.start(host.handlers);
    });

    it('skips our own messages, status updates, history and types it cannot use, and logs the odd ones', async () => {
      const me = fake.messageId();
      fake.upsert({
        type: 'notify',
        messages: [
          {
            key: { remoteJid: fake.ownerJid, fromMe: true, id: me },
            message: { conversation: 'mine' },
          },
          {
            key: {
              remoteJid: 'status@broadcast',
              fromMe: false,
              id: fake.messageId(),
              participant: fake.ownerJid,
            },
            message: { conversation: 'my status' },
          },
          {
            key: {
              remoteJid: '120363000000000000@newsletter',
              fromMe: false,
              id: fake.messageId(),
            },
            message: { conversation: 'a channel post' },
          },
        ],
      });
      fake.upsert({
        type: 'append',
        messages: [
          {
            key: { remoteJid: fake.ownerJid, fromMe: false, id: fake.messageId() },
            message: { conversation: 'old' },
          },
        ],
      });
      fake.userSends({ stickerMessage: { mimetype: 'image/webp' } });
      fake.userSends({ locationMessage: { degreesLatitude: 1, degreesLongitude: 2 } });
      fake.upsert({ type: 'notify', messages: [{ key: 'not an object' }, null] });
      fake.upsert({ type: 'notify', messages: 'nope' });

      await storedReceipt(fake.userSays('the real one'));

      expect(host.messages.map((m) => m.text)).toEqual(['the real one']);
      const skipped = logged.lines.filter((l) => l.msg === 'whatsapp message skipped');
      expect(skipped).toContainEqual(
        expect.objectContaining({ skip: 'unknown type', detail: 'stickerMessage', level: 30 }),
      );
      expect(skipped).toContainEqual(
        expect.objectContaining({ skip: 'unknown type', detail: 'locationMessage' }),
      );
      expect(skipped).toContainEqual(expect.objectContaining({ skip: 'malformed' }));
      expect(skipped).toContainEqual(expect.objectContaining({ skip: 'from me' }));
      expect(skipped).toContainEqual(expect.objectContaining({ skip: 'status' }));
      expect(fake.pending().filter((e) => e.kind === 'text')).toEqual([]);
    });

    it('takes text from extended text, captions, and wrapped (disappearing) messages', async () => {
      await storedReceipt(
        fake.userSends({
          extendedTextMessage: { text: 'see https://x.example', matchedText: 'https://x.example' },
        }),
      );
      await storedReceipt(
        fake.userSends({
          ephemeralMessage: { message: { conversation: 'gone in 7 days' } },
          messageContextInfo: {},
        }),
      );
      await storedReceipt(
        fake.userSends({
          buttonsResponseMessage: { selectedButtonId: 'b1', selectedDisplayText: 'Yes' },
        }),
      );

      expect(host.messages.map((m) => m.text)).toEqual([
        'see https://x.example',
        'gone in 7 days',
        'Yes',
      ]);
      expect(host.messages[0]).toMatchObject({
        channel: 'whatsapp',
        chatId: fake.ownerJid,
        sender: fake.ownerJid,
        senderName: 'Owner',
      });
    });

    it('names the group as the chat and the participant as the sender', async () => {
      const member = '447700900456:7@s.whatsapp.net';
      await storedReceipt(
        fake.userSays('hi all', { jid: fake.groupJid, participant: member, pushName: 'Ann\u202e' }),
      );

      expect(host.messages[0]).toMatchObject({
        chatId: fake.groupJid,
        sender: '447700900456@s.whatsapp.net',
        senderName: 'Ann',
      });
    });

    it('uses the phone-number jid beside a private (@lid) one', async () => {
      const id = fake.messageId();
      fake.upsert({
        type: 'notify',
        messages: [
          {
            key: {
              remoteJid: '123456789012345@lid',
              remoteJidAlt: fake.ownerJid,
              fromMe: false,
              id,
            },
            message: { conversation: 'via lid' },
          },
        ],
      });
      await storedReceipt(id);

      expect(host.messages[0]).toMatchObject({ chatId: fake.ownerJid, sender: fake.ownerJid });
    });

    it('marks a stored message with ✅ and reads it; quotes a refusal; says nothing when ignored', async () => {
      const stored = fake.userSays('one');
      expect(await storedReceipt(stored)).toMatchObject({ emoji: '✅', jid: fake.ownerJid });
      expect(await fake.next('read')).toEqual({
        kind: 'read',
        jid: fake.ownerJid,
        messageId: stored,
      });

      host.receipt = { status: 'refused', reason: 'this chat is not bound to a group' };
      const refused = fake.userSays('two');
      expect(await fake.next('text')).toMatchObject({
        quotedId: refused,
        text: 'this chat is not bound to a group',
      });

      host.receipt = { status: 'ignored' };
      fake.userSays('three');
      await vi.waitFor(() => expect(host.messages).toHaveLength(3));
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(fake.pending()).toEqual([]);
    });

    it('hands in an image with its caption, a document and a voice note, downloaded', async () => {
      const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
      const pdf = Buffer.from('%PDF-1.4 tiny');
      const ogg = Buffer.from('OggS voice');
      await storedReceipt(fake.userSendsImage(jpeg, 'our cat'));
      await storedReceipt(fake.userSendsDocument(pdf, 'plan.pdf', 'application/pdf'));
      await storedReceipt(fake.userSendsVoice(ogg));

      expect(host.messages.map((m) => [m.text, m.media])).toEqual([
        ['our cat', [{ kind: 'image', name: 'image.jpg', mime: 'image/jpeg', bytes: jpeg }]],
        ['', [{ kind: 'document', name: 'plan.pdf', mime: 'application/pdf', bytes: pdf }]],
        ['', [{ kind: 'voice', name: 'voice.ogg', mime: 'audio/ogg', bytes: ogg }]],
      ]);
    });

    it('refuses a file over the limit from its declared size, before downloading it', async () => {
      const id = fake.userSendsImage(Buffer.alloc(10), 'huge', {}, 50 * 1024 * 1024);

      const told = await fake.next('text', (e) => e.quotedId === id);

      expect(told.text).toBe(
        'This file is 50.0 MB; the limit is 1000 B. Please send a smaller one.',
      );
      expect(fake.downloads).toBe(0);
      expect(host.messages).toEqual([]);
    });

    it('refuses a file whose bytes run past the limit though it declared less', async () => {
      const id = fake.userSendsVoice(Buffer.alloc(MAX_BYTES + 1), {}, 10);

      const told = await fake.next('text', (e) => e.quotedId === id);

      expect(told.text).toMatch(/the limit is 1000 B/);
      expect(host.messages).toEqual([]);
    });

    it('cuts a message far over any real length', async () => {
      await storedReceipt(fake.userSays('x'.repeat(50_000)));

      expect(host.messages[0]!.text).toMatch(/^x{16000}\n\[message cut at 16000 characters\]$/);
    });

    it('tells the sender to try again when the host fails, and goes on', async () => {
      const failing = new Host();
      failing.handlers.onMessage = async () => {
        throw new Error('disk on fire');
      };
      await channel.stop();
      channel = make();
      await channel.start(failing.handlers);
      const id = fake.userSays('hello');

      expect((await fake.next('text', (e) => e.quotedId === id)).text).toMatch(/send it again/);
    });
  });

  describe('outbound', () => {
    beforeEach(async () => {
      await channel.start(host.handlers);
    });

    it("writes WhatsApp's markup and keeps code as it is", async () => {
      await channel.send(fake.ownerJid, { text: '**Done**: see `a **b**` and *this*' });

      expect((await fake.next('text')).text).toBe('*Done*: see `a **b**` and _this_');
    });

    it('splits a long reply at 4000 characters without breaking a code block', async () => {
      const code = Array.from({ length: 200 }, (_, i) => `line ${i} ${'y'.repeat(20)}`).join('\n');
      await channel.send(fake.ownerJid, {
        text: `${'para '.repeat(200)}\n\`\`\`ts\n${code}\n\`\`\``,
      });

      const first = await fake.next('text');
      const second = await fake.next('text');
      for (const part of [first, second]) {
        expect(part.text.length).toBeLessThanOrEqual(4000);
        expect(part.text.match(/```/g)?.length ?? 0).toBe(2);
      }
      expect(second.text.startsWith('```ts')).toBe(true);
    });

    it('sends an image as an image (named in its caption) and other files as documents', async () => {
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
      const csv = Buffer.from('a,b\n1,2\n');
      await channel.send(fake.groupJid, {
        text: 'files',
        attachments: [
          { name: 'chart.png', mime: 'image/png', bytes: png },
          { name: 'data.csv', mime: 'text/csv', bytes: csv },
        ],
      });

      expect(await fake.next('text')).toMatchObject({ jid: fake.groupJid, text: 'files' });
      expect(await fake.next('file')).toMatchObject({
        as: 'image',
        caption: 'chart.png',
        bytes: png,
      });
      expect(await fake.next('file')).toMatchObject({
        as: 'document',
        name: 'data.csv',
        mime: 'text/csv',
        bytes: csv,
      });
    });

    it('edits a sent message through its key, and shows typing', async () => {
      const sent = await channel.send(fake.ownerJid, { text: 'thinking' });
      await channel.edit(fake.ownerJid, sent, '**done**');
      await channel.typing(fake.groupJid);

      expect(await fake.next('edit')).toMatchObject({ id: sent.id, text: '*done*' });
      expect(await fake.next('presence')).toEqual({
        kind: 'presence',
        jid: fake.groupJid,
        presence: 'composing',
      });
    });

    it('refuses a chat id that is not a jid of a person or a group', async () => {
      await expect(channel.send('status@broadcast', { text: 'x' })).rejects.toThrow(
        /not a whatsapp chat id/,
      );
    });
  });
});
