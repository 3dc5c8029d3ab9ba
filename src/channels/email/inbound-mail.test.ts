import { describe, expect, it } from 'vitest';
import { MAX_TEXT_CHARS, readMail } from './inbound-mail.js';

const raw = (headers: string, body = 'hello') =>
  Buffer.from(`${headers.trim().split('\n').join('\r\n')}\r\n\r\n${body}\r\n`);
const BASE =
  'From: Ann Example <Ann@Example.TEST>\nTo: bot@example.test\nMessage-ID: <m1@example.test>';

describe('readMail', () => {
  it('takes the lower-cased From address, the name, the id and a fresh subject with the body', async () => {
    const reading = await readMail(raw(`${BASE}\nSubject: Dinner\nReferences: <a@x> <b@x>`), 1024);

    expect(reading).toMatchObject({
      ok: true,
      mail: {
        from: 'ann@example.test',
        fromName: 'Ann Example',
        subject: 'Dinner',
        messageId: '<m1@example.test>',
        references: ['<a@x>', '<b@x>'],
        automatic: false,
        text: 'Dinner\n\nhello',
        media: [],
      },
    });
  });

  it('leaves out a reply subject, so a typed approval stays exactly "yes CODE"', async () => {
    const reading = await readMail(
      raw(`${BASE}\nSubject: Re: May I run bash?`, 'yes K3F9\r\n\r\nOn Mon, Bot wrote:\r\n> May I'),
      1024,
    );

    expect(reading.ok && reading.mail.text).toBe('yes K3F9');
  });

  it.each([
    ['Auto-Submitted: auto-replied'],
    ['Precedence: bulk'],
    ['List-Id: <news.example.test>'],
  ])('marks %s as automatic', async (header) => {
    const reading = await readMail(raw(`${BASE}\nSubject: Away\n${header}`), 1024);

    expect(reading.ok && reading.mail.automatic).toBe(true);
  });

  it('does not take a mail without a usable From address', async () => {
    expect(await readMail(raw('To: bot@example.test\nSubject: x'), 1024)).toEqual({
      ok: false,
      reason: 'no usable From address',
    });
    expect(await readMail(raw('From: "Ann" <not an address>\nSubject: x'), 1024)).toMatchObject({
      ok: false,
    });
  });

  it('cuts a very long body and says so; a name with control characters becomes one line', async () => {
    const reading = await readMail(
      raw('From: =?utf-8?Q?Evil=0AName?= <e@example.test>', 'y'.repeat(MAX_TEXT_CHARS + 500)),
      1024,
    );

    expect(reading.ok && reading.mail.fromName).toBe('Evil Name');
    expect(
      reading.ok && reading.mail.text.endsWith(`[mail cut at ${MAX_TEXT_CHARS} characters]`),
    ).toBe(true);
  });

  it('never throws on bytes that are not a mail', async () => {
    const reading = await readMail(Buffer.from([0, 255, 13, 10, 0, 0]), 1024);

    expect(reading.ok).toBe(false);
  });
});
