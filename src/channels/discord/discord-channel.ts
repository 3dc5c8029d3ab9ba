import {
  Client,
  Events,
  GatewayIntentBits,
  MessageType,
  Partials,
  Routes,
  type Interaction,
  type Message,
} from 'discord.js';
import type { Logger } from 'pino';
import {
  type Action,
  type Attachment,
  type Channel,
  type ChannelCapabilities,
  type ChannelHandlers,
  type OutboundMessage,
  type SentMessage,
} from '../channel.js';
import { buttonRows, MAX_BUTTONS } from './discord-buttons.js';
import { answerClick } from './discord-clicks.js';
import { chatIdOf, inboundText, platformId } from './discord-inbound.js';
import { takeAttachments } from './discord-media.js';
import { splitMessage } from '../split-message.js';

/** Discord's limit on a message's content, in characters. */
export const DISCORD_MAX_CHARS = 2000;
const MAX_NAME_CHARS = 100;
/** Messages whose buttons are remembered, newest kept: a click on an older one is refused. */
const DEFAULT_TRACKED_MESSAGES = 1000;
const STORED_REACTION = '✅';
/** Discord's deadline for answering a click is 3 s; leave room for the round trip. */
const DEFAULT_ANSWER_CLICK_WITHIN_MS = 2000;
/** Model output must never ping @everyone, a role or a user. */
const NO_MENTIONS = { parse: [] as never[] };

export interface DiscordChannelOptions {
  token: string;
  /** The REST base without the version (`https://discord.com/api`); tests point it at a fake. */
  apiUrl?: string;
  log: Logger;
  /** How long `start` waits for the gateway's READY before it gives up. */
  startTimeoutMs?: number;
  trackedMessages?: number;
  /** How long a click waits for the host before it is acknowledged anyway (see answerClick). */
  answerClickWithinMs?: number;
  /** The largest file taken in (NANOCELL_MAX_ATTACHMENT_MB); default 20 MB. */
  maxAttachmentBytes?: number;
}

/** Discord did not let the bot in: the token was refused, or the platform is unreachable. */
export class DiscordStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DiscordStartError';
  }
}

export type DiscordState =
  | { state: 'stopped' }
  | { state: 'connecting' }
  | { state: 'connected'; botTag: string }
  | { state: 'reconnecting'; reason: string }
  | { state: 'failed'; reason: string };

/**
 * The Discord channel (discord.js): a chat id is a Discord channel id (a server's text
 * channel or a direct-message channel). A stored message gets a ✅ reaction (the receipt);
 * an ignored one (a chat bound to no group) nothing;
 * a refused one a reply with the reason. Approval buttons are message components whose
 * custom ids are indexes into the actions this channel showed on that message, so a click
 * carrying anything else is refused without reaching the host.
 */
export class DiscordChannel implements Channel {
  readonly name = 'discord';
  readonly capabilities: ChannelCapabilities = {
    edit: true,
    actions: true,
    attachments: true,
    typing: true,
  };
  private client: Client | null = null;
  private handlers: ChannelHandlers | null = null;
  private current: DiscordState = { state: 'stopped' };
  /** Sent message id → the actions shown on it (insertion order = age). */
  private readonly shown = new Map<string, Action[]>();

  constructor(private readonly options: DiscordChannelOptions) {}

  /** For `doctor` and the start-up line. */
  status(): DiscordState {
    return this.current;
  }

  async start(handlers: ChannelHandlers): Promise<void> {
    if (this.client) return;
    this.handlers = handlers;
    this.current = { state: 'connecting' };
    const client = new Client({
      intents: [
        GatewayIntentBits.Guilds,
        GatewayIntentBits.GuildMessages,
        GatewayIntentBits.DirectMessages,
        GatewayIntentBits.MessageContent,
      ],
      // A direct-message channel is not in the cache until its first message arrives.
      partials: [Partials.Channel],
      rest: this.options.apiUrl ? { api: this.options.apiUrl } : {},
    });
    this.client = client;
    client.on(Events.MessageCreate, (message) => void this.onMessage(message));
    client.on(Events.InteractionCreate, (interaction) => void this.onInteraction(interaction));
    client.on(Events.Error, (err) => this.options.log.error({ err }, 'discord client error'));
    client.on(Events.ShardDisconnect, (event) => {
      this.current = { state: 'reconnecting', reason: `gateway closed (code ${event.code})` };
      this.options.log.warn({ code: event.code }, 'discord gateway disconnected');
    });
    client.on(Events.ShardResume, () => {
      if (client.user) this.current = { state: 'connected', botTag: client.user.tag };
      this.options.log.info('discord gateway resumed');
    });
    try {
      await this.login(client);
    } catch (err) {
      this.client = null;
      this.handlers = null;
      await client.destroy().catch((e: unknown) => {
        this.options.log.warn({ err: e }, 'discord client did not close after a failed start');
      });
      const reason = startFailure(err);
      this.current = { state: 'failed', reason };
      throw new DiscordStartError(reason, { cause: err });
    }
    this.current = { state: 'connected', botTag: client.user?.tag ?? 'unknown' };
    this.options.log.info({ bot: this.current.botTag }, 'discord channel connected');
  }

  private async login(client: Client): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? 30_000;
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no READY from the Discord gateway within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([Promise.all([client.login(this.options.token), ready]), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async send(chatId: string, message: OutboundMessage): Promise<SentMessage> {
    const client = this.requireClient('send');
    const actions = message.actions ?? [];
    if (actions.length > MAX_BUTTONS) {
      throw new RangeError(`discord shows at most ${MAX_BUTTONS} buttons on a message`);
    }
    const files = message.attachments ?? [];
    const text = message.text.length > 0 || files.length > 0 ? message.text : '(empty message)';
    const parts = splitMessage(text, DISCORD_MAX_CHARS);
    let lastId = '';
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1;
      const body: Record<string, unknown> = { content: part, allowed_mentions: NO_MENTIONS };
      if (last && actions.length > 0) body.components = buttonRows(actions);
      if (last && files.length > 0) {
        body.attachments = files.map((f, id) => ({ id, filename: f.name }));
      }
      const sent = (await client.rest.post(Routes.channelMessages(platformId(chatId)), {
        body,
        files: last ? files.map(toRawFile) : undefined,
      })) as { id: string };
      lastId = sent.id;
    }
    if (actions.length > 0) this.remember(lastId, actions);
    return { id: lastId };
  }

  async edit(chatId: string, sent: SentMessage, text: string): Promise<void> {
    const client = this.requireClient('edit');
    const content =
      text.length > DISCORD_MAX_CHARS ? `${text.slice(0, DISCORD_MAX_CHARS - 1)}…` : text;
    await client.rest.patch(Routes.channelMessage(platformId(chatId), sent.id), {
      body: { content: content || '(empty message)', allowed_mentions: NO_MENTIONS },
    });
  }

  async typing(chatId: string): Promise<void> {
    await this.requireClient('typing').rest.post(Routes.channelTyping(platformId(chatId)));
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.handlers = null;
    this.shown.clear();
    this.current = { state: 'stopped' };
    if (client) await client.destroy();
  }

  private requireClient(what: string): Client {
    if (!this.client) throw new Error(`discord channel cannot ${what}: it is not started`);
    return this.client;
  }

  private remember(messageId: string, actions: Action[]): void {
    this.shown.set(messageId, actions);
    const cap = this.options.trackedMessages ?? DEFAULT_TRACKED_MESSAGES;
    for (const oldest of this.shown.keys()) {
      if (this.shown.size <= cap) break;
      this.shown.delete(oldest);
    }
  }

  private async onMessage(message: Message): Promise<void> {
    const handlers = this.handlers;
    const client = this.client;
    if (!handlers || !client) return;
    // Our own messages, other bots and webhooks: never a conversation turn (no reply loops).
    if (message.author.bot || message.webhookId) return;
    if (message.type !== MessageType.Default && message.type !== MessageType.Reply) {
      this.options.log.debug({ type: message.type }, 'discord message type ignored');
      return;
    }
    const { media, notes } = await takeAttachments(message, {
      maxBytes: this.options.maxAttachmentBytes ?? 20 * 1024 * 1024,
      extraHosts: this.options.apiUrl ? [new URL(this.options.apiUrl).host] : [],
    });
    const text = inboundText(message, notes);
    if (text === '' && media.length === 0) {
      this.options.log.debug({ chatId: message.channelId }, 'discord message without text ignored');
      return;
    }
    const name = message.author.globalName ?? message.author.username;
    try {
      const receipt = await handlers.onMessage({
        channel: this.name,
        chatId: chatIdOf(message.channelId, message.channel.isDMBased()),
        sender: message.author.id,
        senderName: name.slice(0, MAX_NAME_CHARS),
        text,
        ...(media.length > 0 ? { media } : {}),
      });
      if (receipt.status === 'stored') {
        await client.rest.put(
          Routes.channelMessageOwnReaction(
            message.channelId,
            message.id,
            encodeURIComponent(STORED_REACTION),
          ),
        );
      } else if (receipt.status === 'refused') {
        await this.replyTo(client, message, receipt.reason);
      }
    } catch (err) {
      this.options.log.error({ err, chatId: message.channelId }, 'discord message not handled');
      await this.replyTo(
        client,
        message,
        'Sorry, this message could not be taken in. Please send it again.',
      ).catch((e: unknown) => this.options.log.warn({ err: e }, 'discord failure notice not sent'));
    }
  }

  private async replyTo(client: Client, message: Message, text: string): Promise<void> {
    await client.rest.post(Routes.channelMessages(message.channelId), {
      body: {
        content: text.slice(0, DISCORD_MAX_CHARS),
        allowed_mentions: NO_MENTIONS,
        message_reference: { message_id: message.id, fail_if_not_exists: false },
      },
    });
  }

  private async onInteraction(interaction: Interaction): Promise<void> {
    const handlers = this.handlers;
    if (!handlers || !interaction.isButton()) return;
    try {
      await answerClick(interaction, {
        channelName: this.name,
        handlers,
        shownOn: (messageId) => this.shown.get(messageId),
        answerWithinMs: this.options.answerClickWithinMs ?? DEFAULT_ANSWER_CLICK_WITHIN_MS,
      });
    } catch (err) {
      this.options.log.error({ err, chatId: interaction.channelId }, 'discord click not handled');
    }
  }
}

function toRawFile(file: Attachment): { name: string; data: Buffer; contentType: string } {
  return { name: file.name, data: file.bytes, contentType: file.mime };
}

/** The start failure as the owner can act on it. */
function startFailure(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const status = (err as { status?: unknown }).status;
  if (code === 'TokenInvalid' || status === 401) {
    return 'Discord refused the bot token (DISCORD_BOT_TOKEN): copy a fresh one from the Developer Portal (Bot → Reset Token)';
  }
  if (code === 'DisallowedIntents' || status === 4014) {
    return 'Discord refused the bot: turn on "Message Content Intent" under Bot in the Developer Portal';
  }
  const detail = err instanceof Error ? err.message : String(err);
  return `Discord could not be reached (${detail.slice(0, 200)}); the channel stays off until the next start`;
}
