import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeDiscord } from '../../../test/support/fake-discord.js';
import type { ChannelHandlers, InboundMessage } from '../channel.js';
import { DiscordChannel, DiscordStartError } from './discord-channel.js';

const TOKEN = 'fake-bot-token';
const silent = pino({ level: 'silent' });

class Host {
  readonly messages: InboundMessage[] = [];
  private waiting: Array<(m: InboundMessage) => void> = [];
  failNext = false;
  readonly handlers: ChannelHandlers = {
    onMessage: async (message) => {
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

describe('DiscordChannel against the fake Discord', () => {
  let fake: FakeDiscord;
  let channel: DiscordChannel | undefined;
  afterEach(async () => {
    await channel?.stop();
    channel = undefined;
    await fake?.stop();
  });

  const started = async (host = new Host()) => {
    fake = await FakeDiscord.start(TOKEN);
    channel = new DiscordChannel({ token: TOKEN, apiUrl: fake.apiUrl, log: silent });
    await channel.start(host.handlers);
    return { host, channel };
  };

  it('reports connected with the bot it logged in as', async () => {
    const { channel } = await started();

    expect(channel.status()).toEqual({ state: 'connected', botTag: 'nanocell' });
  });

  it('refuses to start with a rejected token, saying which setting to fix', async () => {
    fake = await FakeDiscord.start(TOKEN);
    channel = new DiscordChannel({ token: 'wrong', apiUrl: fake.apiUrl, log: silent });

    const failure = await channel.start(new Host().handlers).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(DiscordStartError);
    expect((failure as Error).message).toMatch(/refused the bot token \(DISCORD_BOT_TOKEN\)/);
    expect(channel.status()).toMatchObject({ state: 'failed' });
    expect(fake.gatewaySockets).toBe(0);
  });

  it('fails start with a clear error when Discord cannot be reached', async () => {
    fake = await FakeDiscord.start(TOKEN);
    fake.failWith = 503;
    channel = new DiscordChannel({ token: TOKEN, apiUrl: fake.apiUrl, log: silent });

    const failure = await channel.start(new Host().handlers).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(DiscordStartError);
    expect((failure as Error).message).toMatch(/could not be reached/);
  });

  it('never takes in its own or another bot’s messages, nor system messages', async () => {
    const { host } = await started();
    fake.userSays('from a bot', { id: '1100000000000000099', username: 'otherbot', bot: true });
    fake.dispatch('MESSAGE_CREATE', {
      ...systemMessage(fake),
      type: 7, // a member joined
    });
    const next = host.nextMessage();
    fake.userSays('from a person');

    expect((await next).text).toBe('from a person');
    expect(host.messages.map((m) => m.text)).toEqual(['from a person']);
  });

  it('marks a direct-message chat as dm-<channel id> and answers in it', async () => {
    const { host, channel } = await started();
    const next = host.nextMessage();
    fake.userSays('pair 123456', fake.owner, fake.dmChannelId);

    const message = await next;
    expect(message).toMatchObject({ chatId: `dm-${fake.dmChannelId}`, sender: fake.owner.id });
    await channel.send(message.chatId, { text: 'paired' });
    expect(await fake.next('message')).toMatchObject({
      channelId: fake.dmChannelId,
      content: 'paired',
    });
  });

  it('refuses to send to a chat id that is not a Discord one', async () => {
    const { channel } = await started();

    await expect(channel.send('../../users/@me', { text: 'x' })).rejects.toThrow(
      /not a discord chat id/,
    );
  });

  it('reconnects after the gateway connection drops and keeps taking messages', async () => {
    const { host, channel } = await started();
    const session = fake.nextSession();
    fake.dropGateway();

    expect(await session).toBe('resume');
    const next = host.nextMessage();
    fake.userSays('are you back?');
    expect((await next).text).toBe('are you back?');
    expect(channel.status()).toMatchObject({ state: 'connected' });
  });

  it('names a file it does not take in, so the message is not lost silently', async () => {
    const { host } = await started();
    const next = host.nextMessage();
    // A file somewhere else than Discord's servers is never fetched.
    fake.userSays('', fake.owner, fake.textChannelId, [{ name: 'report\u202e.pdf', size: 1234 }]);

    expect((await next).text).toBe(
      "[file not taken in: report?.pdf: the file is not on the platform's own servers (cdn.example)]",
    );
  });

  it('takes in images, voice notes and documents, bounded, as media for the host', async () => {
    const host = new Host();
    fake = await FakeDiscord.start(TOKEN);
    channel = new DiscordChannel({
      token: TOKEN,
      apiUrl: fake.apiUrl,
      log: silent,
      maxAttachmentBytes: 100,
    });
    await channel.start(host.handlers);
    const png = Buffer.from('89504e470d0a1a0a', 'hex');
    const next = host.nextMessage();
    fake.userSays('look', fake.owner, fake.textChannelId, [
      { name: 'cat.png', size: png.length, bytes: png, contentType: 'image/png' },
      { name: 'note.ogg', size: 3, bytes: Buffer.from('ogg'), contentType: 'audio/ogg' },
      {
        name: 'plan.txt',
        size: 4,
        bytes: Buffer.from('plan'),
        contentType: 'text/plain; charset=utf-8',
      },
      // Declared small, but the server sends more than the limit: cut off, not kept.
      { name: 'liar.bin', size: 10, bytes: Buffer.alloc(500) },
      { name: 'huge.iso', size: 10_000, bytes: Buffer.alloc(10) },
    ]);

    const message = await next;
    expect(message.media?.map((m) => [m.kind, m.name, m.mime, m.bytes.length])).toEqual([
      ['image', 'cat.png', 'image/png', png.length],
      ['voice', 'note.ogg', 'audio/ogg', 3],
      ['document', 'plan.txt', 'text/plain', 4],
    ]);
    expect(message.text).toBe(
      'look\n[file not taken in: liar.bin: it is over the 1 KB limit]\n' +
        '[file not taken in: huge.iso (10000 bytes): it is over the 1 KB limit]',
    );
    // The one declared too big was never downloaded.
    expect(fake.downloads).toBe(4);
  });

  it('acknowledges a click at once when the host is slow, then shows its refusal to the clicker', async () => {
    let release: (reason: string) => void = () => undefined;
    const host = new Host();
    host.handlers.onAction = () =>
      new Promise((resolve) => {
        release = (reason) => resolve({ status: 'refused', reason });
      });
    fake = await FakeDiscord.start(TOKEN);
    channel = new DiscordChannel({
      token: TOKEN,
      apiUrl: fake.apiUrl,
      log: silent,
      answerClickWithinMs: 20,
    });
    await channel.start(host.handlers);
    const sent = await channel.send(fake.textChannelId, {
      text: 'May I?',
      actions: [{ id: 'yes K3F9', label: 'Approve' }],
    });

    const click = fake.click(sent.id, 'yes K3F9', { id: '1100000000000000042', username: 'guest' });

    // 6 = DEFERRED_UPDATE_MESSAGE: Discord's 3 s deadline is met before the host answers.
    expect(await fake.next('callback', (e) => e.interactionId === click)).toMatchObject({
      type: 6,
    });
    release('only the owner can approve');
    expect(await fake.next('followup', (e) => e.interactionId === click)).toMatchObject({
      content: 'only the owner can approve',
      flags: 64, // ephemeral: only the clicker sees it
    });
  });

  it('survives a malformed or unknown gateway event and keeps taking messages', async () => {
    const { host } = await started();
    fake.dispatch('MESSAGE_CREATE', { id: 'not-a-snowflake' });
    fake.dispatch('SOMETHING_NEW', { what: 'ever' });
    const next = host.nextMessage();
    fake.userSays('still here?');

    expect((await next).text).toBe('still here?');
  });

  it('cuts a message far above Discord’s own limit before it reaches the host', async () => {
    const { host } = await started();
    const next = host.nextMessage();
    fake.userSays('a'.repeat(50_000));

    const message = await next;
    expect(message.text.length).toBeLessThan(8100);
    expect(message.text).toMatch(/\[message cut at 8000 characters\]$/);
  });

  it('tells the user to resend when the host could not store the message', async () => {
    const host = new Host();
    host.failNext = true;
    await started(host);
    const id = fake.userSays('remember milk');

    const reply = await fake.next('message', (e) => e.replyTo === id);
    expect(reply.content).toMatch(/send it again/);
  });

  it('splits a long reply into parts within 2000 characters, buttons on the last', async () => {
    const { channel } = await started();
    const text = Array.from({ length: 400 }, (_, i) => `line ${i}`).join('\n');

    const sent = await channel.send(fake.textChannelId, {
      text,
      actions: [{ id: 'yes K3F9', label: 'Approve' }],
    });

    const parts = [];
    let joined = '';
    while (joined.length < text.length) {
      const part = await fake.next('message');
      parts.push(part);
      joined = parts.map((p) => p.content).join('\n');
    }
    expect(joined).toBe(text);
    for (const p of parts) expect(p.content.length).toBeLessThanOrEqual(2000);
    expect(parts.at(-1)!.components).toHaveLength(1);
    expect(parts.slice(0, -1).every((p) => p.components.length === 0)).toBe(true);
    expect(sent.id).toBe(parts.at(-1)!.id);
  });

  it('lets no reply mention @everyone, a role or a user', async () => {
    const { channel } = await started();

    await channel.send(fake.textChannelId, { text: '@everyone look' });

    expect((await fake.next('message')).allowedMentions).toEqual({ parse: [] });
  });

  it('waits out a rate limit, then delivers the message', async () => {
    const { channel } = await started();
    fake.rateLimitNext = 1;

    await channel.send(fake.textChannelId, { text: 'after the limit' });

    expect((await fake.next('message')).content).toBe('after the limit');
  });

  it('rejects send when Discord does not take the message', async () => {
    const { channel } = await started();
    fake.failWith = 403;

    await expect(channel.send(fake.textChannelId, { text: 'hi' })).rejects.toThrow();
  });
});

function systemMessage(fake: FakeDiscord) {
  return {
    id: '1300000000000000001',
    channel_id: fake.textChannelId,
    guild_id: fake.guildId,
    author: { id: fake.owner.id, username: 'owner', discriminator: '0', avatar: null },
    content: 'joined',
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    pinned: false,
    flags: 0,
  };
}
