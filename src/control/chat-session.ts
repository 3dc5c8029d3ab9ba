import type { SayResult } from './protocol.js';

export type { SayResult } from './protocol.js';

/** Shows a message the assistant sent to a chat this session sees. */
export type ChatSink = (chatId: string, text: string) => void;

/** Shows a reply as it is written: each piece of text, before the whole reply reaches the sink. */
export type ChatStream = (chatId: string, text: string) => void;

/** A terminal chat opened on a group, in this process or in the host over the socket. */
export interface ChatSession {
  readonly groupName: string;
  readonly runtimeName: string;
  readonly assistantName: string;
  /** Resolves with why, when the other side ended the session (the host stopped). */
  readonly ended: Promise<string>;
  /** One message from the owner; resolves once it is answered (or refused, or only stored). */
  say(text: string): Promise<SayResult>;
  close(): void;
}

export type OpenResult = { ok: true; session: ChatSession } | { ok: false; error: string };

/**
 * Where `chat` and `ask` talk: the process that owns the data dir, whichever it is. Opening
 * an unknown group is refused with the groups there are. Must not throw for that: failures
 * are results; a reject means the surface itself is gone (the host stopped).
 */
export interface ChatSurface {
  open(groupName: string | undefined, sink: ChatSink, stream?: ChatStream): Promise<OpenResult>;
}
