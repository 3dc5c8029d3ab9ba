import { z } from 'zod';
import { MAX_TOOL_OUTPUT_CHARS } from '../channels/web/dashboard-types-activity.js';

export type ConnectionState = 'connecting' | 'live' | 'offline';

const action = z.object({ id: z.string().max(200), label: z.string().max(200) });
const file = z.object({
  id: z.string().max(100),
  name: z.string().max(300),
  mime: z.string().max(200),
  size: z.number(),
  url: z
    .string()
    .max(500)
    .regex(/^\/api\/chats\//),
});
/** What the host streams (web-channel.ts `emit`); anything else is dropped. */
const liveEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('message'),
    chatId: z.string().max(64),
    id: z.string().max(40),
    text: z.string(),
    actions: z.array(action).max(20).optional(),
    attachments: z.array(file).max(20).optional(),
  }),
  z.object({
    type: z.literal('edit'),
    chatId: z.string().max(64),
    id: z.string().max(40),
    text: z.string(),
  }),
  z.object({ type: z.literal('typing'), chatId: z.string().max(64) }),
  z.object({
    type: z.literal('tool'),
    id: z.string().max(200),
    group: z.string().max(64),
    tool: z.string().max(100),
    input: z.record(z.string(), z.unknown()),
    output: z.string().max(MAX_TOOL_OUTPUT_CHARS * 2),
    outputCut: z.boolean(),
    isError: z.boolean(),
    decision: z.enum(['allow', 'deny', 'ask']).nullable(),
    rule: z.string().max(1000).nullable(),
    durationMs: z.number().nonnegative().nullable(),
    at: z.string().max(40),
  }),
]);
export type LiveEvent = z.infer<typeof liveEvent>;
export type LiveAction = z.infer<typeof action>;
export type LiveFile = z.infer<typeof file>;

export function parseLiveEvent(type: string, data: string): LiveEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  const parsed = liveEvent.safeParse({ ...(value as object), type });
  return parsed.success ? parsed.data : undefined;
}

/**
 * The host's event stream (the session cookie authenticates it). EventSource reconnects by
 * itself; each (re)connection is reported so the page can catch up on what it missed.
 */
export function openLiveEvents(handlers: {
  onEvent: (event: LiveEvent) => void;
  onState: (state: ConnectionState) => void;
}): () => void {
  const source = new EventSource('/api/events');
  handlers.onState('connecting');
  source.onopen = () => handlers.onState('live');
  source.onerror = () =>
    handlers.onState(source.readyState === EventSource.CLOSED ? 'offline' : 'connecting');
  for (const type of ['message', 'edit', 'typing', 'tool']) {
    source.addEventListener(type, (ev) => {
      const event = parseLiveEvent(type, (ev as MessageEvent<string>).data);
      if (event) handlers.onEvent(event);
    });
  }
  return () => source.close();
}
