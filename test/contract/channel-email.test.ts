import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, vi } from 'vitest';
import { EmailChannel } from '../../src/channels/email/email-channel.js';
import { canRunMailServers, startMailServers, type MailServers } from '../support/mail-servers.js';
import { MailPerson } from '../support/mail-user.js';
import { tempHome } from '../support/temp-home.js';
import { channelContract, type ChannelUser, type Shown, type Told } from './channel.contract.js';

/** How long a refusal has to reach the sender after the mail was marked \Seen (local delivery). */
const REFUSAL_GRACE_MS = 1500;

describe.skipIf(!canRunMailServers())('email against real dovecot and postfix', () => {
  let servers: MailServers;
  let homes: Array<ReturnType<typeof tempHome>> = [];
  beforeAll(async () => {
    servers = await startMailServers();
  }, 60_000);
  afterAll(async () => {
    await servers?.stop();
  });
  afterEach(() => {
    for (const home of homes) home.cleanup();
    homes = [];
  });

  channelContract('email (IMAP + SMTP on 127.0.0.1)', async () => {
    const bot = servers.users.bot;
    const owner = servers.users.owner;
    const home = tempHome('nanocell-email-');
    homes.push(home);
    const channel = new EmailChannel({
      imapUrl: `imap://${bot!.user}:${bot!.password}@127.0.0.1:${servers.imapPort}`,
      smtpUrl: `smtp://${bot!.user}:${bot!.password}@127.0.0.1:${servers.smtpPort}`,
      address: bot!.address,
      allowedSenders: [owner!.address],
      pollMs: 1000,
      maxAttachmentBytes: 1024 * 1024,
      home: home.dir,
      log: pino({ level: 'silent' }),
    });
    const connect = async (): Promise<ChannelUser> => {
      const me = await MailPerson.of(servers, 'owner');
      const botBox = await MailPerson.of(servers, 'bot');
      return {
        // Stored: the mail is marked \Seen and nothing comes back; refused: a reply with the reason.
        say: async (text): Promise<Told> => {
          const id = await me.send(bot!.address, { text });
          await botBox.seen(id);
          const deadline = Date.now() + REFUSAL_GRACE_MS;
          while (Date.now() < deadline) {
            if ((await me.unread()) > 0) {
              const reply = await me.nextMail();
              if (reply.parsed.inReplyTo === id) return { refused: reply.parsed.text ?? '' };
            }
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          return { stored: true };
        },
        post: async (text) => void (await me.send(bot!.address, { text })),
        nextShown: async (): Promise<Shown> => {
          const { parsed } = await me.nextMail();
          return {
            text: (parsed.text ?? '').trimEnd(),
            actions: [],
            attachments: parsed.attachments.map((a) => ({
              name: a.filename ?? '',
              mime: a.contentType,
              bytes: a.content,
            })),
          };
        },
        nextEdit: () => Promise.reject(new Error('email declares no edit')),
        nextTyping: () => Promise.reject(new Error('email declares no typing')),
        click: () => Promise.reject(new Error('email declares no actions')),
        close: async () => undefined,
      };
    };
    return {
      channel,
      chatId: owner!.address,
      connect,
      isClosed: async () => {
        await vi.waitFor(
          () => {
            if (servers.imapSessions(bot!.user) !== 0) throw new Error('bot IMAP session open');
          },
          { timeout: 10_000 },
        );
        return true;
      },
    };
  });
});
