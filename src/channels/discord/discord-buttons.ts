import type { Action } from '../channel.js';

/** Discord allows 5 action rows of 5 buttons on one message. */
export const MAX_BUTTONS = 25;
const PER_ROW = 5;
const MAX_LABEL_CHARS = 80;
const MAX_CUSTOM_ID_CHARS = 100;
const PREFIX = 'nc:';
const BUTTON = 2;
const ACTION_ROW = 1;
const STYLE_PRIMARY = 1;
const STYLE_SECONDARY = 2;

/**
 * A button's custom id: the action id itself (the host's ids are short, e.g. `yes K3F9`),
 * or `nc:<index>` when it would not fit Discord's 100 characters or repeats on the message.
 */
function buttonId(actions: Action[], index: number): string {
  const id = actions[index]!.id;
  const unique = actions.findIndex((a) => a.id === id) === index;
  return id.length > 0 && id.length <= MAX_CUSTOM_ID_CHARS && unique && !id.startsWith(PREFIX)
    ? id
    : `${PREFIX}${index}`;
}

/** Action rows (5 buttons each) for a message's actions. */
export function buttonRows(actions: Action[]): unknown[] {
  const rows: unknown[] = [];
  for (let start = 0; start < actions.length; start += PER_ROW) {
    rows.push({
      type: ACTION_ROW,
      components: actions.slice(start, start + PER_ROW).map((a, i) => ({
        type: BUTTON,
        style: start + i === 0 ? STYLE_PRIMARY : STYLE_SECONDARY,
        label: a.label.slice(0, MAX_LABEL_CHARS) || a.id.slice(0, MAX_LABEL_CHARS),
        custom_id: buttonId(actions, start + i),
      })),
    });
  }
  return rows;
}

/**
 * The action a clicked button stands for, or null when the message never had a button
 * with that custom id (a forged or stale click).
 */
export function decodeButtonId(customId: string, actions: Action[]): Action | null {
  const index = actions.findIndex((_, i) => buttonId(actions, i) === customId);
  return index >= 0 ? actions[index]! : null;
}
