import { describe, expect, it } from 'vitest';
import type { ChannelCapabilities } from './channel.js';
import { fitToChannel } from './fit-to-channel.js';

const all: ChannelCapabilities = { edit: true, actions: true, attachments: true, typing: true };
const plain: ChannelCapabilities = {
  edit: false,
  actions: false,
  attachments: false,
  typing: false,
};
const buttons = [
  { id: 'yes K3F9', label: 'Approve' },
  { id: 'no K3F9', label: 'Deny' },
];
const file = { name: 'notes.txt', mime: 'text/plain', bytes: Buffer.alloc(2048) };

describe('fitToChannel', () => {
  it('passes buttons and files to a channel that shows them, text unchanged', () => {
    expect(fitToChannel(all, { text: 'ok?', actions: buttons, attachments: [file] })).toEqual({
      text: 'ok?',
      actions: buttons,
      attachments: [file],
    });
  });

  it.each([
    {
      what: 'buttons become the replies to type',
      message: { text: 'May I?', actions: buttons },
      text: 'May I?\nTo answer, reply "yes K3F9" (Approve) or "no K3F9" (Deny).',
    },
    {
      what: 'buttons the text already explains add nothing',
      message: { text: 'Reply "yes K3F9" or "no K3F9".', actions: buttons },
      text: 'Reply "yes K3F9" or "no K3F9".',
    },
    {
      what: 'only the buttons the text does not explain are added',
      message: { text: 'Reply "yes K3F9" to allow.', actions: buttons },
      text: 'Reply "yes K3F9" to allow.\nTo answer, reply "no K3F9" (Deny).',
    },
    {
      what: 'a file becomes a line naming it',
      message: { text: 'here', attachments: [file] },
      text: 'here\n[file not shown in this chat: notes.txt (text/plain, 2 KB)]',
    },
    { what: 'plain text stays as it is', message: { text: 'hi' }, text: 'hi' },
  ])('for a plain-text channel: $what', ({ message, text }) => {
    expect(fitToChannel(plain, message)).toEqual({ text });
  });
});
