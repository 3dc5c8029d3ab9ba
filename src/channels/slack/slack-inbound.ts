import { z } from 'zod';
import { unescapeMrkdwn } from './slack-mrkdwn.js';

/** Slack caps a message at 40,000 characters; more is a malformed event, cut here. */
const MAX_INBOUND_CHARS = 8000;
const MAX_FILES = 10;
const MAX_NAME_CHARS = 100;
/** A conversation id: public channel (C), direct message (D), private channel or group (G). */
export const SLACK_CHAT_ID = /^[CDG][A-Z0-9]{8,20}$/;
const USER_ID = /^[UW][A-Z0-9]{2,20}$/;
const TS = /^\d{1,12}\.\d{1,9}$/;

const SharedFile = z.object({
  id: z.string().max(40),
  name: z.string().max(1000).optional(),
  mimetype: z.string().max(200).optional(),
  size: z.number().int().nonnegative().optional(),
  url_private: z.string().max(4000).optional(),
  url_private_download: z.string().max(4000).optional(),
});
export type SharedFile = z.infer<typeof SharedFile>;

const MessageEvent = z.object({
  type: z.literal('message'),
  subtype: z.string().max(64).optional(),
  channel: z.string().regex(SLACK_CHAT_ID),
  user: z.string().regex(USER_ID).optional(),
  bot_id: z.string().max(40).optional(),
  text: z.string().max(200_000).optional(),
  ts: z.string().regex(TS),
  files: z.array(SharedFile).max(100).optional(),
  user_profile: z
    .object({
      display_name: z.string().max(500).optional(),
      real_name: z.string().max(500).optional(),
    })
    .optional(),
});

const EventsApiPayload = z.object({
  type: z.literal('event_callback'),
  event: z.object({ type: z.string().max(64) }).passthrough(),
});

/** Subtypes that are a person writing; every other (edits, joins, bots, ...) is not a turn. */
const PERSON_SUBTYPES = new Set(['file_share', 'thread_broadcast']);

export interface SlackInbound {
  chatId: string;
  ts: string;
  sender: string;
  senderName: string;
  text: string;
  files: SharedFile[];
}

export type ReadEvent =
  | { kind: 'message'; message: SlackInbound }
  | { kind: 'skip'; why: string }
  | { kind: 'malformed'; why: string };

/**
 * An `events_api` payload as a turn in a chat, or why it is not one: a bot's message (ours
 * included: no reply loops), an edit or deletion, a join, an event we did not ask for.
 */
export function readEvent(payload: unknown, botUserId: string): ReadEvent {
  const outer = EventsApiPayload.safeParse(payload);
  if (!outer.success) return { kind: 'malformed', why: 'not an event_callback' };
  if (outer.data.event.type !== 'message') {
    return { kind: 'skip', why: `event ${outer.data.event.type.slice(0, 64)}` };
  }
  const parsed = MessageEvent.safeParse(outer.data.event);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') || 'event';
    return { kind: 'malformed', why: `message event: bad ${where}` };
  }
  const e = parsed.data;
  if (e.subtype !== undefined && !PERSON_SUBTYPES.has(e.subtype)) {
    return { kind: 'skip', why: `message subtype ${e.subtype}` };
  }
  if (e.bot_id !== undefined || e.user === undefined || e.user === botUserId) {
    return { kind: 'skip', why: 'a bot wrote it' };
  }
  const raw = unescapeMrkdwn(e.text ?? '');
  const text =
    raw.length > MAX_INBOUND_CHARS
      ? `${raw.slice(0, MAX_INBOUND_CHARS)}\n[message cut at ${MAX_INBOUND_CHARS} characters]`
      : raw;
  const name = e.user_profile?.display_name || e.user_profile?.real_name || e.user;
  return {
    kind: 'message',
    message: {
      chatId: e.channel,
      ts: e.ts,
      sender: e.user,
      senderName: name.slice(0, MAX_NAME_CHARS),
      text,
      files: (e.files ?? []).slice(0, MAX_FILES),
    },
  };
}

const BlockActions = z.object({
  type: z.literal('block_actions'),
  user: z.object({
    id: z.string().regex(USER_ID),
    username: z.string().max(200).optional(),
    name: z.string().max(200).optional(),
  }),
  channel: z.object({ id: z.string().regex(SLACK_CHAT_ID) }).optional(),
  container: z
    .object({
      channel_id: z.string().regex(SLACK_CHAT_ID).optional(),
      message_ts: z.string().regex(TS).optional(),
    })
    .optional(),
  message: z.object({ ts: z.string().regex(TS) }).optional(),
  actions: z
    .array(
      z.object({
        action_id: z.string().max(255),
        value: z.string().max(2000).optional(),
      }),
    )
    .min(1)
    .max(5),
});

export interface SlackClick {
  chatId: string;
  messageTs: string;
  sender: string;
  senderName: string;
  actionId: string;
  value: string | undefined;
}

/** A `block_actions` click on a message in a conversation, or null for anything else. */
export function readClick(payload: unknown): SlackClick | null {
  const parsed = BlockActions.safeParse(payload);
  if (!parsed.success) return null;
  const p = parsed.data;
  const chatId = p.channel?.id ?? p.container?.channel_id;
  const messageTs = p.message?.ts ?? p.container?.message_ts;
  if (!chatId || !messageTs) return null;
  const action = p.actions[0]!;
  return {
    chatId,
    messageTs,
    sender: p.user.id,
    senderName: (p.user.name || p.user.username || p.user.id).slice(0, MAX_NAME_CHARS),
    actionId: action.action_id,
    value: action.value,
  };
}
