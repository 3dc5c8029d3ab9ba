import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** What the bot did on the platform, as the fake saw it on the wire. */
export type DiscordEvent =
  | {
      kind: 'message';
      channelId: string;
      id: string;
      content: string;
      components: Array<{ components: Array<{ label: string; custom_id: string }> }>;
      files: Array<{ name: string; mime: string; bytes: Buffer }>;
      replyTo: string | null;
      allowedMentions: unknown;
    }
  | { kind: 'edit'; channelId: string; id: string; content: string }
  | { kind: 'typing'; channelId: string }
  | { kind: 'reaction'; channelId: string; messageId: string; emoji: string }
  | { kind: 'callback'; interactionId: string; type: number; content: string | null }
  | { kind: 'followup'; interactionId: string; content: string; flags: number };

export interface DiscordUser {
  id: string;
  username: string;
  bot?: boolean;
}

const MAX_BODY_BYTES = 30 * 1024 * 1024;

/**
 * A Discord peer on 127.0.0.1 speaking the real wire protocol: the REST API under
 * `/api/v10` (Bot-token auth; JSON and multipart bodies) and a Gateway WebSocket (HELLO,
 * IDENTIFY, heartbeat ACK, READY, GUILD_CREATE, MESSAGE_CREATE, INTERACTION_CREATE). One
 * server with one text channel; `userSays`/`click` act as a person in it.
 */
export class FakeDiscord {
  readonly guildId = '1100000000000000001';
  readonly textChannelId = '1100000000000000002';
  readonly botUserId = '1100000000000000003';
  readonly applicationId = '1100000000000000004';
  /** The owner's direct-message channel with the bot (not in any server). */
  readonly dmChannelId = '1100000000000000006';
  readonly owner: DiscordUser = { id: '1100000000000000005', username: 'owner' };
  /** When set, every REST call answers this status (a platform that is down or refusing). */
  failWith: number | null = null;
  /** When set, the next this-many REST calls answer 429 (rate limited, retry after 50 ms). */
  rateLimitNext = 0;
  private nextSnowflake = 1200000000000000000n;
  private readonly events: DiscordEvent[] = [];
  private readonly waiters: Array<{
    match: (e: DiscordEvent) => boolean;
    resolve: (e: DiscordEvent) => void;
  }> = [];
  private readonly sockets = new Set<WebSocket>();
  private readonly closeWaiters: Array<() => void> = [];
  private readonly sessionWaiters: Array<(how: 'identify' | 'resume') => void> = [];
  private seq = 0;
  private identified = false;
  private readonly wss = new WebSocketServer({ noServer: true });
  /** Attachment bytes by id, served under /attachments/ID/NAME. */
  private readonly files = new Map<string, Buffer>();
  /** How many attachment downloads were asked for. */
  downloads = 0;

  private constructor(
    private readonly token: string,
    private readonly server: http.Server,
  ) {}

  static async start(token: string): Promise<FakeDiscord> {
    const server = http.createServer();
    const fake = new FakeDiscord(token, server);
    server.on('request', (req, res) => void fake.onRequest(req, res));
    server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/gateway')) return void socket.destroy();
      fake.wss.handleUpgrade(req, socket, head, (ws) => fake.onSocket(ws));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  private get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The REST base the bot is given (discord.js adds `/v10`). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  get gatewaySockets(): number {
    return this.sockets.size;
  }

  /** Resolves once no gateway socket is open. */
  async gatewayClosed(): Promise<void> {
    if (this.sockets.size === 0) return;
    await new Promise<void>((resolve) => this.closeWaiters.push(resolve));
  }

  /** The next event matching `match` (earlier ones that do not match stay queued). */
  async next<K extends DiscordEvent['kind']>(
    kind: K,
    match: (e: Extract<DiscordEvent, { kind: K }>) => boolean = () => true,
  ): Promise<Extract<DiscordEvent, { kind: K }>> {
    const test = (e: DiscordEvent) =>
      e.kind === kind && match(e as Extract<DiscordEvent, { kind: K }>);
    const index = this.events.findIndex(test);
    if (index >= 0) return this.events.splice(index, 1)[0] as Extract<DiscordEvent, { kind: K }>;
    return new Promise((resolve) =>
      this.waiters.push({ match: test, resolve: resolve as (e: DiscordEvent) => void }),
    );
  }

  /** The next event of any kind that `match` accepts. */
  async nextWhere(match: (e: DiscordEvent) => boolean): Promise<DiscordEvent> {
    const index = this.events.findIndex(match);
    if (index >= 0) return this.events.splice(index, 1)[0]!;
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /**
   * Resolves once a chat shows `text` (any chat, or `channelId`): sent as it is, or a streamed
   * preview edited into it. Messages and edits before it are consumed.
   */
  async shows(
    text: string,
    channelId?: string,
  ): Promise<Extract<DiscordEvent, { kind: 'message' | 'edit' }>> {
    for (;;) {
      const seen = await this.nextWhere(
        (e) =>
          (e.kind === 'message' || e.kind === 'edit') &&
          (channelId === undefined || e.channelId === channelId),
      );
      if ((seen.kind === 'message' || seen.kind === 'edit') && seen.content === text) return seen;
    }
  }

  /** A person writes in a channel; returns the message id. */
  userSays(
    text: string,
    user = this.owner,
    channelId = this.textChannelId,
    files: Array<{ name: string; size: number; bytes?: Buffer; contentType?: string }> = [],
  ): string {
    const id = this.snowflake();
    const inServer = channelId === this.textChannelId;
    this.dispatch('MESSAGE_CREATE', {
      id,
      channel_id: channelId,
      // Discord names the channel's type on a message (1 = DM), so a DM needs no lookup.
      channel_type: inServer ? 0 : 1,
      ...(inServer ? { guild_id: this.guildId } : {}),
      author: this.userObject(user),
      ...(inServer
        ? { member: { roles: [], joined_at: new Date(0).toISOString(), deaf: false, mute: false } }
        : {}),
      content: text,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: files.map((f) => {
        const fileId = this.snowflake();
        // Served by this fake (as Discord's CDN would) when the test gave the bytes.
        if (f.bytes) this.files.set(fileId, f.bytes);
        const url = f.bytes
          ? `http://127.0.0.1:${this.port}/attachments/${fileId}/${encodeURIComponent(f.name)}`
          : `https://cdn.example/${f.name}`;
        return {
          id: fileId,
          filename: f.name,
          size: f.size,
          url,
          proxy_url: url,
          ...(f.contentType ? { content_type: f.contentType } : {}),
        };
      }),
      embeds: [],
      pinned: false,
      type: 0,
      flags: 0,
      components: [],
    });
    return id;
  }

  /**
   * A person clicks a button with `customId` on message `messageId` (in the server's text
   * channel, or in a DM channel); returns the interaction id.
   */
  click(
    messageId: string,
    customId: string,
    user = this.owner,
    channelId = this.textChannelId,
  ): string {
    const id = this.snowflake();
    const inServer = channelId === this.textChannelId;
    this.dispatch('INTERACTION_CREATE', {
      id,
      application_id: this.applicationId,
      type: 3,
      token: `interaction-token-${id}`,
      version: 1,
      channel_id: channelId,
      ...(inServer
        ? {
            guild_id: this.guildId,
            channel: { id: channelId, type: 0, guild_id: this.guildId, name: 'general' },
            member: {
              user: this.userObject(user),
              roles: [],
              joined_at: new Date(0).toISOString(),
              deaf: false,
              mute: false,
              permissions: '0',
              flags: 0,
            },
          }
        : { channel: { id: channelId, type: 1 }, user: this.userObject(user) }),
      message: {
        id: messageId,
        channel_id: channelId,
        author: this.botObject(),
        content: '',
        timestamp: new Date().toISOString(),
        edited_timestamp: null,
        tts: false,
        mention_everyone: false,
        mentions: [],
        mention_roles: [],
        attachments: [],
        embeds: [],
        pinned: false,
        type: 0,
        flags: 0,
        components: [],
      },
      data: { custom_id: customId, component_type: 2 },
      app_permissions: '0',
      locale: 'en-US',
      ...(inServer ? { guild_locale: 'en-US' } : {}),
      entitlements: [],
      authorizing_integration_owners: {},
      context: inServer ? 0 : 1,
    });
    return id;
  }

  /** Cuts every gateway connection as a network failure would (no close frame). */
  dropGateway(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  /** Resolves once a bot has identified (now or earlier). */
  async connected(): Promise<void> {
    if (this.identified) return;
    await this.nextSession();
  }

  /** Resolves at the next session a bot opens: a fresh IDENTIFY or a RESUME. */
  async nextSession(): Promise<'identify' | 'resume'> {
    return new Promise((resolve) => this.sessionWaiters.push(resolve));
  }

  /** Sends a raw dispatch to every connected bot (for malformed or unknown events). */
  dispatch(t: string, d: unknown): void {
    const frame = JSON.stringify({ op: 0, t, s: ++this.seq, d });
    for (const ws of this.sockets) ws.send(frame);
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private snowflake(): string {
    return String(this.nextSnowflake++);
  }

  private push(event: DiscordEvent): void {
    const index = this.waiters.findIndex((w) => w.match(event));
    if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(event);
    else this.events.push(event);
  }

  private userObject(user: DiscordUser) {
    return {
      id: user.id,
      username: user.username,
      discriminator: '0',
      global_name: null,
      avatar: null,
      ...(user.bot ? { bot: true } : {}),
    };
  }

  private botObject() {
    return { ...this.userObject({ id: this.botUserId, username: 'nanocell' }), bot: true };
  }

  private onSocket(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => {
      this.sockets.delete(ws);
      if (this.sockets.size === 0) for (const done of this.closeWaiters.splice(0)) done();
    });
    ws.on('message', (raw) => this.onFrame(ws, String(raw)));
    ws.send(JSON.stringify({ op: 10, s: null, t: null, d: { heartbeat_interval: 45_000 } }));
  }

  private onFrame(ws: WebSocket, raw: string): void {
    const frame = JSON.parse(raw) as {
      op: number;
      d: { token?: string; session_id?: string };
    };
    if (frame.op === 1) {
      ws.send(JSON.stringify({ op: 11, s: null, t: null, d: null }));
    } else if (frame.op === 2) {
      if (frame.d.token !== this.token) return void ws.close(4004, 'Authentication failed.');
      this.sendTo(ws, 'READY', {
        v: 10,
        user: this.botObject(),
        guilds: [{ id: this.guildId, unavailable: true }],
        session_id: 'fake-session',
        resume_gateway_url: `ws://127.0.0.1:${this.port}/gateway`,
        application: { id: this.applicationId, flags: 0 },
        shard: [0, 1],
      });
      this.sendTo(ws, 'GUILD_CREATE', this.guildObject());
      this.identified = true;
      for (const done of this.sessionWaiters.splice(0)) done('identify');
    } else if (frame.op === 6) {
      if (frame.d.token !== this.token || frame.d.session_id !== 'fake-session') {
        return void ws.close(4004, 'Authentication failed.');
      }
      this.sendTo(ws, 'RESUMED', null);
      for (const done of this.sessionWaiters.splice(0)) done('resume');
    }
  }

  private sendTo(ws: WebSocket, t: string, d: unknown): void {
    ws.send(JSON.stringify({ op: 0, t, s: ++this.seq, d }));
  }

  private guildObject() {
    return {
      id: this.guildId,
      name: 'Family',
      owner_id: this.owner.id,
      unavailable: false,
      member_count: 2,
      large: false,
      joined_at: new Date(0).toISOString(),
      features: [],
      emojis: [],
      stickers: [],
      roles: [
        {
          id: this.guildId,
          name: '@everyone',
          permissions: '0',
          position: 0,
          color: 0,
          hoist: false,
          managed: false,
          mentionable: false,
        },
      ],
      channels: [
        {
          id: this.textChannelId,
          type: 0,
          name: 'general',
          guild_id: this.guildId,
          position: 0,
          permission_overwrites: [],
        },
      ],
      members: [],
      presences: [],
      voice_states: [],
      threads: [],
      stage_instances: [],
      guild_scheduled_events: [],
    };
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = url.pathname.replace(/^\/api\/v10/, '');
    const reply = (status: number, body?: unknown) => {
      if (body === undefined) return void res.writeHead(status).end();
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const body = await readBody(req);
    const file = /^\/attachments\/(\d+)\//.exec(url.pathname);
    if (file && req.method === 'GET') {
      this.downloads++;
      const bytes = this.files.get(file[1]!);
      if (!bytes) return reply(404, { message: 'Unknown attachment' });
      return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes);
    }
    if (this.rateLimitNext > 0) {
      this.rateLimitNext--;
      res.writeHead(429, {
        'content-type': 'application/json',
        'retry-after': '1',
        'x-ratelimit-scope': 'user',
      });
      return void res.end(
        JSON.stringify({
          message: 'You are being rate limited.',
          retry_after: 0.05,
          global: false,
        }),
      );
    }
    if (this.failWith !== null) {
      return reply(this.failWith, { message: `fake failure ${this.failWith}`, code: 0 });
    }
    const interaction = /^\/interactions\/(\d+)\/[^/]+\/callback$/.exec(route);
    if (interaction && req.method === 'POST') {
      const data = JSON.parse(body.toString('utf8')) as {
        type: number;
        data?: { content?: string };
      };
      this.push({
        kind: 'callback',
        interactionId: interaction[1]!,
        type: data.type,
        content: data.data?.content ?? null,
      });
      return reply(204);
    }
    const followup = /^\/webhooks\/(\d+)\/interaction-token-(\d+)$/.exec(route);
    if (followup && req.method === 'POST') {
      const data = JSON.parse(body.toString('utf8')) as { content?: string; flags?: number };
      const id = this.snowflake();
      this.push({
        kind: 'followup',
        interactionId: followup[2]!,
        content: data.content ?? '',
        flags: data.flags ?? 0,
      });
      return reply(200, {
        id,
        channel_id: this.textChannelId,
        content: data.content ?? '',
        author: this.botObject(),
        type: 0,
        flags: data.flags ?? 0,
        timestamp: new Date().toISOString(),
        edited_timestamp: null,
        tts: false,
        mention_everyone: false,
        mentions: [],
        mention_roles: [],
        attachments: [],
        embeds: [],
        pinned: false,
        components: [],
      });
    }
    if (req.headers.authorization !== `Bot ${this.token}`) {
      return reply(401, { message: '401: Unauthorized', code: 0 });
    }
    if (route === '/gateway/bot' && req.method === 'GET') {
      return reply(200, {
        url: `ws://127.0.0.1:${this.port}/gateway`,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 },
      });
    }
    if (route === '/users/@me' && req.method === 'GET') return reply(200, this.botObject());
    let m = /^\/channels\/(\d+)\/messages$/.exec(route);
    if (m && req.method === 'POST') {
      const { json, files } = await parseMessageBody(req.headers['content-type'] ?? '', body);
      const id = this.snowflake();
      const reference = json.message_reference as { message_id?: string } | undefined;
      this.push({
        kind: 'message',
        channelId: m[1]!,
        id,
        content: String(json.content ?? ''),
        components: (json.components ?? []) as Extract<
          DiscordEvent,
          { kind: 'message' }
        >['components'],
        files,
        replyTo: reference?.message_id ?? null,
        allowedMentions: json.allowed_mentions,
      });
      return reply(200, {
        id,
        channel_id: m[1],
        content: json.content ?? '',
        author: this.botObject(),
        type: 0,
        timestamp: new Date().toISOString(),
      });
    }
    m = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(route);
    if (m && req.method === 'PATCH') {
      const json = JSON.parse(body.toString('utf8')) as { content?: string };
      this.push({ kind: 'edit', channelId: m[1]!, id: m[2]!, content: json.content ?? '' });
      return reply(200, { id: m[2], channel_id: m[1], content: json.content ?? '' });
    }
    m = /^\/channels\/(\d+)\/typing$/.exec(route);
    if (m && req.method === 'POST') {
      this.push({ kind: 'typing', channelId: m[1]! });
      return reply(204);
    }
    m = /^\/channels\/(\d+)\/messages\/(\d+)\/reactions\/([^/]+)\/@me$/.exec(route);
    if (m && req.method === 'PUT') {
      this.push({
        kind: 'reaction',
        channelId: m[1]!,
        messageId: m[2]!,
        emoji: decodeURIComponent(m[3]!),
      });
      return reply(204);
    }
    reply(404, { message: '404: Not Found', code: 0 });
  }
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('fake discord: request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A message body: JSON, or multipart with `payload_json` and `files[n]` parts. */
async function parseMessageBody(
  contentType: string,
  body: Buffer,
): Promise<{
  json: Record<string, unknown>;
  files: Array<{ name: string; mime: string; bytes: Buffer }>;
}> {
  if (!contentType.startsWith('multipart/form-data')) {
    return { json: JSON.parse(body.toString('utf8')) as Record<string, unknown>, files: [] };
  }
  const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  const json = JSON.parse(String(form.get('payload_json') ?? '{}')) as Record<string, unknown>;
  const files: Array<{ name: string; mime: string; bytes: Buffer }> = [];
  for (const [key, value] of form.entries()) {
    if (!key.startsWith('files[') || typeof value === 'string') continue;
    files.push({
      name: value.name,
      mime: value.type,
      bytes: Buffer.from(await value.arrayBuffer()),
    });
  }
  return { json, files };
}
