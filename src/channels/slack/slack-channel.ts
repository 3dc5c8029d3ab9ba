import type { Logger } from 'pino';
import {
  ChannelUnsupportedError,
  type Action,
  type Channel,
  type ChannelCapabilities,
  type ChannelHandlers,
  type OutboundMessage,
  type SentMessage,
} from '../channel.js';
import { splitMessage } from '../split-message.js';
import { MAX_BUTTONS, SECTION_MAX_CHARS, messageBlocks } from './slack-blocks.js';
import { answerClick } from './slack-clicks.js';
import { fileHosts } from './slack-files.js';
import { takeInMessage } from './slack-intake.js';
import { readEvent, SLACK_CHAT_ID } from './slack-inbound.js';
import { escapeMrkdwn, toMrkdwn } from './slack-mrkdwn.js';
import {
  APP_TOKEN_FIX,
  BOT_TOKEN_FIX,
  describeError,
  isRefusedToken,
  webClient,
  type WebClient,
} from './slack-web.js';
import { SocketModeConnection, type Envelope } from './socket-mode.js';

/**
 * A message part's size: a section block's limit (3000), so the part that carries buttons
 * fits its block, and under the 4000 characters Slack advises for message text.
 */
export const SLACK_MAX_CHARS = SECTION_MAX_CHARS;
/** Messages whose buttons are remembered, newest kept: a click on an older one is refused. */
const DEFAULT_TRACKED_MESSAGES = 1000;
/** Messages recently taken in: Slack redelivers an envelope acknowledged late. */
const SEEN_MESSAGES = 1000;
/** Slack fails a click not acknowledged within 3 s; leave room for the round trip. */
const DEFAULT_ANSWER_CLICK_WITHIN_MS = 2000;

export interface SlackChannelOptions {
  botToken: string;
  appToken: string;
  /** The Web API base ending in `/` (`https://slack.com/api/`); tests point it at a fake. */
  apiUrl: string;
  log: Logger;
  /** The largest file taken in from a user (`NANOCELL_MAX_ATTACHMENT_MB`). */
  maxAttachmentBytes: number;
  trackedMessages?: number;
  answerClickWithinMs?: number;
  /** Socket Mode timings (tests shorten them). */
  reconnectDelayMs?: number;
  pingIntervalMs?: number;
}

/** Slack did not let the app in: a token was refused, or the platform is unreachable. */
export class SlackStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SlackStartError';
  }
}

export type SlackState =
  | { state: 'stopped' }
  | { state: 'connecting' }
  | { state: 'connected'; bot: string; team: string }
  | { state: 'failed'; reason: string };

interface Running {
  web: WebClient;
  socket: SocketModeConnection;
  handlers: ChannelHandlers;
  botUserId: string;
}

/**
 * The Slack channel, over Socket Mode (no public URL needed): a chat id is a conversation id
 * (C… channel, D… direct message, G… private). An envelope is acknowledged only once the host
 * has the message; a stored message gets a ✅ reaction, a refused one a thread reply with the
 * reason, an ignored one nothing. Buttons are Block Kit buttons indexing into the actions shown
 * on that message. Slack has no typing indicator for bots outside its assistant threads, so
 * `typing` is not declared.
 *
 * Built on Bolt's Web API client, not on Bolt's App: App acknowledges every Events API
 * envelope before its listeners run, which would confirm messages the host never stored.
 */
export class SlackChannel implements Channel {
  readonly name = 'slack';
  readonly capabilities: ChannelCapabilities = {
    edit: true,
    actions: true,
    attachments: true,
    typing: false,
  };
  private running: Running | null = null;
  private current: SlackState = { state: 'stopped' };
  /** `${chatId} ${ts}` → the actions shown on that message (insertion order = age). */
  private readonly shown = new Map<string, Action[]>();
  private readonly seen = new Set<string>();
  /** Per chat, the message being taken in now: the next one waits for it. */
  private readonly chatTurns = new Map<string, Promise<void>>();

  constructor(private readonly options: SlackChannelOptions) {}

  status(): SlackState {
    return this.current;
  }

  async start(handlers: ChannelHandlers): Promise<void> {
    if (this.running) return;
    this.current = { state: 'connecting' };
    const { botToken, appToken, apiUrl, log } = this.options;
    const web = webClient(botToken, apiUrl, log);
    const appWeb = webClient(appToken, apiUrl, log);
    let me: { user?: unknown; user_id?: unknown; team?: unknown };
    try {
      me = await web.auth.test();
    } catch (err) {
      throw this.failed(
        isRefusedToken(err)
          ? `Slack refused SLACK_BOT_TOKEN (${describeError(err)}): ${BOT_TOKEN_FIX}`
          : `Slack could not be reached at ${apiUrl} (${describeError(err)}); the channel stays off until the next start`,
        err,
      );
    }
    const running: Running = {
      web,
      handlers,
      botUserId: typeof me.user_id === 'string' ? me.user_id : '',
      socket: new SocketModeConnection({
        log,
        openUrl: async () => {
          const opened = await appWeb.apps.connections.open({});
          if (typeof opened.url !== 'string') throw new Error('apps.connections.open gave no URL');
          return opened.url;
        },
        onEnvelope: (envelope, ack) => this.onEnvelope(running, envelope, ack),
        reconnectDelayMs: this.options.reconnectDelayMs,
        pingIntervalMs: this.options.pingIntervalMs,
      }),
    };
    try {
      await running.socket.open();
    } catch (err) {
      await running.socket.close();
      throw this.failed(
        isRefusedToken(err)
          ? `Slack refused SLACK_APP_TOKEN (${describeError(err)}): ${APP_TOKEN_FIX}`
          : `Slack's Socket Mode could not be opened (${describeError(err)}); the channel stays off until the next start`,
        err,
      );
    }
    this.running = running;
    const bot = typeof me.user === 'string' ? me.user.slice(0, 64) : 'unknown';
    const team = typeof me.team === 'string' ? me.team.slice(0, 64) : 'unknown';
    this.current = { state: 'connected', bot, team };
    log.info({ bot, team }, 'slack channel connected');
  }

  private failed(reason: string, cause: unknown): SlackStartError {
    this.current = { state: 'failed', reason };
    return new SlackStartError(reason, { cause });
  }

  async send(chatId: string, message: OutboundMessage): Promise<SentMessage> {
    const { web } = this.require('send');
    const channel = conversationId(chatId);
    const actions = message.actions ?? [];
    if (actions.length > MAX_BUTTONS) {
      throw new RangeError(`slack shows at most ${MAX_BUTTONS} buttons on a message`);
    }
    const files = message.attachments ?? [];
    const text =
      message.text.length > 0
        ? toMrkdwn(message.text)
        : files.length > 0
          ? files.map((f) => escapeMrkdwn(f.name)).join(', ')
          : '(empty message)';
    const parts = splitMessage(text, SLACK_MAX_CHARS);
    let ts = '';
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1;
      const sent = await web.chat.postMessage({
        channel,
        text: part,
        ...(last && actions.length > 0 ? { blocks: messageBlocks(part, actions) as never } : {}),
        unfurl_links: false,
        unfurl_media: false,
      });
      ts = typeof sent.ts === 'string' ? sent.ts : '';
    }
    if (actions.length > 0) this.remember(chatId, ts, actions);
    if (files.length > 0) {
      await web.files.uploadV2({
        channel_id: channel,
        file_uploads: files.map((f) => ({ file: f.bytes, filename: f.name, title: f.name })),
      });
    }
    return { id: ts };
  }

  async edit(chatId: string, sent: SentMessage, text: string): Promise<void> {
    const { web } = this.require('edit');
    const converted = toMrkdwn(text) || '(empty message)';
    const cut =
      converted.length > SLACK_MAX_CHARS
        ? `${converted.slice(0, SLACK_MAX_CHARS - 1)}…`
        : converted;
    // The buttons stay: blocks, when a message has them, are what Slack shows.
    const actions = this.shown.get(`${chatId} ${sent.id}`);
    await web.chat.update({
      channel: conversationId(chatId),
      ts: sent.id,
      text: cut,
      ...(actions ? { blocks: messageBlocks(cut, actions) as never } : {}),
    });
  }

  async typing(): Promise<void> {
    throw new ChannelUnsupportedError(this.name, 'show typing');
  }

  async stop(): Promise<void> {
    const running = this.running;
    this.running = null;
    this.shown.clear();
    this.seen.clear();
    this.current = { state: 'stopped' };
    await running?.socket.close();
  }

  private require(what: string): Running {
    if (!this.running) throw new Error(`slack channel cannot ${what}: it is not started`);
    return this.running;
  }

  private remember(chatId: string, ts: string, actions: Action[]): void {
    this.shown.set(`${chatId} ${ts}`, actions);
    const cap = this.options.trackedMessages ?? DEFAULT_TRACKED_MESSAGES;
    for (const oldest of this.shown.keys()) {
      if (this.shown.size <= cap) break;
      this.shown.delete(oldest);
    }
  }

  private async onEnvelope(running: Running, envelope: Envelope, ack: () => Promise<void>) {
    const log = this.options.log;
    if (this.running !== running) return;
    if (envelope.type === 'interactive') {
      await answerClick(envelope.payload, ack, {
        channelName: this.name,
        web: running.web,
        handlers: running.handlers,
        log,
        shownOn: (chatId, ts) =>
          this.running === running ? this.shown.get(`${chatId} ${ts}`) : undefined,
        answerWithinMs: this.options.answerClickWithinMs ?? DEFAULT_ANSWER_CLICK_WITHIN_MS,
      });
      return;
    }
    if (envelope.type !== 'events_api') {
      log.debug({ type: envelope.type.slice(0, 64) }, 'slack envelope type ignored');
      return ack();
    }
    const read = readEvent(envelope.payload, running.botUserId);
    if (read.kind === 'malformed') {
      // Slack would redeliver it forever; it will not parse any better.
      log.warn(
        { envelopeId: envelope.envelopeId, why: read.why },
        'slack event malformed; skipped',
      );
      return ack();
    }
    if (read.kind === 'skip') {
      log.debug({ why: read.why }, 'slack event ignored');
      return ack();
    }
    const key = `${read.message.chatId} ${read.message.ts}`;
    if (this.seen.has(key)) {
      log.info({ chatId: read.message.chatId, retry: envelope.retryAttempt }, 'slack redelivery');
      return ack();
    }
    this.seen.add(key);
    for (const oldest of this.seen) {
      if (this.seen.size <= SEEN_MESSAGES) break;
      this.seen.delete(oldest);
    }
    await this.inChatOrder(read.message.chatId, () =>
      takeInMessage(read.message, ack, {
        channelName: this.name,
        web: running.web,
        handlers: running.handlers,
        log,
        download: {
          botToken: this.options.botToken,
          maxBytes: this.options.maxAttachmentBytes,
          hosts: fileHosts(this.options.apiUrl),
        },
        isLive: () => this.running === running,
      }),
    );
  }

  /**
   * One chat's messages reach the host in the order Slack sent them, even when an earlier
   * one waits on a file download; other chats do not wait.
   */
  private async inChatOrder(chatId: string, work: () => Promise<void>): Promise<void> {
    const previous = this.chatTurns.get(chatId) ?? Promise.resolve();
    const turn = previous.then(work);
    this.chatTurns.set(chatId, turn);
    try {
      await turn;
    } finally {
      if (this.chatTurns.get(chatId) === turn) this.chatTurns.delete(chatId);
    }
  }
}

/** The platform's conversation id behind a chat id the host gives; anything else is a bug. */
function conversationId(chatId: string): string {
  if (!SLACK_CHAT_ID.test(chatId)) {
    throw new RangeError(`"${chatId.slice(0, 40)}" is not a slack chat id`);
  }
  return chatId;
}
