import type { ConversationMessage } from '../agent/model-provider.js';

/** The default cap on one reply (and on one text block kept in the history), in characters. */
export const DEFAULT_MAX_REPLY_CHARS = 100_000;

/**
 * A reply or history text at most `max` characters: a longer one is cut, with a note saying
 * how long it was, so one flood from a model is neither delivered whole nor resent to the
 * model in every later request.
 */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = `\n\n[nanocell: this text was ${text.length} characters; only the first ${max} were kept]`;
  return text.slice(0, Math.max(0, max - note.length)) + note;
}

/** The history entries of a turn with every text block capped (tool results are capped at the source). */
export function capHistory(messages: ConversationMessage[], max: number): ConversationMessage[] {
  return messages.map((m) => ({
    ...m,
    content: m.content.map((b) => (b.type === 'text' ? { ...b, text: capText(b.text, max) } : b)),
  }));
}
