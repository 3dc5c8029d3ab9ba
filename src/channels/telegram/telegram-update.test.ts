import { describe, expect, it } from 'vitest';
import { parseUpdate, updateIdOf } from './telegram-update.js';

const MB = 1024 * 1024;
const limits = { maxFileBytes: 20 * MB, maxImageBytes: 5 * MB };
const olive = { id: 424242, is_bot: false, first_name: 'Olive', last_name: 'Oyl' };
const chat = { id: 424242, type: 'private' };
const message = (extra: Record<string, unknown>) => ({
  update_id: 1,
  message: { message_id: 7, date: 0, chat, from: olive, ...extra },
});

describe('parseUpdate', () => {
  it('takes a text message: chat and sender ids as strings, the name from first and last', () => {
    expect(parseUpdate(message({ text: 'hello' }), limits)).toEqual({
      kind: 'message',
      chatId: '424242',
      sender: '424242',
      senderName: 'Olive Oyl',
      messageId: 7,
      text: 'hello',
      files: [],
      tooBig: [],
      notes: [],
    });
  });

  it('keeps a group chat negative and takes a caption as the text', () => {
    const update = {
      update_id: 1,
      message: {
        message_id: 8,
        chat: { id: -1001234567890, type: 'supergroup' },
        from: olive,
        caption: 'look',
        document: {
          file_id: 'd1',
          file_size: 10,
          file_name: 'a.pdf',
          mime_type: 'application/pdf',
        },
      },
    };

    expect(parseUpdate(update, limits)).toMatchObject({
      chatId: '-1001234567890',
      text: 'look',
      files: [{ kind: 'document', fileId: 'd1', name: 'a.pdf', mime: 'application/pdf', size: 10 }],
    });
  });

  it('picks the largest photo size that fits the image cap', () => {
    const photo = [
      { file_id: 's', file_size: 10_000 },
      { file_id: 'l', file_size: 4 * MB },
      { file_id: 'xl', file_size: 6 * MB },
    ];

    expect(parseUpdate(message({ photo }), limits)).toMatchObject({
      files: [{ kind: 'image', fileId: 'l', mime: 'image/jpeg' }],
    });
  });

  it('takes a voice note as voice media', () => {
    const voice = { file_id: 'v', file_size: 3000, mime_type: 'audio/ogg', duration: 2 };

    expect(parseUpdate(message({ voice }), limits)).toMatchObject({
      text: '',
      files: [{ kind: 'voice', fileId: 'v', mime: 'audio/ogg' }],
    });
  });

  it('says why a file over the cap is not taken, with its name made plain', () => {
    const document = { file_id: 'big', file_size: 30 * MB, file_name: 'movie\u202e.mkv' };

    expect(parseUpdate(message({ document }), limits)).toMatchObject({
      files: [],
      tooBig: ['[file not taken in: movie?.mkv (30.0 MB): it is over the 20.0 MB limit]'],
    });
  });

  it('names a sticker or a video it does not take in', () => {
    expect(parseUpdate(message({ sticker: { file_id: 's' } }), limits)).toMatchObject({
      text: '',
      notes: ['[sticker not taken in: not supported yet]'],
    });
    expect(parseUpdate(message({ caption: 'look', video: {} }), limits)).toMatchObject({
      text: 'look',
      notes: ['[video not taken in: not supported yet]'],
    });
  });

  it('cuts a text far over Telegram’s own limit', () => {
    const parsed = parseUpdate(message({ text: 'x'.repeat(20_000) }), limits);

    expect(parsed.kind === 'message' && parsed.text.length).toBeLessThan(8100);
  });

  it('takes a button press with its message and data', () => {
    const update = {
      update_id: 2,
      callback_query: {
        id: 'q1',
        from: olive,
        data: 'yes K3F9',
        message: { message_id: 101, chat },
      },
    };

    expect(parseUpdate(update, limits)).toEqual({
      kind: 'click',
      chatId: '424242',
      sender: '424242',
      senderName: 'Olive Oyl',
      queryId: 'q1',
      messageId: 101,
      data: 'yes K3F9',
    });
  });

  it.each([
    ['a bot’s message', message({ text: 'hi', from: { id: 9, is_bot: true } }), /from a bot/],
    ['a message without a sender', message({ text: 'hi', from: undefined }), /without a sender/],
    ['a location', message({ location: { latitude: 1 } }), /nothing this channel takes/],
    [
      'a chat that is not an object',
      message({ text: 'hi', chat: 'nope' }),
      /malformed message: chat/,
    ],
    ['an id that is not a number', message({ text: 'hi', message_id: '7' }), /malformed/],
    ['an edited message', { update_id: 3, edited_message: {} }, /update type edited_message/],
    ['a poll', { update_id: 4, poll: {} }, /update type poll/],
    ['null', null, /not an object/],
  ])('skips %s, saying why', (_, update, reason) => {
    expect(parseUpdate(update, limits)).toEqual({
      kind: 'skip',
      reason: expect.stringMatching(reason),
    });
  });

  it('strips control and formatting characters from a sender name', () => {
    const parsed = parseUpdate(
      message({ text: 'x', from: { id: 5, first_name: 'Ev\u202eil\n' } }),
      limits,
    );

    expect(parsed).toMatchObject({ senderName: 'Evil' });
  });
});

describe('updateIdOf', () => {
  it.each([
    [{ update_id: 5 }, 5],
    [{ update_id: -1 }, null],
    [{ update_id: '5' }, null],
    [null, null],
  ])('%j → %j', (raw, id) => {
    expect(updateIdOf(raw)).toBe(id);
  });
});
