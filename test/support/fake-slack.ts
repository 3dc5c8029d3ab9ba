import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** A file as the bot uploaded it or a user shared it. */
export interface SlackFile {
  name: string;
  mime: string;
  bytes: Buffer;
}

export interface SlackButton {
  action_id: string;
  value?: string;
  text: { type: string; text: string };
}

/** What the bot did on the platform, as the fake saw it on the wire. */
export type SlackEvent =
  | {
      kind: 'message';
      channel: string;
      ts: string;
      text: string;
      blocks: unknown[];
      buttons: SlackButton[];
      threadTs: string | null;
    }
  | { kind: 'edit'; channel: string; ts: string; text: string }
  | { kind: 'reaction'; channel: string; ts: string; name: string }
  | { kind: 'ephemeral'; channel: string; user: string; text: string }
  | { kind: 'upload'; channel: string; threadTs: string | null; files: SlackFile[] }
  | { kind: 'ack'; envelopeId: string };

export interface SlackUser {
  id: string;
  name: string;
}

const MAX_BODY_BYTES = 30 * 1024 * 1024;

const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  pdf: 'application/pdf',
  txt: 'text/plain',
  ogg: 'audio/ogg',
  m4a: 'audio/mp4',
};

/**
 * A Slack peer on 127.0.0.1 speaking the real wire protocol: the Web API (`POST
 * /api/<method>`, form, JSON or multipart bodies, `Authorization: Bearer`, answers `{ok}` with
 * HTTP 200 as Slack does), the external file upload URLs, private file downloads that need
 * the bot token, and the Socket Mode WebSocket (`hello`, `events_api` and `interactive`
 * envelopes, `{envelope_id}` acks, `disconnect`). One workspace with one channel;
 * `userSays`/`userClicks`/`userSendsFile` act as a person in it.
 */
export class FakeSlack {
  readonly teamId = 'T0FAKETEAM';
  readonly channelId = 'C0FAKECHAN1';
  readonly dmChannelId = 'D0FAKEDM001';
  readonly botUserId = 'U0FAKEBOT01';
  readonly botId = 'B0FAKEBOT01';
  readonly owner: SlackUser = { id: 'U0FAKEOWNER', name: 'owner' };
  /** How long a private file download waits before it answers (a slow file host). */
  fileDelayMs = 0;
  /** When set, every Web API call answers this HTTP status (a platform that is down). */
  failWith: number | null = null;
  private readonly events: SlackEvent[] = [];
  private readonly waiters: Array<{
    match: (e: SlackEvent) => boolean;
    resolve: (e: SlackEvent) => void;
  }> = [];
  private readonly sockets = new Set<WebSocket>();
  private readonly closeWaiters: Array<() => void> = [];
  private readonly helloWaiters: Array<() => void> = [];
  private readonly tickets = new Set<string>();
  private readonly uploads = new Map<string, { name: string; bytes: Buffer | null }>();
  private readonly shared = new Map<string, SlackFile>();
  private connections = 0;
  private clock = 1_700_000_000;
  private serial = 0;
  private readonly wss = new WebSocketServer({ noServer: true });

  private constructor(
    private readonly botToken: string,
    private readonly appToken: string,
    private readonly server: http.Server,
  ) {}

  static async start(botToken: string, appToken: string): Promise<FakeSlack> {
    const server = http.createServer();
    const fake = new FakeSlack(botToken, appToken, server);
    server.on('request', (req, res) => {
      fake.onRequest(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const ticket = url.searchParams.get('ticket') ?? '';
      if (url.pathname !== '/link/' || !fake.tickets.delete(ticket)) return void socket.destroy();
      fake.wss.handleUpgrade(req, socket, head, (ws) => fake.onSocket(ws));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  private get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The Web API base the bot is given (`SLACK_API_URL`). */
  get apiUrl(): string {
    return `${this.origin}/api/`;
  }

  get openSockets(): number {
    return this.sockets.size;
  }

  /** Socket Mode connections opened so far (a reconnect counts again). */
  get connectionCount(): number {
    return this.connections;
  }

  /** Resolves once no socket is open. */
  async socketsClosed(): Promise<void> {
    if (this.sockets.size === 0) return;
    await new Promise<void>((resolve) => this.closeWaiters.push(resolve));
  }

  /** Resolves at the next `hello` the fake sends (a new or renewed connection). */
  async nextHello(): Promise<void> {
    return new Promise((resolve) => this.helloWaiters.push(resolve));
  }

  /** The next event of `kind` matching `match` (earlier ones that do not match stay queued). */
  async next<K extends SlackEvent['kind']>(
    kind: K,
    match: (e: Extract<SlackEvent, { kind: K }>) => boolean = () => true,
  ): Promise<Extract<SlackEvent, { kind: K }>> {
    const found = await this.nextWhere(
      (e) => e.kind === kind && match(e as Extract<SlackEvent, { kind: K }>),
    );
    return found as Extract<SlackEvent, { kind: K }>;
  }

  async nextWhere(match: (e: SlackEvent) => boolean): Promise<SlackEvent> {
    const index = this.events.findIndex(match);
    if (index >= 0) return this.events.splice(index, 1)[0]!;
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** Takes every event already seen that matches, without waiting. */
  drain<K extends SlackEvent['kind']>(
    kind: K,
    match: (e: Extract<SlackEvent, { kind: K }>) => boolean = () => true,
  ): Array<Extract<SlackEvent, { kind: K }>> {
    const taken: Array<Extract<SlackEvent, { kind: K }>> = [];
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i]!;
      if (e.kind === kind && match(e as Extract<SlackEvent, { kind: K }>)) {
        taken.unshift(this.events.splice(i, 1)[0] as Extract<SlackEvent, { kind: K }>);
      }
    }
    return taken;
  }

  /** Whether an envelope has been acknowledged yet (the ack stays queued for `next`). */
  acked(envelopeId: string): boolean {
    return this.events.some((e) => e.kind === 'ack' && e.envelopeId === envelopeId);
  }

  /** A person writes; returns the message ts and the envelope id it came in. */
  userSays(
    text: string,
    options: {
      channel?: string;
      user?: SlackUser;
      subtype?: string;
      botId?: string;
      files?: unknown[];
    } = {},
  ): { ts: string; envelopeId: string } {
    const channel = options.channel ?? this.channelId;
    const ts = this.ts();
    const event: Record<string, unknown> = {
      type: 'message',
      channel,
      channel_type: channel.startsWith('D') ? 'im' : 'channel',
      user: (options.user ?? this.owner).id,
      text,
      ts,
      event_ts: ts,
      team: this.teamId,
    };
    if (options.subtype) event.subtype = options.subtype;
    if (options.botId) event.bot_id = options.botId;
    if (options.files) event.files = options.files;
    const envelopeId = this.sendEnvelope('events_api', {
      token: 'verification-token',
      team_id: this.teamId,
      api_app_id: 'A0FAKEAPP01',
      event,
      type: 'event_callback',
      event_id: `Ev${++this.serial}`,
      event_time: this.clock,
    });
    return { ts, envelopeId };
  }

  /**
   * A person shares a file (served at its url_private, only with the bot token); `size`
   * is what Slack says the file is, the bytes what it serves.
   */
  userSendsFile(
    file: { name: string; mime: string; bytes: Buffer; size?: number },
    text = '',
    options: { channel?: string; user?: SlackUser } = {},
  ): { ts: string; envelopeId: string } {
    const id = `F${String(++this.serial).padStart(9, '0')}`;
    this.shared.set(id, { name: file.name, mime: file.mime, bytes: file.bytes });
    const url = `${this.origin}/files-pri/${this.teamId}-${id}/${encodeURIComponent(file.name)}`;
    return this.userSays(text, {
      ...options,
      subtype: 'file_share',
      files: [
        {
          id,
          name: file.name,
          title: file.name,
          mimetype: file.mime,
          filetype: file.name.split('.').pop() ?? '',
          size: file.size ?? file.bytes.length,
          mode: 'hosted',
          url_private: url,
          url_private_download: `${url}?download=1`,
        },
      ],
    });
  }

  /** A person clicks a button on the bot's message `ts`; returns the envelope id. */
  userClicks(
    ts: string,
    actionId: string,
    value: string,
    options: { channel?: string; user?: SlackUser } = {},
  ): string {
    const channel = options.channel ?? this.channelId;
    const user = options.user ?? this.owner;
    return this.sendEnvelope('interactive', {
      type: 'block_actions',
      user: { id: user.id, username: user.name, name: user.name, team_id: this.teamId },
      api_app_id: 'A0FAKEAPP01',
      token: 'verification-token',
      container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: false },
      trigger_id: `${++this.serial}.trigger`,
      team: { id: this.teamId, domain: 'family' },
      channel: { id: channel, name: 'general' },
      message: { type: 'message', ts, user: this.botUserId, bot_id: this.botId, text: '' },
      response_url: `${this.origin}/actions/${this.serial}`,
      actions: [
        {
          action_id: actionId,
          block_id: 'nc-actions',
          text: { type: 'plain_text', text: 'button' },
          value,
          type: 'button',
          action_ts: this.ts(),
        },
      ],
    });
  }

  /** Sends a raw frame to every connected bot (for malformed or unknown envelopes). */
  sendRaw(frame: string): void {
    for (const ws of this.sockets) ws.send(frame);
  }

  /** Slack asks the bot to reconnect (`refresh_requested`), then closes the socket. */
  askToReconnect(): void {
    for (const ws of this.sockets) {
      ws.send(
        JSON.stringify({
          type: 'disconnect',
          reason: 'refresh_requested',
          debug_info: { host: 'fake-slack' },
        }),
      );
      setTimeout(() => ws.close(1000), 200).unref();
    }
  }

  /** Cuts every socket as a network failure would (no close frame). */
  dropSockets(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private ts(): string {
    return `${this.clock++}.${String(++this.serial).padStart(6, '0')}`;
  }

  private sendEnvelope(type: string, payload: unknown): string {
    const envelopeId = `env-${++this.serial}`;
    this.sendRaw(
      JSON.stringify({
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: false,
        retry_attempt: 0,
        retry_reason: '',
      }),
    );
    return envelopeId;
  }

  private push(event: SlackEvent): void {
    const index = this.waiters.findIndex((w) => w.match(event));
    if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(event);
    else this.events.push(event);
  }

  private onSocket(ws: WebSocket): void {
    this.sockets.add(ws);
    this.connections++;
    ws.on('close', () => {
      this.sockets.delete(ws);
      if (this.sockets.size === 0) for (const done of this.closeWaiters.splice(0)) done();
    });
    ws.on('message', (raw) => {
      try {
        const frame = JSON.parse(String(raw)) as { envelope_id?: unknown };
        if (typeof frame.envelope_id === 'string') {
          this.push({ kind: 'ack', envelopeId: frame.envelope_id });
        }
      } catch {
        ws.close(1003, 'not JSON');
      }
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.sockets.size,
        debug_info: { host: 'fake-slack', approximate_connection_time: 18060 },
        connection_info: { app_id: 'A0FAKEAPP01' },
      }),
    );
    for (const done of this.helloWaiters.splice(0)) done();
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const reply = (body: unknown): void => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const body = await readBody(req);
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];

    const download = /^\/files-pri\/[^/]+-(F\d+)\/[^/]+$/.exec(url.pathname);
    if (download && req.method === 'GET') {
      const file = this.shared.get(download[1]!);
      // Without the bot token Slack answers with its sign-in page, not the file.
      if (bearer !== this.botToken || !file) {
        return void res.writeHead(302, { location: 'https://fake-slack/signin' }).end();
      }
      if (this.fileDelayMs > 0) await new Promise((r) => setTimeout(r, this.fileDelayMs));
      return void res.writeHead(200, { 'content-type': file.mime }).end(file.bytes);
    }
    const upload = /^\/upload\/(F\d+)$/.exec(url.pathname);
    if (upload && req.method === 'POST') {
      const pending = this.uploads.get(upload[1]!);
      if (!pending) return void res.writeHead(404).end();
      pending.bytes = await uploadedBytes(req.headers['content-type'] ?? '', body);
      return void res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${body.length}`);
    }
    const method = /^\/api\/([a-zA-Z.]+)$/.exec(url.pathname)?.[1];
    if (!method || req.method !== 'POST') {
      return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
    if (this.failWith !== null) {
      return void res.writeHead(this.failWith, { 'content-type': 'text/plain' }).end('down');
    }
    const args = parseArgs(req.headers['content-type'] ?? '', body);
    const token = bearer ?? (typeof args.token === 'string' ? args.token : undefined);
    if (method === 'apps.connections.open') {
      if (token !== this.appToken) return reply({ ok: false, error: 'invalid_auth' });
      const ticket = `ticket-${++this.serial}`;
      this.tickets.add(ticket);
      const ws = this.origin.replace(/^http/, 'ws');
      return reply({ ok: true, url: `${ws}/link/?ticket=${ticket}&app_id=A0FAKEAPP01` });
    }
    if (token === undefined) return reply({ ok: false, error: 'not_authed' });
    if (token !== this.botToken) return reply({ ok: false, error: 'invalid_auth' });
    reply(this.callMethod(method, args));
  }

  private callMethod(method: string, args: Record<string, unknown>): Record<string, unknown> {
    const str = (key: string) => (typeof args[key] === 'string' ? (args[key] as string) : '');
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://family.slack.com/',
          team: 'Family',
          user: 'nanocell',
          team_id: this.teamId,
          user_id: this.botUserId,
          bot_id: this.botId,
        };
      case 'chat.postMessage': {
        const ts = this.ts();
        const blocks = jsonArg(args.blocks);
        this.push({
          kind: 'message',
          channel: str('channel'),
          ts,
          text: str('text'),
          blocks,
          buttons: buttonsIn(blocks),
          threadTs: str('thread_ts') || null,
        });
        return { ok: true, channel: str('channel'), ts, message: { text: str('text'), ts } };
      }
      case 'chat.update':
        this.push({ kind: 'edit', channel: str('channel'), ts: str('ts'), text: str('text') });
        return { ok: true, channel: str('channel'), ts: str('ts'), text: str('text') };
      case 'chat.postEphemeral':
        this.push({
          kind: 'ephemeral',
          channel: str('channel'),
          user: str('user'),
          text: str('text'),
        });
        return { ok: true, message_ts: this.ts() };
      case 'reactions.add':
        this.push({
          kind: 'reaction',
          channel: str('channel'),
          ts: str('timestamp'),
          name: str('name'),
        });
        return { ok: true };
      case 'files.getUploadURLExternal': {
        const id = `F${String(++this.serial).padStart(9, '0')}`;
        this.uploads.set(id, { name: str('filename'), bytes: null });
        return { ok: true, upload_url: `${this.origin}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        const listed = jsonArg(args.files) as Array<{ id?: string; title?: string }>;
        const files: SlackFile[] = [];
        for (const f of listed) {
          const pending = this.uploads.get(f.id ?? '');
          if (!pending?.bytes) return { ok: false, error: 'file_not_found' };
          const ext = pending.name.split('.').pop()?.toLowerCase() ?? '';
          files.push({
            name: pending.name,
            mime: MIME_BY_EXTENSION[ext] ?? 'application/octet-stream',
            bytes: pending.bytes,
          });
        }
        this.push({
          kind: 'upload',
          channel: str('channel_id'),
          threadTs: str('thread_ts') || null,
          files,
        });
        return { ok: true, files: listed.map((f) => ({ id: f.id, title: f.title ?? '' })) };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('fake slack: request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A Web API call's arguments: form-encoded (the SDK's default) or JSON. */
function parseArgs(contentType: string, body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8');
  if (contentType.startsWith('application/json')) {
    return JSON.parse(text || '{}') as Record<string, unknown>;
  }
  return Object.fromEntries(new URLSearchParams(text));
}

/** Arrays arrive JSON-encoded in form bodies and as arrays in JSON bodies. */
function jsonArg(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value !== 'string' || value === '') return [];
  const parsed = JSON.parse(value) as unknown;
  return Array.isArray(parsed) ? parsed : [];
}

function buttonsIn(blocks: unknown[]): SlackButton[] {
  return blocks.flatMap((block) => {
    const b = block as { type?: string; elements?: unknown[] };
    if (b.type !== 'actions' || !Array.isArray(b.elements)) return [];
    return b.elements.filter((e) => (e as { type?: string }).type === 'button') as SlackButton[];
  });
}

/** The upload URL takes the file raw or as a multipart form (what the SDK sends). */
async function uploadedBytes(contentType: string, body: Buffer): Promise<Buffer> {
  if (!contentType.startsWith('multipart/form-data')) return body;
  const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  for (const value of form.values()) {
    if (typeof value !== 'string') return Buffer.from(await value.arrayBuffer());
  }
  return Buffer.alloc(0);
}
