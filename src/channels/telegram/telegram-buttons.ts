import type { Action } from '../channel.js';

/** Buttons on one message (Telegram allows 100; approvals need two or three). */
export const MAX_BUTTONS = 24;
const PER_ROW = 3;
const MAX_LABEL_CHARS = 64;
/** Telegram's limit on a button's callback_data, in bytes. */
const MAX_DATA_BYTES = 64;
const PREFIX = 'nc:';

export interface InlineButton {
  text: string;
  callback_data: string;
}

/**
 * A button's callback_data: the action id itself (the host's ids are short, e.g. `yes K3F9`),
 * or `nc:<index>` into the message's actions when the id would not fit 64 bytes, repeats on
 * the message or could be taken for an index.
 */
function callbackData(actions: Action[], index: number): string {
  const id = actions[index]!.id;
  const unique = actions.findIndex((a) => a.id === id) === index;
  const fits = id.length > 0 && Buffer.byteLength(id) <= MAX_DATA_BYTES;
  return fits && unique && !id.startsWith(PREFIX) ? id : `${PREFIX}${index}`;
}

/** The inline keyboard (rows of three) for a message's actions. */
export function inlineKeyboard(actions: Action[]): InlineButton[][] {
  if (actions.length > MAX_BUTTONS) {
    throw new RangeError(`telegram shows at most ${MAX_BUTTONS} buttons on a message`);
  }
  const rows: InlineButton[][] = [];
  for (let start = 0; start < actions.length; start += PER_ROW) {
    rows.push(
      actions.slice(start, start + PER_ROW).map((a, i) => ({
        text: (a.label || a.id).slice(0, MAX_LABEL_CHARS),
        callback_data: callbackData(actions, start + i),
      })),
    );
  }
  return rows;
}

/**
 * The action a pressed button stands for, or null when the message never had a button with
 * that data (a forged or stale click).
 */
export function decodeCallback(data: string, actions: Action[]): Action | null {
  const index = actions.findIndex((_, i) => callbackData(actions, i) === data);
  return index >= 0 ? actions[index]! : null;
}
