import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A file the bot uploaded, as the fake parsed it from the multipart body. */
export interface UploadedFile {
  name: string;
  /** What Telegram infers from the file name (grammY sends every file as octet-stream). */
  mime: string;
  bytes: Buffer;
  as: 'document' | 'photo';
}

export interface InlineButton {
  text: string;
  callback_data: string;
}

/** What the bot did on the platform, as the fake saw it on the wire. */
export type TelegramEvent =
  | {
      kind: 'message';
      chatId: string;
      messageId: number;
      /** What the user sees: the HTML parsed to plain text. */
      text: string;
      /** What the bot sent (HTML when `parseMode` is HTML). */
      raw: string;
      parseMode: string | null;
      buttons: InlineButton[][];
      replyTo: number | null;
      files: UploadedFile[];
    }
  | { kind: 'edit'; chatId: string; messageId: number; text: string; raw: string }
  | { kind: 'typing'; chatId: string; action: string }
  | { kind: 'reaction'; chatId: string; messageId: number; emoji: string }
  | { kind: 'answer'; callbackQueryId: string; text: string | null; showAlert: boolean }
  | { kind: 'download'; filePath: string };

export interface TelegramPerson {
  id: number;
  first_name: string;
  username?: string;
  is_bot?: boolean;
}

export interface SayOptions {
  chatId?: number;
  from?: TelegramPerson;
}

export interface FileOptions extends SayOptions {
  caption?: string;
  /** The size the update claims (a real one is the file's; a test may lie). */
  declaredSize?: number;
}

/** An injected failure: the next `times` calls of `method` (or any) answer this. */
export interface Failure {
  method?: string;
  status: number;
  description?: string;
  retryAfterSeconds?: number;
  times?: number;
}

interface StoredMessage {
  chatId: string;
  text: string | null;
  caption: string | null;
}

const MAX_BODY_BYTES = 60 * 1024 * 1024;
const MAX_TEXT_CHARS = 4096;
const MAX_CAPTION_CHARS = 1024;
/** Telegram's Bot API serves files up to 20 MB through getFile. */
const MAX_GETFILE_BYTES = 20 * 1024 * 1024;
const ALLOWED_TAGS = new Set([
  'b',
  'strong',
  'i',
  'em',
  'u',
  's',
  'code',
  'pre',
  'a',
  'blockquote',
]);
/** A few of Telegram's allowed reaction emoji (✅ is not among them). */
const REACTIONS = new Set(['👍', '👎', '❤', '🔥', '👀', '🎉', '🙏', '👌']);
const MIME_BY_EXT: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
  txt: 'text/plain',
  csv: 'text/csv',
  json: 'application/json',
  ogg: 'audio/ogg',
};

/**
 * A Telegram Bot API on 127.0.0.1 speaking the real wire protocol grammY uses with
 * `client.apiRoot`: `POST /bot<token>/<method>` with JSON or multipart bodies, answered with
 * `{ok:true,result}` or `{ok:false,error_code,description}`; files at `/file/bot<token>/<path>`.
 * `getUpdates` long-polls the updates a test injects (`userSays`, `userSendsPhoto`, `userClicks`,
 * `inject`) and, as Telegram does, forgets an update only once a later call's offset confirms it.
 */
export class FakeTelegram {
  readonly bot = { id: 7000001, is_bot: true, first_name: 'nanocell', username: 'nanocell_bot' };
  readonly owner: TelegramPerson = { id: 424242, first_name: 'Olive', username: 'olive' };
  /** The owner's private chat with the bot has the owner's id. */
  readonly chatId = 424242;
  /** Every method called, in order (including failed ones). */
  readonly calls: string[] = [];
  /** The offsets getUpdates was called with, in order. */
  readonly offsets: number[] = [];
  private readonly failures: Failure[] = [];
  private nextUpdateId = 5000;
  private nextMessageId = 100;
  private nextFile = 1;
  private confirmed = 0;
  private readonly updates: Array<{ update_id: number } & Record<string, unknown>> = [];
  private readonly pollers = new Set<() => void>();
  private readonly messages = new Map<string, StoredMessage>();
  private readonly files = new Map<string, { path: string; bytes: Buffer; size: number }>();
  private readonly events: TelegramEvent[] = [];
  private readonly waiters: Array<{
    match: (e: TelegramEvent) => boolean;
    resolve: (e: TelegramEvent) => void;
  }> = [];
  private readonly sockets = new Set<Socket>();
  private readonly closeWaiters: Array<() => void> = [];

  private constructor(
    private readonly token: string,
    private readonly server: http.Server,
  ) {}

  static async start(token: string, port = 0): Promise<FakeTelegram> {
    const server = http.createServer();
    const fake = new FakeTelegram(token, server);
    server.on('request', (req, res) => {
      fake.onRequest(req, res).catch((err: unknown) => {
        res.writeHead(500).end(String(err));
      });
    });
    server.on('connection', (socket) => fake.onSocket(socket));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return fake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** What TELEGRAM_API_ROOT is set to. */
  get apiRoot(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** TCP connections from the bot that are open now. */
  get openSockets(): number {
    return this.sockets.size;
  }

  /** Resolves once no connection is open (or at once). */
  async allClosed(): Promise<void> {
    if (this.sockets.size === 0) return;
    await new Promise<void>((resolve) => this.closeWaiters.push(resolve));
  }

  /** The first update id Telegram would still deliver (everything below is confirmed). */
  get confirmedOffset(): number {
    return this.confirmed;
  }

  /**
   * As if no confirmation had reached Telegram (the bot crashed before its next poll): every
   * update is delivered again to a poll that does not pass a later offset.
   */
  forgetConfirmations(): void {
    this.confirmed = 0;
  }

  /** Makes calls fail: `{status: 429, retryAfterSeconds: 1, times: 1}`, `{status: 500}` ... */
  fail(failure: Failure): void {
    this.failures.push({ times: 1, ...failure });
  }

  /** The next event matching `match` (earlier ones that do not match stay queued). */
  async next<K extends TelegramEvent['kind']>(
    kind: K,
    match: (e: Extract<TelegramEvent, { kind: K }>) => boolean = () => true,
  ): Promise<Extract<TelegramEvent, { kind: K }>> {
    const test = (e: TelegramEvent) =>
      e.kind === kind && match(e as Extract<TelegramEvent, { kind: K }>);
    return (await this.nextWhere(test)) as Extract<TelegramEvent, { kind: K }>;
  }

  async nextWhere(match: (e: TelegramEvent) => boolean): Promise<TelegramEvent> {
    const index = this.events.findIndex(match);
    if (index >= 0) return this.events.splice(index, 1)[0]!;
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** Events not yet taken by `next` (for "nothing was said" assertions). */
  pending(): readonly TelegramEvent[] {
    return this.events;
  }

  /** A person writes; returns the message id. */
  userSays(text: string, options: SayOptions = {}): number {
    return this.userMessage(options, { text });
  }

  userSendsPhoto(sizes: Buffer[], options: FileOptions = {}): number {
    const photo = sizes.map((bytes, i) => ({
      ...this.storeFile(bytes, `photos/file_${this.nextFile}.jpg`, options.declaredSize),
      width: 90 * (i + 1),
      height: 90 * (i + 1),
    }));
    return this.userMessage(options, {
      photo,
      ...(options.caption ? { caption: options.caption } : {}),
    });
  }

  userSendsDocument(name: string, mime: string, bytes: Buffer, options: FileOptions = {}): number {
    const file = this.storeFile(bytes, `documents/file_${this.nextFile}`, options.declaredSize);
    return this.userMessage(options, {
      document: { ...file, file_name: name, mime_type: mime },
      ...(options.caption ? { caption: options.caption } : {}),
    });
  }

  userSendsVoice(bytes: Buffer, options: FileOptions = {}): number {
    const file = this.storeFile(bytes, `voice/file_${this.nextFile}.oga`, options.declaredSize);
    return this.userMessage(options, { voice: { ...file, duration: 2, mime_type: 'audio/ogg' } });
  }

  /** A person presses the inline button carrying `data` under message `messageId`. */
  userClicks(messageId: number, data: string, options: SayOptions = {}): string {
    const chatId = options.chatId ?? this.chatId;
    const id = `cbq-${this.nextUpdateId}`;
    this.inject({
      callback_query: {
        id,
        from: options.from ?? this.owner,
        chat_instance: 'fake-instance',
        data,
        message: {
          message_id: messageId,
          date: now(),
          chat: chatObject(chatId, options.from ?? this.owner),
          from: this.bot,
          text: this.messages.get(key(chatId, messageId))?.text ?? '',
        },
      },
    });
    return id;
  }

  /** Queues a raw update (for malformed or unknown ones); returns its update id. */
  inject(update: Record<string, unknown>): number {
    const update_id = this.nextUpdateId++;
    this.updates.push({ update_id, ...update });
    for (const wake of [...this.pollers]) wake();
    return update_id;
  }

  async stop(): Promise<void> {
    for (const wake of [...this.pollers]) wake();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private userMessage(options: SayOptions, content: Record<string, unknown>): number {
    const chatId = options.chatId ?? this.chatId;
    const from = options.from ?? this.owner;
    const message_id = this.nextMessageId++;
    this.inject({
      message: { message_id, date: now(), chat: chatObject(chatId, from), from, ...content },
    });
    return message_id;
  }

  private storeFile(bytes: Buffer, filePath: string, declaredSize?: number) {
    const file_id = `file-${this.nextFile++}`;
    const size = declaredSize ?? bytes.length;
    this.files.set(file_id, { path: filePath, bytes, size });
    return { file_id, file_unique_id: `u${file_id}`, file_size: size };
  }

  private onSocket(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (this.sockets.size === 0) for (const done of this.closeWaiters.splice(0)) done();
    });
  }

  private push(event: TelegramEvent): void {
    const index = this.waiters.findIndex((w) => w.match(event));
    if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(event);
    else this.events.push(event);
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      void res
        .writeHead(status, { 'content-type': 'application/json', ...headers })
        .end(JSON.stringify(body));
    const error = (code: number, description: string, parameters?: unknown) =>
      answer(code, {
        ok: false,
        error_code: code,
        description,
        ...(parameters ? { parameters } : {}),
      });

    const download = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (download && req.method === 'GET') {
      if (download[1] !== this.token) return error(401, 'Unauthorized');
      const filePath = decodeURIComponent(download[2]!);
      const file = [...this.files.values()].find((f) => f.path === filePath);
      if (!file) return error(404, 'Not Found');
      this.push({ kind: 'download', filePath });
      return void res
        .writeHead(200, { 'content-type': 'application/octet-stream' })
        .end(file.bytes);
    }
    const call = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!call) return error(404, 'Not Found');
    if (call[1] !== this.token) return error(401, 'Unauthorized');
    const method = call[2]!;
    this.calls.push(method);
    const body = await readBody(req);
    const { params, files } = parseBody(req.headers['content-type'] ?? '', body, url);

    const failure = this.failures.find((f) => !f.method || f.method === method);
    if (failure) {
      if (--failure.times! <= 0) this.failures.splice(this.failures.indexOf(failure), 1);
      if (failure.status === 429) {
        const retry = failure.retryAfterSeconds ?? 1;
        return error(429, `Too Many Requests: retry after ${retry}`, { retry_after: retry });
      }
      return error(failure.status, failure.description ?? `fake failure ${failure.status}`);
    }
    const ok = (result: unknown) => answer(200, { ok: true, result });
    const chatId = params.chat_id === undefined ? '' : String(params.chat_id);

    switch (method) {
      case 'getMe':
        return ok(this.bot);
      case 'deleteWebhook':
        return ok(true);
      case 'getUpdates':
        return ok(await this.poll(params, req));
      case 'sendMessage': {
        const text = String(params.text ?? '');
        const parsed = visibleText(text, params.parse_mode);
        if (typeof parsed !== 'string') return error(400, parsed.error);
        if (parsed.length === 0) return error(400, 'Bad Request: message text is empty');
        if (parsed.length > MAX_TEXT_CHARS) return error(400, 'Bad Request: message is too long');
        return this.sent(ok, error, chatId, params, parsed, text, []);
      }
      case 'sendDocument':
      case 'sendPhoto': {
        const field = method === 'sendPhoto' ? 'photo' : 'document';
        const ref = String(params[field] ?? '');
        const file = files.find((f) => `attach://${f.field}` === ref);
        if (!file) return error(400, `Bad Request: there is no ${field} in the request`);
        const caption = String(params.caption ?? '');
        const parsed = visibleText(caption, params.parse_mode);
        if (typeof parsed !== 'string') return error(400, parsed.error);
        if (parsed.length > MAX_CAPTION_CHARS) {
          return error(400, 'Bad Request: message caption is too long');
        }
        const upload: UploadedFile = {
          name: file.name,
          mime:
            MIME_BY_EXT[file.name.split('.').pop()?.toLowerCase() ?? ''] ??
            'application/octet-stream',
          bytes: file.bytes,
          as: field,
        };
        return this.sent(ok, error, chatId, params, parsed, caption, [upload], true);
      }
      case 'editMessageText':
      case 'editMessageCaption': {
        const stored = this.messages.get(key(chatId, Number(params.message_id)));
        if (!stored) return error(400, 'Bad Request: message to edit not found');
        const isText = method === 'editMessageText';
        const raw = String((isText ? params.text : params.caption) ?? '');
        const parsed = visibleText(raw, params.parse_mode);
        if (typeof parsed !== 'string') return error(400, parsed.error);
        if (isText && stored.text === null) {
          return error(400, 'Bad Request: there is no text in the message to edit');
        }
        if (!isText && stored.caption === null) {
          return error(400, 'Bad Request: there is no caption in the message to edit');
        }
        if ((isText ? stored.text : stored.caption) === parsed) {
          return error(
            400,
            'Bad Request: message is not modified: specified new message content and reply markup of the message are exactly the same as a current content and reply markup of the message',
          );
        }
        if (isText) stored.text = parsed;
        else stored.caption = parsed;
        this.push({
          kind: 'edit',
          chatId,
          messageId: Number(params.message_id),
          text: parsed,
          raw,
        });
        return ok(true);
      }
      case 'sendChatAction':
        this.push({ kind: 'typing', chatId, action: String(params.action) });
        return ok(true);
      case 'setMessageReaction': {
        const reaction = (params.reaction ?? []) as Array<{ type?: string; emoji?: string }>;
        const emoji = reaction[0]?.emoji ?? '';
        if (!REACTIONS.has(emoji)) return error(400, 'Bad Request: REACTION_INVALID');
        this.push({ kind: 'reaction', chatId, messageId: Number(params.message_id), emoji });
        return ok(true);
      }
      case 'answerCallbackQuery': {
        const text = params.text === undefined ? null : String(params.text);
        if (text !== null && text.length > 200) {
          return error(400, 'Bad Request: MESSAGE_TOO_LONG');
        }
        this.push({
          kind: 'answer',
          callbackQueryId: String(params.callback_query_id),
          text,
          showAlert: params.show_alert === true,
        });
        return ok(true);
      }
      case 'getFile': {
        const file = this.files.get(String(params.file_id));
        if (!file) return error(400, 'Bad Request: invalid file_id');
        if (file.size > MAX_GETFILE_BYTES) return error(400, 'Bad Request: file is too big');
        return ok({
          file_id: params.file_id,
          file_unique_id: `u${String(params.file_id)}`,
          file_size: file.size,
          file_path: file.path,
        });
      }
      default:
        return error(404, 'Not Found: method not found');
    }
  }

  private sent(
    ok: (result: unknown) => void,
    error: (code: number, description: string) => void,
    chatId: string,
    params: Record<string, unknown>,
    text: string,
    raw: string,
    files: UploadedFile[],
    isCaption = false,
  ): void {
    if (!/^-?\d+$/.test(chatId)) return error(400, 'Bad Request: chat not found');
    const markup = params.reply_markup as { inline_keyboard?: InlineButton[][] } | undefined;
    const buttons = markup?.inline_keyboard ?? [];
    for (const b of buttons.flat()) {
      if (Buffer.byteLength(b.callback_data ?? '') > 64 || !b.callback_data) {
        return error(400, 'Bad Request: BUTTON_DATA_INVALID');
      }
    }
    const reply = params.reply_parameters as { message_id?: number } | undefined;
    const messageId = this.nextMessageId++;
    this.messages.set(key(chatId, messageId), {
      chatId,
      text: isCaption ? null : text,
      caption: isCaption ? text : null,
    });
    this.push({
      kind: 'message',
      chatId,
      messageId,
      text,
      raw,
      parseMode: typeof params.parse_mode === 'string' ? params.parse_mode : null,
      buttons,
      replyTo: reply?.message_id ?? null,
      files,
    });
    ok({
      message_id: messageId,
      date: now(),
      chat: { id: Number(chatId), type: Number(chatId) > 0 ? 'private' : 'group' },
      from: this.bot,
      ...(isCaption ? { caption: text } : { text }),
    });
  }

  private async poll(
    params: Record<string, unknown>,
    req: http.IncomingMessage,
  ): Promise<unknown[]> {
    const offset = Number(params.offset ?? 0);
    this.offsets.push(offset);
    if (offset > this.confirmed) this.confirmed = offset;
    const limit = Math.min(Number(params.limit ?? 100), 100);
    const ready = () => this.updates.filter((u) => u.update_id >= this.confirmed).slice(0, limit);
    if (ready().length > 0 || !params.timeout) return ready();
    await new Promise<void>((resolve) => {
      const wake = () => {
        this.pollers.delete(wake);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(wake, Number(params.timeout) * 1000);
      this.pollers.add(wake);
      req.socket.once('close', wake);
    });
    return ready();
  }
}

function key(chatId: string | number, messageId: number): string {
  return `${chatId}:${messageId}`;
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function chatObject(chatId: number, from: TelegramPerson) {
  return chatId > 0
    ? { id: chatId, type: 'private', first_name: from.first_name }
    : { id: chatId, type: 'supergroup', title: 'Family' };
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('fake telegram: request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

interface FormFile {
  field: string;
  name: string;
  bytes: Buffer;
}

/** JSON, multipart/form-data (as grammY writes it: unquoted file names) or a query string. */
function parseBody(
  contentType: string,
  body: Buffer,
  url: URL,
): { params: Record<string, unknown>; files: FormFile[] } {
  const params: Record<string, unknown> = Object.fromEntries(url.searchParams);
  if (contentType.startsWith('application/json') && body.length > 0) {
    return { params: { ...params, ...(JSON.parse(body.toString('utf8')) as object) }, files: [] };
  }
  const boundary = /boundary=(.+)$/.exec(contentType)?.[1];
  if (!contentType.startsWith('multipart/form-data') || !boundary) return { params, files: [] };
  const files: FormFile[] = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const from = start + delimiter.length;
    const end = body.indexOf(delimiter, from);
    if (end < 0) break;
    const part = body.subarray(from + 2, end - 2); // after CRLF, before CRLF
    start = end;
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const head = part.subarray(0, split).toString('utf8');
    const value = part.subarray(split + 4);
    const name = /name="([^"]+)"/.exec(head)?.[1] ?? '';
    const fileName = /filename="?([^"\r\n]*)"?/.exec(head)?.[1];
    if (fileName !== undefined) files.push({ field: name, name: fileName, bytes: value });
    else params[name] = parseField(value.toString('utf8'));
  }
  return { params, files };
}

/** grammY sends objects (reply_markup) as JSON strings and numbers as text. */
function parseField(text: string): unknown {
  if (/^[[{]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  if (text === 'true' || text === 'false') return text === 'true';
  return text;
}

/**
 * The text a user sees for what the bot sent: HTML is checked as Telegram does (allowed tags,
 * balanced, escaped `<`, `>` and `&`) and reduced to its visible text.
 */
export function visibleText(text: string, parseMode: unknown): string | { error: string } {
  if (parseMode !== 'HTML') return text;
  const open: string[] = [];
  let out = '';
  const token = /<(\/?)([a-z-]+)([^>]*)>|&(lt|gt|amp|quot|#\d+);|([<>&])/g;
  let last = 0;
  for (let m = token.exec(text); m; m = token.exec(text)) {
    out += text.slice(last, m.index);
    last = token.lastIndex;
    if (m[5]) return { error: `Bad Request: can't parse entities: unexpected "${m[5]}"` };
    if (m[4]) {
      out += m[4].startsWith('#')
        ? String.fromCodePoint(Number(m[4].slice(1)))
        : { lt: '<', gt: '>', amp: '&', quot: '"' }[m[4]]!;
      continue;
    }
    const tag = m[2]!;
    if (!ALLOWED_TAGS.has(tag)) {
      return { error: `Bad Request: can't parse entities: unsupported start tag "${tag}"` };
    }
    if (m[1]) {
      if (open.pop() !== tag) {
        return { error: `Bad Request: can't parse entities: unexpected end tag "${tag}"` };
      }
    } else open.push(tag);
  }
  if (open.length > 0) {
    return { error: `Bad Request: can't parse entities: can't find end tag "${open.at(-1)}"` };
  }
  return out + text.slice(last);
}
