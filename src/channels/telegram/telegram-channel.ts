import http from 'node:http';
import https from 'node:https';
import { Bot, GrammyError } from 'grammy';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../cells/clock.js';
import { MAX_IMAGE_BYTES } from '../../media/image-check.js';
import type {
  Action,
  Channel,
  ChannelCapabilities,
  ChannelHandlers,
  OutboundMessage,
  SentMessage,
} from '../channel.js';
import { inlineKeyboard } from './telegram-buttons.js';
import { takeClick, takeMessage, type InboundDeps } from './telegram-inbound.js';
import { OffsetFile } from './telegram-offset.js';
import { editOutbound, sendOutbound, type Outbound } from './telegram-outbound.js';
import { safeProblem } from './telegram-problem.js';
import { pollUpdates } from './telegram-poll.js';
import { retryAfter } from './telegram-retry.js';
import { apiSignal, type ApiSignal } from './telegram-signal.js';

/** The Bot API serves bots files of at most 20 MB (getFile). */
const MAX_GETFILE_BYTES = 20 * 1024 * 1024;
const CHAT_ID = /^-?[1-9]\d{0,19}$/;
const DEFAULT_TRACKED_MESSAGES = 1000;
/** How long start waits for Telegram to answer before it gives up. */
const START_TIMEOUT_MS = 30_000;

export interface TelegramChannelOptions {
  token: string;
  /** The Bot API root (`https://api.telegram.org`); tests point it at a fake. */
  apiRoot: string;
  /** The data dir: the update offset is kept here (see OffsetFile). */
  home: string;
  log: Logger;
  /** NANOCELL_MAX_ATTACHMENT_MB in bytes: no inbound file over it is downloaded. */
  maxAttachmentBytes: number;
  clock?: Clock;
  /** How long one getUpdates call waits for an update (Telegram allows up to 50 s). */
  pollTimeoutSeconds?: number;
  /** A 429 asking for a longer wait than this fails the call instead. */
  maxRetryWaitMs?: number;
  trackedMessages?: number;
}

/** Telegram did not let the bot in: the token was refused, or the API is unreachable. */
export class TelegramStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TelegramStartError';
  }
}

interface Running {
  bot: Bot;
  agent: http.Agent;
  abort: AbortController;
  /** `abort.signal`, as grammY's calls take it. */
  signal: ApiSignal;
  handlers: ChannelHandlers;
  loop: Promise<void>;
}

/**
 * The Telegram channel (grammY, long polling): a chat id is Telegram's chat id (a person's
 * for a private chat, negative for a group). An update is confirmed to Telegram, and its offset
 * saved in the data dir, only after `onMessage` resolved, so a restart neither loses nor replays
 * a message. A stored message gets a 👍 reaction, an ignored one nothing, a refused one a reply
 * with the reason. Buttons carry an action id or an index into the actions this channel showed
 * on that message; a press carrying anything else is refused without reaching the host.
 */
export class TelegramChannel implements Channel {
  readonly name = 'telegram';
  readonly capabilities: ChannelCapabilities = {
    edit: true,
    actions: true,
    attachments: true,
    typing: true,
  };
  private run: Running | null = null;
  /** `chatId:messageId` → the actions shown on it (insertion order = age). */
  private readonly shown = new Map<string, Action[]>();
  private readonly offsets: OffsetFile;
  private readonly clock: Clock;

  constructor(private readonly options: TelegramChannelOptions) {
    this.offsets = new OffsetFile(options.home);
    this.clock = options.clock ?? systemClock;
  }

  async start(handlers: ChannelHandlers): Promise<void> {
    if (this.run) return;
    const { token, apiRoot, log } = this.options;
    // Our own agent, so `stop` can close every kept-alive socket.
    const agent = apiRoot.startsWith('https:')
      ? new https.Agent({ keepAlive: true })
      : new http.Agent({ keepAlive: true });
    const abort = new AbortController();
    const bot = new Bot(token, {
      client: {
        apiRoot,
        timeoutSeconds: this.pollSeconds() + 60,
        baseFetchConfig: { agent, compress: true },
      },
    });
    bot.api.config.use(retryAfter(this.clock, this.options.maxRetryWaitMs ?? 60_000, log));
    let next: number | undefined;
    const startSignal = apiSignal(
      AbortSignal.any([abort.signal, AbortSignal.timeout(START_TIMEOUT_MS)]),
    );
    try {
      // Not bot.init(): it retries an unreachable API forever; start must fail instead.
      bot.botInfo = await bot.api.getMe(startSignal);
      // getUpdates answers 409 while a webhook is set; pending updates are kept.
      await bot.api.deleteWebhook({ drop_pending_updates: false }, startSignal);
      const saved = this.offsets.read(bot.botInfo.id);
      if (saved.ok) next = saved.next;
      else
        log.warn(
          { problem: saved.reason },
          'telegram offset unreadable; resuming where Telegram is',
        );
    } catch (err) {
      agent.destroy();
      // No `cause`: a network error's message holds the request URL, and the URL the token.
      throw new TelegramStartError(startFailure(err, token, apiRoot));
    }
    const run: Running = {
      bot,
      agent,
      abort,
      signal: apiSignal(abort.signal),
      handlers,
      loop: Promise.resolve(),
    };
    this.run = run;
    run.loop = pollUpdates({
      api: bot.api,
      signal: abort.signal,
      offsets: this.offsets,
      botId: bot.botInfo.id,
      next,
      clock: this.clock,
      log,
      token,
      pollSeconds: this.pollSeconds(),
      limits: {
        maxFileBytes: Math.min(this.options.maxAttachmentBytes, MAX_GETFILE_BYTES),
        maxImageBytes: MAX_IMAGE_BYTES,
      },
      handle: (inbound) => {
        const deps = this.inboundDeps(run);
        return inbound.kind === 'message' ? takeMessage(inbound, deps) : takeClick(inbound, deps);
      },
    }).catch((err: unknown) => {
      // A bug, not the platform: said once, and the channel stays quiet until restarted.
      log.error({ problem: safeProblem(err, token) }, 'telegram polling ended by an error');
    });
    log.info({ bot: bot.botInfo.username }, 'telegram channel connected');
  }

  async send(chatId: string, message: OutboundMessage): Promise<SentMessage> {
    const run = this.require('send');
    const chat = platformChatId(chatId);
    const actions = message.actions ?? [];
    const keyboard = actions.length > 0 ? inlineKeyboard(actions) : undefined;
    const id = await sendOutbound(this.outbound(run), chat, message, keyboard);
    if (actions.length > 0) this.remember(`${chat}:${id}`, actions);
    return { id: String(id) };
  }

  async edit(chatId: string, sent: SentMessage, text: string): Promise<void> {
    const run = this.require('edit');
    const chat = platformChatId(chatId);
    if (!/^\d{1,15}$/.test(sent.id)) {
      throw new RangeError(`"${sent.id.slice(0, 20)}" is not a telegram message id`);
    }
    const messageId = Number(sent.id);
    const actions = this.shown.get(`${chat}:${messageId}`);
    const keyboard = actions ? inlineKeyboard(actions) : undefined;
    await editOutbound(this.outbound(run), chat, messageId, text, keyboard);
  }

  async typing(chatId: string): Promise<void> {
    const run = this.require('typing');
    await run.bot.api.sendChatAction(platformChatId(chatId), 'typing', {}, run.signal);
  }

  async stop(): Promise<void> {
    const run = this.run;
    if (!run) return;
    this.run = null;
    this.shown.clear();
    run.abort.abort();
    await run.loop;
    run.agent.destroy();
    this.options.log.info('telegram channel stopped');
  }

  private require(what: string): Running {
    if (!this.run) throw new Error(`telegram channel cannot ${what}: it is not started`);
    return this.run;
  }

  private pollSeconds(): number {
    return this.options.pollTimeoutSeconds ?? 30;
  }

  private remember(key: string, actions: Action[]): void {
    this.shown.set(key, actions);
    const cap = this.options.trackedMessages ?? DEFAULT_TRACKED_MESSAGES;
    for (const oldest of this.shown.keys()) {
      if (this.shown.size <= cap) break;
      this.shown.delete(oldest);
    }
  }

  private outbound(run: Running): Outbound {
    return {
      api: run.bot.api,
      signal: run.signal,
      log: this.options.log,
      token: this.options.token,
    };
  }

  private inboundDeps(run: Running): InboundDeps {
    const { token, apiRoot, log } = this.options;
    return {
      channelName: this.name,
      api: run.bot.api,
      handlers: run.handlers,
      files: {
        fileRoot: `${apiRoot}/file/bot${token}`,
        agent: run.agent,
        maxBytes: Math.min(this.options.maxAttachmentBytes, MAX_GETFILE_BYTES),
        signal: run.abort.signal,
      },
      shownOn: (chatId, messageId) => this.shown.get(`${chatId}:${messageId}`),
      log,
      token,
      signal: run.signal,
    };
  }
}

/** The chat id the host gives, checked: anything else is a bug, never sent on. */
function platformChatId(chatId: string): string {
  if (!CHAT_ID.test(chatId))
    throw new RangeError(`"${chatId.slice(0, 40)}" is not a telegram chat id`);
  return chatId;
}

/** The start failure as the owner can act on it (never the token). */
function startFailure(err: unknown, token: string, apiRoot: string): string {
  if (err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404)) {
    return 'Telegram refused TELEGRAM_BOT_TOKEN: ask @BotFather for a fresh one (/token)';
  }
  return `Telegram could not be reached at ${apiRoot} (${safeProblem(err, token)})`;
}
