import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  Attachment,
  Channel,
  ChannelCapabilities,
  ChannelHandlers,
  OutboundMessage,
  SentMessage,
} from '../channel.js';
import {
  answerReceipt,
  json,
  MAX_BODY_BYTES,
  parseActionClick,
  parseMessage,
  readBody,
} from './http-io.js';
import { MAX_UPLOAD_BODY_BYTES } from './web-upload.js';
import { DashboardFiles } from './dashboard-files.js';
import type { HostStatusInfo, WebChatInfo, WebIdentity, WebMessage } from './dashboard-types.js';
import type { ToolStepInfo } from './dashboard-types-activity.js';
import { answerOwnerApi, isOwnerApiPath, type OwnerApi } from './owner-api.js';
import { answerGroupsApi, isGroupsApiPath, type OwnerGroupsApi } from './owner-api-groups.js';
import { answerChatsApi, isChatsPath, type OwnerChatsApi } from './owner-api-chats.js';
import { answerActivityApi, isActivityPath, type OwnerActivityApi } from './owner-api-activity.js';
import { answerPolicyApi, isPolicyPath, type OwnerPolicyApi } from './owner-api-policy.js';
import { RecentItems } from './recent-items.js';
import {
  allowedHosts,
  checkHost,
  checkOrigin,
  givenToken,
  mayUseChat,
  onlyYourChat,
  senderOf,
  resolveCredential,
  type WebCredential,
} from './web-access.js';
import { signIn } from './sign-in.js';
import { WebSessions } from './web-sessions.js';

export type { WebMessage } from './dashboard-types.js';

export interface WebChannelOptions {
  /** 0 picks a free port. Always bound to 127.0.0.1. */
  port: number;
  /** The owner's token: every chat, the status, approvals. */
  ownerToken: string;
  /** The member link a token belongs to (one chat only); asked on every request. */
  memberLink?: (token: string) => { id: string; chatId: string } | undefined;
  /** Names besides loopback the server answers to in `Host` (`chat.example.org[:port]`). */
  publicHosts?: readonly string[];
  /** Messages of a chat after `afterId` that the page may show (inbound, and delivered replies). */
  history: (chatId: string, afterId: number) => WebMessage[];
  /** Status document for GET /api/status (owner only). */
  status?: () => HostStatusInfo | Record<string, unknown>;
  /** Bytes of sent files kept for download (oldest dropped first). */
  maxKeptFileBytes?: number;
  /** The built dashboard (dist/dashboard); without it `/` says how to build it. */
  dashboardDir?: string;
  /** What the owner's dashboard reads and changes (groups, tasks, approvals, audit). */
  owner?: OwnerApi;
  /** Group changes, task creation, activity and usage for the owner's dashboard. */
  ownerGroups?: OwnerGroupsApi;
  /** Every bound chat on every channel, read-only (owner only). */
  ownerChats?: OwnerChatsApi;
  /** Tool-call cards, the filtered audit log and egress decisions (owner only). */
  ownerActivity?: OwnerActivityApi;
  /** The owner's policy files: list, read, check, save, explain (owner only). */
  ownerPolicy?: OwnerPolicyApi;
}

const CHAT_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Open event streams per token; more is a client gone wrong (or a member hoarding sockets). */
const MAX_STREAMS_PER_TOKEN = 16;
/** Events queued for a stream that does not read; past this it is closed, not buffered on. */
const MAX_STREAM_BUFFER_BYTES = 1024 * 1024;
const INLINE_IMAGE = /^image\/(png|jpeg|gif|webp)$/;

interface Listener {
  res: http.ServerResponse;
  credential: WebCredential;
  token: string;
}

/**
 * The local web chat and the owner's dashboard: the built page and a small JSON API on
 * 127.0.0.1. Every request must name this server in `Host`; writes must not come from another
 * origin. The owner's token opens every chat; a member link's token opens its one chat, and
 * only its events. A token comes as `Authorization: Bearer`, `?token=`, or the session cookie
 * that opening `/?token=...` in a browser sets (the address is then cleaned of it).
 *   GET  /api/me        → who the credential is; GET /api/chats → the chats it may open
 *   POST /api/chats/:chat/messages {text, senderName?, files?} → 202 stored, 403 refused (reason);
 *        files: [{name, type, data (base64)}], at most 4, the body at most 8 MB
 *   GET  /api/chats/:chat/messages?after=ID              → messages after ID
 *   POST /api/chats/:chat/actions {actionId}             → a click on a button shown there
 *   GET  /api/chats/:chat/files/:id                      → a file sent there
 *   GET  /api/events    → server-sent "message", "edit" and "typing" events (and "tool" cards, owner only)
 *   GET  /api/status    → the host's status (owner only)
 *   /api/approvals, /api/groups, /api/tasks, /api/audit ... → see owner-api.ts (owner only)
 */
export class WebChannel implements Channel {
  readonly name = 'web';
  readonly capabilities: ChannelCapabilities = {
    edit: true,
    actions: true,
    attachments: true,
    typing: true,
  };
  private server: http.Server | undefined;
  private readonly listeners = new Set<Listener>();
  private port = 0;
  private hosts = new Set<string>();
  private sentCount = 0;
  /** `chat\nactionId` of buttons shown, so only those can be clicked. */
  private readonly offered = new RecentItems<true>(2000);
  private readonly files: RecentItems<{ chatId: string; attachment: Attachment }>;
  private readonly sessions: WebSessions;
  private dashboard: DashboardFiles | undefined;

  constructor(private readonly options: WebChannelOptions) {
    this.files = new RecentItems(500, options.maxKeptFileBytes ?? 64 * 1024 * 1024);
    this.sessions = new WebSessions({ ownerToken: options.ownerToken });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  async start(handlers: ChannelHandlers): Promise<void> {
    this.dashboard = DashboardFiles.load(this.options.dashboardDir);
    const server = http.createServer((req, res) => {
      this.handle(req, res, handlers).catch((err: unknown) => {
        if (!res.headersSent) json(res, 500, { error: (err as Error).message });
        else res.end();
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.hosts = allowedHosts(this.port, this.options.publicHosts ?? []);
  }

  async send(chatId: string, message: OutboundMessage): Promise<SentMessage> {
    this.sentCount += 1;
    const id = `w${this.sentCount}`;
    for (const action of message.actions ?? []) this.offered.set(`${chatId}\n${action.id}`, true);
    const files = (message.attachments ?? []).map((attachment, i) => {
      const fileId = `${id}-${i}`;
      this.files.set(fileId, { chatId, attachment }, attachment.bytes.length);
      return {
        id: fileId,
        name: attachment.name,
        mime: attachment.mime,
        size: attachment.bytes.length,
        url: `/api/chats/${chatId}/files/${fileId}`,
      };
    });
    this.emit(chatId, 'message', {
      chatId,
      id,
      text: message.text,
      ...(message.actions?.length ? { actions: message.actions } : {}),
      ...(files.length ? { attachments: files } : {}),
    });
    return { id };
  }

  async edit(chatId: string, sent: SentMessage, text: string): Promise<void> {
    this.emit(chatId, 'edit', { chatId, id: sent.id, text });
  }

  async typing(chatId: string): Promise<void> {
    this.emit(chatId, 'typing', { chatId });
  }

  /** A tool call of a run, as a card: to the owner's streams only (inputs are not a member's to see). */
  toolStep(step: ToolStepInfo): void {
    const frame = `event: tool\ndata: ${JSON.stringify(step)}\n\n`;
    for (const l of this.listeners) {
      if (l.credential.kind !== 'owner') continue;
      if (l.res.writableLength > MAX_STREAM_BUFFER_BYTES) {
        this.listeners.delete(l);
        l.res.destroy();
        continue;
      }
      l.res.write(frame);
    }
  }

  async stop(): Promise<void> {
    for (const l of this.listeners) l.res.end();
    this.listeners.clear();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Events go only to streams whose credential may see the chat; a member's link is checked
   * again, so a revoked link's open stream ends instead of listening on.
   */
  private emit(chatId: string, event: string, data: unknown): void {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const l of this.listeners) {
      if (!mayUseChat(l.credential, chatId)) continue;
      if (l.credential.kind === 'member' && this.options.memberLink?.(l.token)?.chatId !== chatId) {
        this.listeners.delete(l);
        l.res.end();
        continue;
      }
      if (l.res.writableLength > MAX_STREAM_BUFFER_BYTES) {
        this.listeners.delete(l);
        l.res.destroy();
        continue;
      }
      l.res.write(frame);
    }
  }

  private async handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    handlers: ChannelHandlers,
  ): Promise<void> {
    const hostProblem = checkHost(req, this.hosts);
    if (hostProblem) return json(res, 421, { error: hostProblem });
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const credentialOf = (token: string) =>
      resolveCredential(
        token,
        this.options.ownerToken,
        this.options.memberLink ?? (() => undefined),
      );
    const isPage = !url.pathname.startsWith('/api/');
    if (isPage && (req.method === 'GET' || req.method === 'HEAD')) {
      if (url.searchParams.has('token')) return signIn(res, url, credentialOf, this.sessions);
      if (this.dashboard?.serve(url.pathname, res)) return;
      return json(res, 404, { error: 'not found' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const originProblem = checkOrigin(req);
      if (originProblem) return json(res, 403, { error: originProblem });
    }
    const token = givenToken(req, url) || this.sessions.tokenOf(req.headers.cookie);
    const credential = credentialOf(token);
    if (!credential) {
      return json(res, 401, {
        error:
          'missing or wrong token: open the link nanocell printed, or send its token as a Bearer header',
      });
    }
    if (req.method === 'GET' && url.pathname === '/api/me') {
      const me: WebIdentity =
        credential.kind === 'owner'
          ? { kind: 'owner' }
          : { kind: 'member', chatId: credential.chatId };
      return json(res, 200, me);
    }
    if (req.method === 'GET' && url.pathname === '/api/chats') {
      const chats: WebChatInfo[] =
        credential.kind === 'owner'
          ? (this.options.owner?.chats() ?? [{ chatId: 'owner', group: null, isAdmin: true }])
          : [{ chatId: credential.chatId, group: null, isAdmin: false }];
      return json(res, 200, { chats });
    }
    if (req.method === 'GET' && url.pathname === '/api/status') {
      if (credential.kind !== 'owner') return json(res, 403, { error: onlyYourChat(credential) });
      return json(res, 200, this.options.status?.() ?? {});
    }
    if (isGroupsApiPath(url.pathname, req.method ?? 'GET')) {
      if (credential.kind !== 'owner' || !this.options.ownerGroups) {
        return json(res, 403, { error: onlyYourChat(credential) });
      }
      return answerGroupsApi(req, res, url, this.options.ownerGroups);
    }
    if (isChatsPath(url.pathname)) {
      if (credential.kind !== 'owner' || !this.options.ownerChats) {
        return json(res, 403, { error: onlyYourChat(credential) });
      }
      return answerChatsApi(req, res, url, this.options.ownerChats);
    }
    if (isPolicyPath(url.pathname)) {
      if (credential.kind !== 'owner' || !this.options.ownerPolicy) {
        return json(res, 403, { error: onlyYourChat(credential) });
      }
      return answerPolicyApi(req, res, url, this.options.ownerPolicy);
    }
    if (isActivityPath(url.pathname)) {
      if (credential.kind !== 'owner' || !this.options.ownerActivity) {
        return json(res, 403, { error: onlyYourChat(credential) });
      }
      return answerActivityApi(req, res, url, this.options.ownerActivity);
    }
    if (isOwnerApiPath(url.pathname)) {
      if (credential.kind !== 'owner' || !this.options.owner) {
        return json(res, 403, { error: onlyYourChat(credential) });
      }
      return answerOwnerApi(req, res, url, this.options.owner);
    }
    if (req.method === 'GET' && url.pathname === '/api/events') {
      const open = [...this.listeners].filter((l) => l.token === token).length;
      if (open >= MAX_STREAMS_PER_TOKEN) {
        return json(res, 429, {
          error: `${open} event streams are open with this token already; close one first`,
        });
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(': connected\n\n');
      const listener = { res, credential, token };
      this.listeners.add(listener);
      req.on('close', () => this.listeners.delete(listener));
      return;
    }
    const match = /^\/api\/chats\/([^/]+)\/(messages|actions|files\/([A-Za-z0-9-]{1,40}))$/.exec(
      url.pathname,
    );
    if (!match) return json(res, 404, { error: 'not found' });
    const chatId = decodeChatId(match[1]!);
    if (chatId === null) {
      return json(res, 400, { error: 'chat id: use 1-64 letters, digits, - or _' });
    }
    if (!mayUseChat(credential, chatId)) return json(res, 403, { error: onlyYourChat(credential) });
    const what = match[2]!;
    if (what === 'messages' && req.method === 'GET') {
      const after = Number(url.searchParams.get('after') ?? '0');
      if (!Number.isInteger(after) || after < 0) {
        return json(res, 400, { error: 'after: a message id (a whole number >= 0)' });
      }
      return json(res, 200, { messages: this.options.history(chatId, after) });
    }
    if (match[3] !== undefined) {
      if (req.method !== 'GET') return json(res, 405, { error: 'use GET' });
      return this.serveFile(res, chatId, match[3]);
    }
    if (req.method !== 'POST') {
      return json(res, 405, { error: what === 'messages' ? 'use GET or POST' : 'use POST' });
    }
    const body = await readBody(req, what === 'messages' ? MAX_UPLOAD_BODY_BYTES : undefined);
    if (!body.ok) return json(res, body.status, { error: body.error });
    const sender = senderOf(credential);
    if (what === 'messages') {
      const parsed = parseMessage(body.text, sender.defaultName);
      if (!parsed.ok) return json(res, 400, { error: parsed.error });
      if (parsed.media.length === 0 && Buffer.byteLength(body.text) > MAX_BODY_BYTES) {
        // Only files may make a body bigger than a text message's.
        return json(res, 413, { error: `message body over ${MAX_BODY_BYTES} bytes` });
      }
      const receipt = await handlers.onMessage({
        channel: this.name,
        chatId,
        sender: sender.id(parsed.senderName),
        senderName: parsed.senderName,
        text: parsed.text,
        ...(parsed.media.length ? { media: parsed.media } : {}),
      });
      return answerReceipt(res, receipt);
    }
    const click = parseActionClick(body.text, sender.defaultName);
    if (!click.ok) return json(res, 400, { error: click.error });
    if (!this.offered.get(`${chatId}\n${click.actionId}`)) {
      return json(res, 404, {
        error: 'no such button in this chat (it may have expired); reply with text instead',
      });
    }
    const receipt = await handlers.onAction({
      channel: this.name,
      chatId,
      sender: sender.id(click.senderName),
      senderName: click.senderName,
      actionId: click.actionId,
    });
    return answerReceipt(res, receipt);
  }

  private serveFile(res: http.ServerResponse, chatId: string, fileId: string): void {
    const kept = this.files.get(fileId);
    if (!kept || kept.chatId !== chatId) {
      return json(res, 404, { error: 'no such file in this chat (it may have expired)' });
    }
    const { name, mime, bytes } = kept.attachment;
    const inline = INLINE_IMAGE.test(mime);
    // A sent file never runs as a page of ours: sandboxed, not sniffed, downloaded unless an image.
    res.writeHead(200, {
      'content-type': inline ? mime : 'application/octet-stream',
      'content-disposition': `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(name)}`,
      'content-length': bytes.length,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "sandbox; default-src 'none'",
      'cache-control': 'no-store',
    });
    res.end(bytes);
  }
}

function decodeChatId(raw: string): string | null {
  let chatId = '';
  try {
    chatId = decodeURIComponent(raw);
  } catch {
    // Broken percent-encoding: a bad chat id.
  }
  return CHAT_ID.test(chatId) ? chatId : null;
}
