import { describe, expect, it } from 'vitest';
import { clickedAction, messageBlocks } from './slack-blocks.js';

const ACTIONS = [
  { id: 'yes K3F9', label: 'Approve' },
  { id: 'no K3F9', label: 'Deny' },
];

describe('slack buttons', () => {
  it('shows the text as a section and one button per action, indexed', () => {
    const [section, actions] = messageBlocks('May I?', ACTIONS) as Array<Record<string, unknown>>;

    expect(section).toEqual({ type: 'section', text: { type: 'mrkdwn', text: 'May I?' } });
    expect(actions!.elements).toEqual([
      expect.objectContaining({ action_id: 'nc-0', value: 'yes K3F9', style: 'primary' }),
      expect.objectContaining({ action_id: 'nc-1', value: 'no K3F9' }),
    ]);
  });

  it.each([
    ['nc-1', 'no K3F9', 'no K3F9'],
    ['nc-1', 'yes K3F9', null],
    ['nc-2', 'no K3F9', null],
    ['nc-01x', 'no K3F9', null],
    ['other', 'yes K3F9', null],
    ['nc-0', undefined, null],
  ])('a click on %j with value %j is %j', (actionId, value, expected) => {
    expect(clickedAction(actionId, value, ACTIONS)?.id ?? null).toBe(expected);
  });
});
