import type { Action } from '../channel.js';

/** Slack allows 25 elements in an actions block. */
export const MAX_BUTTONS = 25;
/** A section block's text limit; message parts are cut to it so any part can carry buttons. */
export const SECTION_MAX_CHARS = 3000;
const MAX_LABEL_CHARS = 75;
const MAX_VALUE_CHARS = 2000;
const ACTION_ID = /^nc-(\d{1,2})$/;

/**
 * The blocks of a message with buttons: its text as a section, then one actions block. A
 * button's `action_id` is `nc-<index>` into the actions shown on that message and its value
 * the action's id, so a click is matched against what this very message showed.
 */
export function messageBlocks(mrkdwn: string, actions: Action[]): unknown[] {
  return [
    { type: 'section', text: { type: 'mrkdwn', text: mrkdwn.slice(0, SECTION_MAX_CHARS) || ' ' } },
    {
      type: 'actions',
      block_id: 'nc-actions',
      elements: actions.map((a, i) => ({
        type: 'button',
        action_id: `nc-${i}`,
        value: a.id.slice(0, MAX_VALUE_CHARS),
        text: {
          type: 'plain_text',
          text: (a.label || a.id).slice(0, MAX_LABEL_CHARS),
          emoji: true,
        },
        ...(i === 0 ? { style: 'primary' } : {}),
      })),
    },
  ];
}

/**
 * The action a click stands for, or null when the message never had that button (a forged
 * or stale click): the index must be one shown and the value must be that action's id.
 */
export function clickedAction(
  actionId: string,
  value: string | undefined,
  shown: Action[],
): Action | null {
  const index = ACTION_ID.exec(actionId)?.[1];
  const action = index === undefined ? undefined : shown[Number(index)];
  if (!action || action.id.slice(0, MAX_VALUE_CHARS) !== value) return null;
  return action;
}
