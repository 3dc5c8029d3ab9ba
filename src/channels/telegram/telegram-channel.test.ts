import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { FakeTelegram } from '../../../test/support/fake-telegram.js';
import type { ChannelHandlers, InboundAction, InboundMessage, Receipt } from '../channel.js';
import {
  TelegramChannel,
  TelegramStartError,
  type TelegramChannelOptions,
} from './telegram-channel.js';
import { OFFSET_FILE } from './telegram-offset.js';

const TOKEN = '123456:fake-token-for-the-channel-tests';
const KB = 1024;

/** A log the test can read: one parsed JSON object per line. */
function memoryLog() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

class Host {
  readonly messages: InboundMessage[] = [];
  readonly actions: InboundAction[] = [];
  failNext = 0;
  private waiting: Array<(m: InboundMessage) => void> = [];
  readonly handlers: ChannelHandlers = {
    onMessage: async (message): Promise<Receipt> => {
      if (this.failNext > 0) {
        this.failNext--;
        throw new Error('store is down');
      }
      this.messages.push(message);
      for (const w of this.waiting.splice(0)) w(message);
      return { status: 'stored', id: this.messages.length };
    },
    onAction: async (action) => {
      this.actions.push(action);
      return { status: 'stored', id: 0 };
    },
  };
  nextMessage(): Promise<InboundMessage> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

describe('TelegramChannel against the fake Bot API', () => {
  let fake: FakeTelegram;
  let home: string;
  let channels: TelegramChannel[] = [];
  beforeEach(async () => {
    fake = await FakeTelegram.start(TOKEN);
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-telegram-'));
  });
  afterEach(async () => {
    await Promise.all(channels.map((c) => c.stop()));
    channels = [];
    await fake.stop();
    fs.rmSync(home, { recursive: true, force: true });
  });

  const make = (options: Partial<TelegramChannelOptions> = {}) => {
    const channel = new TelegramChannel({
      token: TOKEN,
      apiRoot: fake.apiRoot,
      home,
      log: pino({ level: 'silent' }),
      maxAttachmentBytes: 64 * KB,
      pollTimeoutSeconds: 2,
      ...options,
    });
    channels.push(channel);
    return channel;
  };
  const started = async (host = new Host(), options: Partial<TelegramChannelOptions> = {}) => {
    const channel = make(options);
    await channel.start(host.handlers);
    return { host, channel };
  };

  it('resumes after a restart from the saved offset: nothing replayed, nothing lost', async () => {
    const first = await started();
    const one = first.host.nextMessage();
    const oneId = fake.userSays('one');
    expect((await one).text).toBe('one');
    await fake.next('reaction', (e) => e.messageId === oneId);
    await first.channel.stop();
    fake.userSays('two while the host was down');
    // The bot crashed before its next poll: Telegram would send "one" again.
    fake.forgetConfirmations();

    const second = await started();
    const two = await second.host.nextMessage();

    expect(two.text).toBe('two while the host was down');
    expect(second.host.messages.map((m) => m.text)).toEqual(['two while the host was down']);
    const saved = JSON.parse(fs.readFileSync(path.join(home, OFFSET_FILE), 'utf8')) as object;
    expect(saved).toEqual({ botId: fake.bot.id, nextUpdateId: expect.any(Number) });
  });

  it('does not save the offset when onMessage fails, and takes the message on the next try', async () => {
    const clock = new FakeClock();
    const host = new Host();
    host.failNext = 1;
    await started(host, { clock });
    const arrived = host.nextMessage();
    const id = fake.userSays('keep me');

    await vi.waitFor(() => expect(clock.pendingTimers()).toBe(1));
    expect(fs.existsSync(path.join(home, OFFSET_FILE))).toBe(false);
    clock.advance(1000);

    expect((await arrived).text).toBe('keep me');
    await fake.next('reaction', (e) => e.messageId === id);
  });

  it('gives up on a message the host fails three times, asks the sender to resend, and goes on', async () => {
    const clock = new FakeClock();
    const host = new Host();
    host.failNext = 3;
    await started(host, { clock });
    fake.userSays('doomed');

    for (const ms of [1000, 2000]) {
      await vi.waitFor(() => expect(clock.pendingTimers()).toBe(1));
      clock.advance(ms);
    }
    const sorry = await fake.next('message');
    expect(sorry.text).toBe('Sorry, this message could not be taken in. Please send it again.');
    const next = host.nextMessage();
    fake.userSays('again');
    expect((await next).text).toBe('again');
  });

  it('waits as long as a 429 says (retry_after) before trying a send again', async () => {
    const clock = new FakeClock();
    const { channel } = await started(new Host(), { clock });
    fake.fail({ method: 'sendMessage', status: 429, retryAfterSeconds: 3 });
    const sends = () => fake.calls.filter((c) => c === 'sendMessage').length;

    const sent = channel.send(String(fake.chatId), { text: 'after the wait' });
    await vi.waitFor(() => expect(clock.pendingTimers()).toBe(1));
    clock.advance(2999);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sends()).toBe(1);
    clock.advance(1);

    await expect(sent).resolves.toEqual({ id: expect.any(String) });
    expect(sends()).toBe(2);
    expect((await fake.next('message')).text).toBe('after the wait');
  });

  it('skips a malformed update with a log line, and the next message still arrives', async () => {
    const { log, lines } = memoryLog();
    const { host } = await started(new Host(), { log });
    const next = host.nextMessage();
    fake.inject({ message: { message_id: 'seven', chat: 'not a chat', text: 'x' } });
    fake.userSays('still here');

    expect((await next).text).toBe('still here');
    expect(host.messages).toHaveLength(1);
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'telegram update skipped',
        reason: expect.stringMatching(/^malformed message/),
      }),
    );
  });

  it('refuses a file over the cap with a clear reason, without downloading it', async () => {
    const { host } = await started();
    const next = host.nextMessage();
    const id = fake.userSendsDocument('big.pdf', 'application/pdf', Buffer.alloc(100 * KB), {
      caption: 'the contract',
    });

    // The host gets the text and a line saying which file was left out and why ...
    expect(await next).toMatchObject({
      text: 'the contract\n[file not taken in: big.pdf (100 KB): it is over the 64 KB limit]',
    });
    expect(host.messages[0]!.media).toBeUndefined();
    // ... and the sender, whose message was stored, is told the same.
    await fake.next('reaction', (e) => e.messageId === id);
    const reply = await fake.next('message', (e) => e.replyTo === id);
    expect(reply.text).toBe(
      'Not everything came through:\n[file not taken in: big.pdf (100 KB): it is over the 64 KB limit]',
    );
    expect(fake.calls).not.toContain('getFile');
    expect(fake.pending().some((e) => e.kind === 'download')).toBe(false);
  });

  it('tells a chat the host does not answer nothing, not even that a file was too big', async () => {
    const host = new Host();
    const ignored: InboundMessage[] = [];
    host.handlers.onMessage = async (m) => {
      ignored.push(m);
      return { status: 'ignored' };
    };
    await started(host);
    fake.userSendsDocument('big.pdf', 'application/pdf', Buffer.alloc(100 * KB), {
      chatId: 31337,
      from: { id: 31337, first_name: 'Mallory' },
    });
    await vi.waitFor(() => expect(ignored).toHaveLength(1));
    fake.userSays('me again');
    await vi.waitFor(() => expect(ignored).toHaveLength(2));
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(fake.pending().filter((e) => e.kind === 'message' || e.kind === 'reaction')).toEqual([]);
  });

  it('cuts off a download that turns out bigger than the update claimed', async () => {
    const { host } = await started();
    const next = host.nextMessage();
    fake.userSendsDocument('liar.bin', 'application/octet-stream', Buffer.alloc(200 * KB), {
      declaredSize: 10,
    });

    expect(await next).toMatchObject({
      text: '[file not taken in: liar.bin: it is over the 64 KB limit]',
    });
    expect(host.messages[0]!.media).toBeUndefined();
  });

  it('hands in a document, a photo (largest size that fits) and a voice note as media', async () => {
    const { host } = await started();
    const doc = Buffer.from('%PDF-1.4 not really');
    let next = host.nextMessage();
    fake.userSendsDocument('notes.pdf', 'application/pdf', doc, { caption: 'my notes' });
    expect(await next).toMatchObject({
      text: 'my notes',
      media: [{ kind: 'document', name: 'notes.pdf', mime: 'application/pdf', bytes: doc }],
    });

    const small = Buffer.alloc(1 * KB, 1);
    const medium = Buffer.alloc(30 * KB, 2);
    const huge = Buffer.alloc(100 * KB, 3);
    next = host.nextMessage();
    fake.userSendsPhoto([small, medium, huge]);
    expect((await next).media).toEqual([
      { kind: 'image', name: 'photo.jpg', mime: 'image/jpeg', bytes: medium },
    ]);

    const voice = Buffer.from('OggS voice');
    next = host.nextMessage();
    fake.userSendsVoice(voice);
    expect((await next).media).toEqual([
      { kind: 'voice', name: 'voice.ogg', mime: 'audio/ogg', bytes: voice },
    ]);
  });

  it('refuses a press on a button of a message that did not show it, or in another chat', async () => {
    const { host, channel } = await started();
    const chat = String(fake.chatId);
    const plain = await channel.send(chat, { text: 'no buttons here' });
    const asked = await channel.send(chat, {
      text: 'May I?',
      actions: [{ id: 'yes K3F9', label: 'Approve' }],
    });

    const wrongMessage = fake.userClicks(Number(plain.id), 'yes K3F9');
    const elsewhere = fake.userClicks(Number(asked.id), 'yes K3F9', { chatId: -1009999 });

    for (const queryId of [wrongMessage, elsewhere]) {
      expect(await fake.next('answer', (e) => e.callbackQueryId === queryId)).toEqual({
        kind: 'answer',
        callbackQueryId: queryId,
        text: 'This button is not one I showed, or it has expired.',
        showAlert: true,
      });
    }
    expect(host.actions).toEqual([]);
  });

  it('refuses to start with a rejected token, saying what to do, without the token', async () => {
    const channel = make({ token: '999:an-old-token-that-was-revoked' });

    const failure = await channel.start(new Host().handlers).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(TelegramStartError);
    expect((failure as Error).message).toBe(
      'Telegram refused TELEGRAM_BOT_TOKEN: ask @BotFather for a fresh one (/token)',
    );
    await fake.allClosed();
  });

  it('fails start with a clear error when the API cannot be reached', async () => {
    const root = fake.apiRoot;
    await fake.stop();
    fake = await FakeTelegram.start(TOKEN);
    const channel = make({ apiRoot: root });

    const failure = await channel.start(new Host().handlers).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(TelegramStartError);
    expect((failure as Error).message).toMatch(/^Telegram could not be reached at http:\/\/127/);
    expect((failure as Error).message).not.toContain(TOKEN);
  });

  it('sends HTML, splits a long reply into parts that fit, and edits the text in place', async () => {
    const { channel } = await started();
    const chat = String(fake.chatId);
    await channel.send(chat, { text: '**Done** & `ls <dir>`' });
    expect(await fake.next('message')).toMatchObject({
      parseMode: 'HTML',
      raw: '<b>Done</b> &amp; <code>ls &lt;dir&gt;</code>',
      text: 'Done & ls <dir>',
    });

    const long = Array.from({ length: 900 }, (_, i) => `line ${i} of the answer`).join('\n');
    const sent = await channel.send(chat, { text: long });
    const parts = [];
    while (parts.map((p) => p.text).join('\n').length < long.length) {
      parts.push(await fake.next('message'));
    }
    const last = parts.at(-1)!;
    expect(parts.length).toBe(Math.ceil(long.length / 4096));
    for (const part of parts) expect(part.text.length).toBeLessThanOrEqual(4096);
    expect(parts.map((p) => p.text).join('\n')).toBe(long);
    expect(sent.id).toBe(String(last.messageId));

    await channel.edit(chat, sent, 'short now');
    expect(await fake.next('edit')).toMatchObject({ messageId: last.messageId, text: 'short now' });
    // The same text again: Telegram says "not modified", which is no failure.
    await expect(channel.edit(chat, sent, 'short now')).resolves.toBeUndefined();
  });

  it('edits the caption of a file sent with its text', async () => {
    const { channel } = await started();
    const chat = String(fake.chatId);
    const sent = await channel.send(chat, {
      text: 'the report',
      attachments: [{ name: 'report.txt', mime: 'text/plain', bytes: Buffer.from('hi') }],
    });
    expect(await fake.next('message')).toMatchObject({
      text: 'the report',
      files: [{ name: 'report.txt', as: 'document' }],
    });

    await channel.edit(chat, sent, 'the final report');

    expect(await fake.next('edit')).toMatchObject({ text: 'the final report' });
  });

  it('refuses to send to a chat id that is not a Telegram one', async () => {
    const { channel } = await started();

    await expect(channel.send('../getMe', { text: 'x' })).rejects.toThrow(/not a telegram chat id/);
  });
});
