import { describe, expect, it } from 'vitest';
import { decodeCallback, inlineKeyboard } from './telegram-buttons.js';

const APPROVAL = [
  { id: 'yes K3F9', label: 'Approve' },
  { id: 'no K3F9', label: 'Deny' },
  { id: 'always K3F9', label: 'Always' },
  { id: 'never K3F9', label: 'Never' },
];

describe('inlineKeyboard', () => {
  it('lays buttons out three a row, the action id as callback data', () => {
    expect(inlineKeyboard(APPROVAL)).toEqual([
      [
        { text: 'Approve', callback_data: 'yes K3F9' },
        { text: 'Deny', callback_data: 'no K3F9' },
        { text: 'Always', callback_data: 'always K3F9' },
      ],
      [{ text: 'Never', callback_data: 'never K3F9' }],
    ]);
  });

  it('uses an index for an id over 64 bytes, a repeated id or one that looks like an index', () => {
    const actions = [
      { id: 'é'.repeat(40), label: 'Long' },
      { id: 'same', label: 'A' },
      { id: 'same', label: 'B' },
      { id: 'nc:0', label: 'Sly' },
    ];

    const data = inlineKeyboard(actions)
      .flat()
      .map((b) => b.callback_data);

    expect(data).toEqual(['nc:0', 'same', 'nc:2', 'nc:3']);
    expect(data.map((d) => decodeCallback(d, actions))).toEqual(actions);
  });

  it('refuses more buttons than a message can carry', () => {
    const many = Array.from({ length: 25 }, (_, i) => ({ id: `a${i}`, label: `A${i}` }));

    expect(() => inlineKeyboard(many)).toThrow(/at most 24 buttons/);
  });
});

describe('decodeCallback', () => {
  it.each(['yes FORGED', 'nc:9', 'nc:-1', '', 'nc:'])('finds nothing for %j', (data) => {
    expect(decodeCallback(data, APPROVAL)).toBeNull();
  });
});
