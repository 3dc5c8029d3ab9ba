import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeSlack } from '../../../test/support/fake-slack.js';
import type { ChannelHandlers, InboundMessage, Receipt } from '../channel.js';
import { SlackChannel, SlackStartError, type SlackChannelOptions } from './slack-channel.js';

const BOT = 'xoxb-fake-bot';
const APP = 'xapp-fake-app';

/** A pino logger that keeps its lines, to see what the channel said about a bad envelope. */
function recordingLog() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'debug' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { log, lines };
}

class Host {
  readonly messages: InboundMessage[] = [];
  private waiting: Array<(m: InboundMessage) => void> = [];
  /** When set, onMessage waits for this before it answers (a slow store). */
  gate: Promise<void> | null = null;
  failNext = false;
  readonly handlers: ChannelHandlers = {
    onMessage: async (message): Promise<Receipt> => {
      if (this.gate) await this.gate;
      if (this.failNext) {
        this.failNext = false;
        throw new Error('store is down');
      }
      this.messages.push(message);
      for (const w of this.waiting.splice(0)) w(message);
      return { status: 'stored', id: this.messages.length };
    },
    onAction: async () => ({ status: 'stored', id: 0 }),
  };
  async nextMessage(): Promise<InboundMessage> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

describe('SlackChannel against the fake Slack', () => {
  let fake: FakeSlack;
  let channel: SlackChannel | undefined;
  afterEach(async () => {
    await channel?.stop();
    channel = undefined;
    await fake?.stop();
  });

  const started = async (
    host = new Host(),
    options: Partial<SlackChannelOptions> = {},
  ): Promise<{ host: Host; channel: SlackChannel }> => {
    fake = await FakeSlack.start(BOT, APP);
    channel = new SlackChannel({
      botToken: BOT,
      appToken: APP,
      apiUrl: fake.apiUrl,
      log: pino({ level: 'silent' }),
      maxAttachmentBytes: 1000,
      reconnectDelayMs: 20,
      ...options,
    });
    await channel.start(host.handlers);
    return { host, channel };
  };

  it('reports connected with the bot and the workspace', async () => {
    const { channel } = await started();

    expect(channel.status()).toEqual({ state: 'connected', bot: 'nanocell', team: 'Family' });
    expect(fake.openSockets).toBe(1);
  });

  it('refuses to start with a rejected bot token, naming SLACK_BOT_TOKEN and not showing it', async () => {
    fake = await FakeSlack.start(BOT, APP);
    channel = new SlackChannel({
      botToken: 'xoxb-old',
      appToken: APP,
      apiUrl: fake.apiUrl,
      log: pino({ level: 'silent' }),
      maxAttachmentBytes: 1000,
    });

    const failure = await channel.start(new Host().handlers).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(SlackStartError);
    expect((failure as Error).message).toMatch(/Slack refused SLACK_BOT_TOKEN \(invalid_auth\)/);
    expect((failure as Error).message).not.toContain('xoxb-old');
    expect(channel.status()).toMatchObject({ state: 'failed' });
  });

  it('refuses to start with a rejected app token, saying how to make one', async () => {
    fake = await FakeSlack.start(BOT, APP);
    channel = new SlackChannel({
      botToken: BOT,
      appToken: 'xapp-old',
      apiUrl: fake.apiUrl,
      log: pino({ level: 'silent' }),
      maxAttachmentBytes: 1000,
    });

    const failure = await channel.start(new Host().handlers).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(SlackStartError);
    expect((failure as Error).message).toMatch(/refused SLACK_APP_TOKEN.*connections:write/);
    expect(fake.openSockets).toBe(0);
  });

  it('fails start with a clear error when Slack cannot be reached', async () => {
    fake = await FakeSlack.start(BOT, APP);
    fake.failWith = 503;
    channel = new SlackChannel({
      botToken: BOT,
      appToken: APP,
      apiUrl: fake.apiUrl,
      log: pino({ level: 'silent' }),
      maxAttachmentBytes: 1000,
    });

    const failure = await channel.start(new Host().handlers).catch((e: unknown) => e);

    expect((failure as Error).message).toMatch(/could not be reached/);
  });

  it('acknowledges an envelope only after the host has stored the message', async () => {
    let release: () => void = () => undefined;
    const host = new Host();
    host.gate = new Promise((resolve) => {
      release = resolve;
    });
    await started(host);
    const stored = host.nextMessage();

    const { envelopeId } = fake.userSays('remember the milk');
    // Slack's ack deadline is short; a slow store must still come first.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(fake.acked(envelopeId)).toBe(false);
    release();

    await stored;
    await fake.next('ack', (a) => a.envelopeId === envelopeId);
    expect(host.messages.map((m) => m.text)).toEqual(['remember the milk']);
  });

  it('skips a malformed envelope with a log line, and the next message still arrives', async () => {
    const { log, lines } = recordingLog();
    const { host } = await started(new Host(), { log });
    fake.sendRaw('{not json');
    fake.sendRaw(JSON.stringify({ envelope_id: 'env-bad', type: 'events_api', payload: {} }));
    fake.sendRaw(
      JSON.stringify({
        envelope_id: 'env-bad-2',
        type: 'events_api',
        payload: { type: 'event_callback', event: { type: 'message', channel: '../x', ts: 1 } },
      }),
    );
    const next = host.nextMessage();
    fake.userSays('still there?');

    expect((await next).text).toBe('still there?');
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        'slack sent a frame that is not JSON; skipped',
        'slack event malformed; skipped',
      ]),
    );
    // Acknowledged, so Slack does not redeliver what will never parse.
    await fake.next('ack', (a) => a.envelopeId === 'env-bad');
    await fake.next('ack', (a) => a.envelopeId === 'env-bad-2');
    expect(host.messages.map((m) => m.text)).toEqual(['still there?']);
  });

  it('reconnects when Slack asks it to and keeps delivering messages', async () => {
    const { host } = await started();
    const hello = fake.nextHello();

    fake.askToReconnect();
    await hello;
    const next = host.nextMessage();
    fake.userSays('are you back?');

    expect((await next).text).toBe('are you back?');
    expect(fake.connectionCount).toBe(2);
    expect(fake.openSockets).toBe(1);
  });

  it('reconnects after the connection drops without a close frame', async () => {
    const { host } = await started();
    const hello = fake.nextHello();

    fake.dropSockets();
    await hello;
    const next = host.nextMessage();
    fake.userSays('back again?');

    expect((await next).text).toBe('back again?');
    expect(fake.connectionCount).toBe(2);
  });

  it('leaves no socket open after stop, even with a reconnect pending', async () => {
    const { channel } = await started();
    fake.dropSockets();
    await fake.socketsClosed();

    await channel.stop();
    // Time for a stray reconnect to show up, were one left running.
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(fake.openSockets).toBe(0);
  });

  it('never takes in its own or another bot’s messages, nor edits and joins', async () => {
    const { host } = await started();
    fake.userSays('from me', { user: { id: fake.botUserId, name: 'nanocell' } });
    fake.userSays('from a bot', { botId: 'B0OTHERBOT1', subtype: 'bot_message' });
    fake.userSays('edited', { subtype: 'message_changed' });
    fake.userSays('joined', { subtype: 'channel_join' });
    const next = host.nextMessage();
    fake.userSays('from a person');

    expect((await next).text).toBe('from a person');
    expect(host.messages.map((m) => m.text)).toEqual(['from a person']);
  });

  it('takes in a shared image as image media, fetched with the bot token', async () => {
    const { host } = await started();
    const next = host.nextMessage();
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);

    fake.userSendsFile({ name: 'cat.png', mime: 'image/png', bytes }, 'look');

    expect(await next).toMatchObject({
      text: 'look',
      media: [{ kind: 'image', name: 'cat.png', mime: 'image/png', bytes }],
    });
  });

  it('keeps a chat’s order when a file takes a while to download', async () => {
    const { host } = await started();
    fake.fileDelayMs = 200;
    fake.userSendsFile({ name: 'a.txt', mime: 'text/plain', bytes: Buffer.from('a') }, 'first');
    fake.userSays('second');

    await vi.waitFor(() => expect(host.messages).toHaveLength(2), { timeout: 5000 });
    expect(host.messages.map((m) => m.text)).toEqual(['first', 'second']);
  });

  it('refuses a file over the limit with the reason, and the host never sees it', async () => {
    const { host } = await started();
    const { ts } = fake.userSendsFile(
      { name: 'movie.mp4', mime: 'video/mp4', bytes: Buffer.alloc(10), size: 5_000_000 },
      'watch this',
    );

    const reply = await fake.next('message', (m) => m.threadTs === ts);
    expect(reply.text).toMatch(/could not take in movie\.mp4: it is 4\.8 MB, over the 1 KB limit/);
    expect(host.messages).toEqual([]);
  });

  it('cuts a download that grows past the limit even when Slack said it was small', async () => {
    const { host } = await started();
    const { ts } = fake.userSendsFile(
      { name: 'notes.txt', mime: 'text/plain', bytes: Buffer.alloc(5000), size: 10 },
      '',
    );

    expect((await fake.next('message', (m) => m.threadTs === ts)).text).toMatch(
      /over the 1 KB limit/,
    );
    expect(host.messages).toEqual([]);
  });

  it('does not send the bot token to a file address that is not Slack’s', async () => {
    const { host } = await started();
    const { ts } = fake.userSays('', {
      subtype: 'file_share',
      files: [{ id: 'F1', name: 'x.pdf', size: 10, url_private: 'https://evil.example/x.pdf' }],
    });

    expect((await fake.next('message', (m) => m.threadTs === ts)).text).toMatch(
      /not on the platform's own servers \(evil\.example\)/,
    );
    expect(host.messages).toEqual([]);
  });

  it('tells the user to resend when the host could not store the message', async () => {
    const host = new Host();
    host.failNext = true;
    await started(host);
    const { ts } = fake.userSays('remember milk');

    expect((await fake.next('message', (m) => m.threadTs === ts)).text).toMatch(/send it again/);
  });

  it('writes mrkdwn: bold converted, code kept, & < > escaped so nothing pings', async () => {
    const { channel } = await started();

    await channel.send(fake.channelId, {
      text: '**Done** <!channel> & `a<b`\n```ts\nif (a && b) {}\n```',
    });

    expect((await fake.next('message')).text).toBe(
      '*Done* &lt;!channel&gt; &amp; `a&lt;b`\n```\nif (a &amp;&amp; b) {}\n```',
    );
  });

  it('splits a long reply into parts of at most 3000 characters, buttons on the last', async () => {
    const { channel } = await started();
    const text = Array.from({ length: 900 }, (_, i) => `line ${i}`).join('\n');

    const sent = await channel.send(fake.channelId, {
      text,
      actions: [{ id: 'yes K3F9', label: 'Approve' }],
    });

    const parts = [];
    let joined = '';
    while (joined.length < text.length) {
      parts.push(await fake.next('message'));
      joined = parts.map((p) => p.text).join('\n');
    }
    expect(joined).toBe(text);
    for (const p of parts) expect(p.text.length).toBeLessThanOrEqual(3000);
    expect(parts.at(-1)!.buttons).toHaveLength(1);
    expect(parts.slice(0, -1).every((p) => p.buttons.length === 0)).toBe(true);
    expect(sent.id).toBe(parts.at(-1)!.ts);
  });

  it('keeps the buttons when it edits a message that has them', async () => {
    const { channel } = await started();
    const sent = await channel.send(fake.channelId, {
      text: 'May I?',
      actions: [{ id: 'yes K3F9', label: 'Approve' }],
    });
    await fake.next('message');

    await channel.edit(fake.channelId, sent, 'May I? (asked again)');

    expect(await fake.next('edit')).toMatchObject({ ts: sent.id, text: 'May I? (asked again)' });
  });

  it('acknowledges a click at once when the host is slow, then shows its refusal to the clicker', async () => {
    let release: (reason: string) => void = () => undefined;
    const host = new Host();
    host.handlers.onAction = () =>
      new Promise((resolve) => {
        release = (reason) => resolve({ status: 'refused', reason });
      });
    const { channel } = await started(host, { answerClickWithinMs: 20 });
    const sent = await channel.send(fake.channelId, {
      text: 'May I?',
      actions: [{ id: 'yes K3F9', label: 'Approve' }],
    });
    const guest = { id: 'U0FAKEGUEST', name: 'guest' };

    const envelopeId = fake.userClicks(sent.id, 'nc-0', 'yes K3F9', { user: guest });

    await fake.next('ack', (a) => a.envelopeId === envelopeId);
    release('only the owner can approve');
    expect(await fake.next('ephemeral')).toMatchObject({
      user: guest.id,
      text: 'only the owner can approve',
    });
  });

  it('tells the clicker to try again when the host fails on a click, and acknowledges it', async () => {
    const host = new Host();
    host.handlers.onAction = () => Promise.reject(new Error('store is down'));
    const { channel } = await started(host);
    const sent = await channel.send(fake.channelId, {
      text: 'May I?',
      actions: [{ id: 'yes K3F9', label: 'Approve' }],
    });

    const envelopeId = fake.userClicks(sent.id, 'nc-0', 'yes K3F9');

    await fake.next('ack', (a) => a.envelopeId === envelopeId);
    expect((await fake.next('ephemeral')).text).toMatch(/try again/);
  });

  it('refuses to send to a chat id that is not a Slack one', async () => {
    const { channel } = await started();

    await expect(channel.send('../../auth.test', { text: 'x' })).rejects.toThrow(
      /not a slack chat id/,
    );
  });

  it('rejects send when Slack does not take the message', async () => {
    const { channel } = await started();
    fake.failWith = 500;

    await expect(channel.send(fake.channelId, { text: 'hi' })).rejects.toThrow();
  });
});
