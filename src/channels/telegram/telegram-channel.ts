import http from 'node:http';
import https from 'node:https';
import { Bot, GrammyError, InputFile } from 'grammy';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../cells/clock.js';
import { MAX_IMAGE_BYTES } from '../../media/image-check.js';
import type {
  Action,
  Attachment,
  Channel,
  ChannelCapabilities,
  ChannelHandlers,
  OutboundMessage,
  SentMessage,
} from '../channel.js';
import { inlineKeyboard, type InlineButton } from './telegram-buttons.js';
import { htmlCut, htmlParts, TELEGRAM_MAX_CAPTION_CHARS } from './telegram-html.js';
import { takeClick, takeMessage, type InboundDeps } from './telegram-inbound.js';
import { OffsetFile } from './telegram-offset.js';
import { safeProblem } from './telegram-problem.js';
import { retryAfter, wait } from './telegram-retry.js';
import { apiSignal, type ApiSignal } from './telegram-signal.js';
import { parseUpdate, updateIdOf } from './telegram-update.js';

/** The Bot API serves bots files of at most 20 MB (getFile). */
const MAX_GETFILE_BYTES = 20 * 1024 * 1024;
/** sendPhoto takes at most 10 MB; a bigger image goes as a document. */
const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
const PHOTO_MIME = /^image\/(jpeg|png|webp)$/;
const CHAT_ID = /^-?[1-9]\d{0,19}$/;
const DEFAULT_TRACKED_MESSAGES = 1000;
/** An update whose handling fails is tried this often before the sender is told to resend. */
const MAX_ATTEMPTS = 3;
const BACKOFF_MS = [1000, 2000, 5000, 10_000, 30_000];

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
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TelegramStartError';
  }
}

interface Running {
  bot: Bot;
  botId: number;
  agent: http.Agent;
  abort: AbortController;
  /** `abort.signal`, as grammY's calls take it. */
  signal: ApiSignal;
  handlers: ChannelHandlers;
  next: number | undefined;
  failed: { updateId: number; attempts: number } | null;
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
    try {
      // Not bot.init(): it retries an unreachable API forever; start must fail instead.
      bot.botInfo = await bot.api.getMe(apiSignal(abort.signal));
      // getUpdates answers 409 while a webhook is set; pending updates are kept.
      await bot.api.deleteWebhook({ drop_pending_updates: false }, apiSignal(abort.signal));
      const saved = this.offsets.read(bot.botInfo.id);
      if (saved.ok) next = saved.next;
      else
        log.warn(
          { problem: saved.reason },
          'telegram offset unreadable; resuming where Telegram is',
        );
    } catch (err) {
      agent.destroy();
      throw new TelegramStartError(startFailure(err, token, apiRoot), { cause: err });
    }
    const run: Running = {
      bot,
      botId: bot.botInfo.id,
      agent,
      abort,
      signal: apiSignal(abort.signal),
      handlers,
      next,
      failed: null,
      loop: Promise.resolve(),
    };
    this.run = run;
    run.loop = this.poll(run);
    log.info({ bot: bot.botInfo.username }, 'telegram channel connected');
  }

  async send(chatId: string, message: OutboundMessage): Promise<SentMessage> {
    const run = this.require('send');
    const chat = platformChatId(chatId);
    const actions = message.actions ?? [];
    const keyboard = actions.length > 0 ? inlineKeyboard(actions) : undefined;
    const files = message.attachments ?? [];
    const text =
      message.text.trim() === '' && files.length === 0 ? '(empty message)' : message.text;
    let id: number;
    if (files.length === 1 && text.length <= TELEGRAM_MAX_CAPTION_CHARS) {
      id = await this.sendFile(
        run,
        chat,
        files[0]!,
        htmlCut(text, TELEGRAM_MAX_CAPTION_CHARS),
        keyboard,
      );
    } else {
      const parts = text.trim() === '' ? [] : htmlParts(text);
      let textId: number | undefined;
      for (const [i, part] of parts.entries()) {
        const last = i === parts.length - 1;
        const sent = await run.bot.api.sendMessage(
          chat,
          part,
          {
            parse_mode: 'HTML',
            link_preview_options: { is_disabled: true },
            ...(last && keyboard ? { reply_markup: { inline_keyboard: keyboard } } : {}),
          },
          run.signal,
        );
        textId = sent.message_id;
      }
      let fileId: number | undefined;
      for (const [i, file] of files.entries()) {
        const withKeyboard = textId === undefined && i === files.length - 1 ? keyboard : undefined;
        fileId = await this.sendFile(run, chat, file, '', withKeyboard);
      }
      id = (textId ?? fileId)!;
    }
    if (actions.length > 0) this.remember(`${chat}:${id}`, actions);
    return { id: String(id) };
  }

  async edit(chatId: string, sent: SentMessage, text: string): Promise<void> {
    const run = this.require('edit');
    const chat = platformChatId(chatId);
    if (!/^\d{1,15}$/.test(sent.id))
      throw new RangeError(`"${sent.id.slice(0, 20)}" is not a telegram message id`);
    const messageId = Number(sent.id);
    // An edit without the keyboard would remove the buttons.
    const actions = this.shown.get(`${chat}:${messageId}`);
    const markup = actions ? { reply_markup: { inline_keyboard: inlineKeyboard(actions) } } : {};
    try {
      await run.bot.api.editMessageText(
        chat,
        messageId,
        htmlCut(text || '(empty message)'),
        { parse_mode: 'HTML', link_preview_options: { is_disabled: true }, ...markup },
        run.signal,
      );
    } catch (err) {
      if (notModified(err)) return;
      if (!(err instanceof GrammyError) || !/no text in the message/.test(err.description))
        throw err;
      // A file sent with its text as the caption.
      await run.bot.api
        .editMessageCaption(
          chat,
          messageId,
          { caption: htmlCut(text, TELEGRAM_MAX_CAPTION_CHARS), parse_mode: 'HTML', ...markup },
          run.signal,
        )
        .catch((e: unknown) => {
          if (!notModified(e)) throw e;
        });
    }
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

  private async sendFile(
    run: Running,
    chat: string,
    file: Attachment,
    caption: string,
    keyboard: InlineButton[][] | undefined,
  ): Promise<number> {
    const other = {
      ...(caption ? { caption, parse_mode: 'HTML' as const } : {}),
      ...(keyboard ? { reply_markup: { inline_keyboard: keyboard } } : {}),
    };
    const input = () => new InputFile(file.bytes, multipartName(file.name));
    if (PHOTO_MIME.test(file.mime) && file.bytes.length <= MAX_PHOTO_BYTES) {
      try {
        return (await run.bot.api.sendPhoto(chat, input(), other, run.signal)).message_id;
      } catch (err) {
        // Telegram refuses an image it cannot process as a photo; as a document it still goes.
        if (!(err instanceof GrammyError) || err.error_code !== 400) throw err;
        this.options.log.debug(
          { problem: safeProblem(err, this.options.token) },
          'telegram photo sent as a document',
        );
      }
    }
    return (await run.bot.api.sendDocument(chat, input(), other, run.signal)).message_id;
  }

  /** Long polling until stop; each update is taken in order, its offset saved once taken. */
  private async poll(run: Running): Promise<void> {
    const { log, token } = this.options;
    const signal = run.abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      let batch: unknown;
      try {
        batch = await run.bot.api.getUpdates(
          {
            offset: run.next,
            timeout: this.pollSeconds(),
            allowed_updates: ['message', 'callback_query'],
          },
          apiSignal(signal),
        );
      } catch (err) {
        if (signal.aborted) return;
        failures++;
        const conflict = err instanceof GrammyError && err.error_code === 409;
        log.warn(
          { problem: safeProblem(err, token), attempt: failures },
          conflict
            ? 'telegram poll refused: another process polls this bot token (stop it, or use another bot)'
            : 'telegram poll failed; trying again',
        );
        await this.pause(failures, signal);
        continue;
      }
      failures = 0;
      if (!Array.isArray(batch)) {
        log.warn('telegram getUpdates answered something that is not a list; trying again');
        await this.pause(1, signal);
        continue;
      }
      const before = run.next;
      let retry = false;
      for (const raw of batch) {
        if (signal.aborted) return;
        retry = !(await this.take(run, raw));
        if (retry) break;
      }
      if (retry) await this.pause(run.failed?.attempts ?? 1, signal);
      // A batch of updates without a usable id would come back at once, forever.
      else if (batch.length > 0 && run.next === before) await this.pause(1, signal);
    }
  }

  /** One update: true when it is done with (taken or skipped), false to try it again. */
  private async take(run: Running, raw: unknown): Promise<boolean> {
    const { log, token } = this.options;
    const updateId = updateIdOf(raw);
    if (updateId === null) {
      log.warn('telegram update without an update id skipped');
      return true;
    }
    if (run.next !== undefined && updateId < run.next) return true;
    const inbound = parseUpdate(raw, {
      maxFileBytes: Math.min(this.options.maxAttachmentBytes, MAX_GETFILE_BYTES),
      maxImageBytes: MAX_IMAGE_BYTES,
    });
    const deps = this.inboundDeps(run);
    try {
      if (inbound.kind === 'skip') {
        const level = inbound.reason.startsWith('malformed') ? 'warn' : 'debug';
        log[level]({ updateId, reason: inbound.reason }, 'telegram update skipped');
      } else if (inbound.kind === 'message') await takeMessage(inbound, deps);
      else await takeClick(inbound, deps);
    } catch (err) {
      if (run.abort.signal.aborted) return false;
      const attempts = run.failed?.updateId === updateId ? run.failed.attempts + 1 : 1;
      const problem = safeProblem(err, token);
      if (attempts < MAX_ATTEMPTS) {
        run.failed = { updateId, attempts };
        log.error(
          { updateId, attempt: attempts, problem },
          'telegram update not taken in; trying again',
        );
        return false;
      }
      log.error({ updateId, problem }, 'telegram update not taken in; giving up on it');
      if (inbound.kind === 'message') {
        await run.bot.api
          .sendMessage(
            inbound.chatId,
            'Sorry, this message could not be taken in. Please send it again.',
            {},
            run.signal,
          )
          .catch((e: unknown) =>
            log.warn({ problem: safeProblem(e, token) }, 'telegram failure notice not sent'),
          );
      }
    }
    run.failed = null;
    this.advance(run, updateId + 1);
    return true;
  }

  private advance(run: Running, next: number): void {
    run.next = next;
    try {
      this.offsets.write(run.botId, next);
    } catch (err) {
      // Telegram is told at the next poll all the same; only a crash before it would replay.
      this.options.log.error({ err }, 'telegram offset not saved');
    }
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

  private async pause(attempt: number, signal: AbortSignal): Promise<void> {
    const ms = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length) - 1]!;
    // Rejects only when the channel stops; the loop sees the abort and ends.
    await wait(this.clock, ms, signal).catch(() => undefined);
  }
}

/** The chat id the host gives, checked: anything else is a bug, never sent on. */
function platformChatId(chatId: string): string {
  if (!CHAT_ID.test(chatId))
    throw new RangeError(`"${chatId.slice(0, 40)}" is not a telegram chat id`);
  return chatId;
}

function notModified(err: unknown): boolean {
  return err instanceof GrammyError && /message is not modified/.test(err.description);
}

/** grammY writes the name unquoted into the part's header: keep it to one plain token. */
function multipartName(name: string): string {
  return name.replace(/[;"\\\r\n]/g, '_');
}

/** The start failure as the owner can act on it (never the token). */
function startFailure(err: unknown, token: string, apiRoot: string): string {
  if (err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404)) {
    return 'Telegram refused TELEGRAM_BOT_TOKEN: ask @BotFather for a fresh one (/token)';
  }
  return `Telegram could not be reached at ${apiRoot} (${safeProblem(err, token)}); the channel stays off until the next start`;
}
