import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Channel } from './channel.js';

/** Whether a channel is configured here, and if not, what the owner sets to turn it on. */
export type ChannelState = { on: true; detail: string } | { on: false; detail: string };

/** What a live check of a platform found (the token works, the platform answers). */
export type ChannelCheck = { ok: true; detail: string } | { ok: false; detail: string };

export interface ChannelDeps {
  log: Logger;
  /** The data dir: where a channel keeps what it must remember (an update offset). */
  home: string;
}

/**
 * One chat platform as the host knows it, before anything is started. A platform channel's
 * module is loaded only when it is on (`create`/`check` import it), so the CLI does not load
 * every SDK.
 */
export interface KnownChannel {
  name: string;
  /** The environment keys that configure it (read only by src/config.ts). */
  configKeys: readonly string[];
  /** A chat id as this platform writes it; the platform's ids are never trusted further. */
  chatIdPattern: RegExp;
  /** The expected form, for messages: `telegram:<chat id, e.g. 123456789 or -1001234567890>`. */
  chatIdForm: string;
  /** Made and reached by the host itself (terminal, web); only the owner or a link-holder writes. */
  builtIn?: true;
  /** A direct (one-to-one) chat with `sender`: where pairing codes are accepted. */
  isDirectChat(chatId: string, sender: string): boolean;
  state(config: Config): ChannelState;
  /** Built in channels (terminal, web) are made by the host itself and have no factory. */
  create?(config: Config, deps: ChannelDeps): Promise<Channel>;
  /** Ask the platform whether the credentials work (for `doctor`); must not throw. */
  check?(config: Config, signal: AbortSignal): Promise<ChannelCheck>;
}

const set = (keys: readonly string[]) => `set ${keys.join(' and ')} to connect it`;

/** The channels nanocell knows, in the order `doctor` lists them. */
export const KNOWN_CHANNELS: readonly KnownChannel[] = [
  {
    name: 'terminal',
    builtIn: true,
    configKeys: [],
    chatIdPattern: /^[a-z0-9][a-z0-9_-]{0,62}$/,
    chatIdForm: 'terminal:<group name>',
    isDirectChat: () => false,
    state: () => ({ on: true, detail: 'built in (nanocell chat)' }),
  },
  {
    name: 'web',
    builtIn: true,
    configKeys: ['NANOCELL_WEB_PORT'],
    chatIdPattern: /^[A-Za-z0-9_-]{1,64}$/,
    chatIdForm: 'web:<chat name, e.g. family>',
    isDirectChat: () => false,
    state: (config) => ({ on: true, detail: `built in, on 127.0.0.1:${config.webPort}` }),
  },
  {
    name: 'telegram',
    configKeys: ['TELEGRAM_BOT_TOKEN', 'TELEGRAM_API_ROOT'],
    // Private chats have the user's positive id; groups and channels negative ones.
    chatIdPattern: /^-?[1-9]\d{0,19}$/,
    chatIdForm: 'telegram:<chat id, e.g. 123456789 or -1001234567890>',
    isDirectChat: (chatId, sender) => chatId === sender && !chatId.startsWith('-'),
    state: (config) =>
      config.channels.telegram.botToken
        ? { on: true, detail: `bot API at ${config.channels.telegram.apiRoot}` }
        : { on: false, detail: set(['TELEGRAM_BOT_TOKEN']) },
    create: async (config, deps) => {
      const { TelegramChannel } = await import('./telegram/telegram-channel.js');
      const { botToken, apiRoot } = config.channels.telegram;
      if (!botToken) throw new Error(set(['TELEGRAM_BOT_TOKEN']));
      return new TelegramChannel({
        token: botToken,
        apiRoot,
        home: deps.home,
        log: deps.log,
        maxAttachmentBytes: config.media.maxAttachmentBytes,
      });
    },
    check: async (config, signal) => {
      const { checkTelegram } = await import('./telegram/telegram-check.js');
      const { botToken, apiRoot } = config.channels.telegram;
      if (!botToken) return { ok: false, detail: set(['TELEGRAM_BOT_TOKEN']) };
      return checkTelegram(botToken, apiRoot, signal);
    },
  },
  {
    name: 'slack',
    configKeys: ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_API_URL'],
    chatIdPattern: /^[CDG][A-Z0-9]{8,20}$/,
    chatIdForm: 'slack:<channel id, e.g. C0123456789>',
    isDirectChat: (chatId) => chatId.startsWith('D'),
    state: (config) =>
      config.channels.slack.botToken && config.channels.slack.appToken
        ? { on: true, detail: 'Socket Mode' }
        : { on: false, detail: set(['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN']) },
    create: async (config, deps) => {
      const { SlackChannel } = await import('./slack/slack-channel.js');
      const { botToken, appToken, apiUrl } = config.channels.slack;
      if (!botToken || !appToken) throw new Error(set(['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN']));
      return new SlackChannel({
        botToken,
        appToken,
        apiUrl,
        log: deps.log,
        maxAttachmentBytes: config.media.maxAttachmentBytes,
      });
    },
    check: async (config, signal) => {
      const { checkSlack } = await import('./slack/slack-check.js');
      const { botToken, appToken, apiUrl } = config.channels.slack;
      if (!botToken || !appToken) {
        return { ok: false, detail: set(['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN']) };
      }
      return checkSlack({ botToken, appToken }, apiUrl, signal);
    },
  },
  {
    name: 'discord',
    configKeys: ['DISCORD_BOT_TOKEN', 'DISCORD_API_URL'],
    chatIdPattern: /^(dm-)?[1-9]\d{16,19}$/,
    chatIdForm: 'discord:<channel id, e.g. 1234567890123456789, or dm-<id> for a direct chat>',
    // A DM's channel id says nothing; the adapter marks DMs as `dm-<channel id>`.
    isDirectChat: (chatId) => chatId.startsWith('dm-'),
    state: (config) =>
      config.channels.discord.botToken
        ? { on: true, detail: `gateway, REST at ${config.channels.discord.apiUrl}` }
        : { on: false, detail: set(['DISCORD_BOT_TOKEN']) },
    create: async (config, deps) => {
      const { DiscordChannel } = await import('./discord/discord-channel.js');
      const { botToken, apiUrl } = config.channels.discord;
      if (!botToken) throw new Error(set(['DISCORD_BOT_TOKEN']));
      return new DiscordChannel({
        token: botToken,
        apiUrl,
        log: deps.log,
        maxAttachmentBytes: config.media.maxAttachmentBytes,
      });
    },
    check: async (config, signal) => {
      const { checkDiscord } = await import('./discord/discord-check.js');
      const { botToken, apiUrl } = config.channels.discord;
      if (!botToken) return { ok: false, detail: set(['DISCORD_BOT_TOKEN']) };
      return checkDiscord(botToken, apiUrl, signal);
    },
  },
  {
    name: 'whatsapp',
    configKeys: [],
    // A person (phone number) or a group; the adapter drops every other kind of jid.
    chatIdPattern: /^(\d{5,20}@s\.whatsapp\.net|\d{5,30}(-\d{1,15})?@g\.us)$/,
    chatIdForm: 'whatsapp:<jid, e.g. 447700900123@s.whatsapp.net or 120363012345678901@g.us>',
    isDirectChat: (chatId, sender) => chatId === sender && chatId.endsWith('@s.whatsapp.net'),
    state: (config) =>
      fs.existsSync(path.join(config.channels.whatsapp.authDir, 'creds.json'))
        ? { on: true, detail: `linked device, keys in ${config.channels.whatsapp.authDir}` }
        : { on: false, detail: 'run nanocell whatsapp link and scan the code to connect it' },
    create: async (config, deps) => {
      const { WhatsAppChannel } = await import('./whatsapp/whatsapp-channel.js');
      const { connectBaileys } = await import('./whatsapp/whatsapp-socket.js');
      const { authDir } = config.channels.whatsapp;
      return new WhatsAppChannel({
        connect: () => connectBaileys(authDir, deps.log),
        log: deps.log,
        maxAttachmentBytes: config.media.maxAttachmentBytes,
      });
    },
    check: async (config) => {
      const { checkWhatsApp } = await import('./whatsapp/whatsapp-check.js');
      return checkWhatsApp(config.channels.whatsapp.authDir);
    },
  },
  {
    name: 'email',
    configKeys: [
      'EMAIL_IMAP_URL',
      'EMAIL_SMTP_URL',
      'EMAIL_ADDRESS',
      'EMAIL_ALLOWED_SENDERS',
      'EMAIL_POLL_SECONDS',
    ],
    // A chat is the correspondent's address: one conversation (and group) per address.
    chatIdPattern: /^[^@\s:]{1,64}@[A-Za-z0-9.-]{1,190}$/,
    chatIdForm: 'email:<address, e.g. me@example.com>',
    isDirectChat: (chatId, sender) => chatId === sender,
    state: (config) => {
      const { imapUrl, address, allowedSenders } = config.channels.email;
      if (!imapUrl || !address) {
        return { on: false, detail: set(['EMAIL_IMAP_URL', 'EMAIL_SMTP_URL', 'EMAIL_ADDRESS']) };
      }
      const from = allowedSenders.length
        ? `answers ${allowedSenders.join(', ')}`
        : 'answers nobody yet: set EMAIL_ALLOWED_SENDERS';
      return { on: true, detail: `${address} at ${new URL(imapUrl).host}; ${from}` };
    },
    create: async (config, deps) => {
      const { EmailChannel } = await import('./email/email-channel.js');
      const { imapUrl, smtpUrl, address, allowedSenders, pollSeconds } = config.channels.email;
      if (!imapUrl || !smtpUrl || !address) {
        throw new Error(set(['EMAIL_IMAP_URL', 'EMAIL_SMTP_URL', 'EMAIL_ADDRESS']));
      }
      return new EmailChannel({
        imapUrl,
        smtpUrl,
        address,
        allowedSenders,
        pollMs: pollSeconds * 1000,
        maxAttachmentBytes: config.media.maxAttachmentBytes,
        home: deps.home,
        log: deps.log,
      });
    },
    check: async (config, signal) => {
      const { checkEmail } = await import('./email/email-check.js');
      const { imapUrl, smtpUrl } = config.channels.email;
      if (!imapUrl || !smtpUrl) {
        return { ok: false, detail: set(['EMAIL_IMAP_URL', 'EMAIL_SMTP_URL', 'EMAIL_ADDRESS']) };
      }
      return checkEmail(imapUrl, smtpUrl, signal);
    },
  },
];

export function knownChannel(
  name: string,
  channels: readonly KnownChannel[] = KNOWN_CHANNELS,
): KnownChannel | undefined {
  return channels.find((c) => c.name === name);
}

export type ChatAddress =
  { ok: true; channel: string; chatId: string } | { ok: false; reason: string };

/**
 * `CHANNEL:CHAT_ID` as the owner (or the model, through register_group) writes it: the channel
 * must be known and the id in its platform's form.
 */
export function parseChatAddress(
  text: string,
  channels: readonly KnownChannel[] = KNOWN_CHANNELS,
): ChatAddress {
  const names = channels.map((c) => c.name).join(', ');
  const colon = text.indexOf(':');
  if (colon <= 0) {
    return {
      ok: false,
      reason: `a chat is CHANNEL:CHAT_ID, e.g. telegram:123456789 (known channels: ${names})`,
    };
  }
  const name = text.slice(0, colon);
  const chatId = text.slice(colon + 1);
  const known = knownChannel(name, channels);
  if (!known) {
    return {
      ok: false,
      reason: `unknown channel "${printable(name)}"; known channels: ${names}`,
    };
  }
  if (!known.chatIdPattern.test(chatId)) {
    return {
      ok: false,
      reason: `"${printable(chatId)}" is not a ${name} chat id; expected ${known.chatIdForm}`,
    };
  }
  return { ok: true, channel: name, chatId };
}

/** Input echoed in an error: one short line of visible characters. */
export function printable(text: string): string {
  const cut = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  return cut.replace(/[^\x20-\x7e]/g, '?');
}
