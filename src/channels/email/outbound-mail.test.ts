import { describe, expect, it } from 'vitest';
import { composeMail, escapeHtml } from './outbound-mail.js';

const thread = { subject: 'Dinner', messageId: '<2@x>', references: ['<1@x>', '<2@x>'] };

describe('composeMail', () => {
  it('answers in the thread of the last mail received', () => {
    const mail = composeMail('bot@x.test', 'ann@x.test', { text: 'at 7' }, thread, 'Fresh');

    expect(mail).toMatchObject({
      from: 'bot@x.test',
      to: 'ann@x.test',
      subject: 'Re: Dinner',
      inReplyTo: '<2@x>',
      references: ['<1@x>', '<2@x>'],
      text: 'at 7',
      headers: { 'Auto-Submitted': 'auto-generated' },
    });
  });

  it.each([
    ['Re: Dinner', 'Re: Dinner'],
    ['RE:Dinner', 'RE:Dinner'],
    ['', 'Re: Fresh'],
  ])('subject %j becomes %j (never Re: Re:)', (subject, expected) => {
    const mail = composeMail('b@x', 'a@x', { text: '' }, { ...thread, subject }, 'Fresh');

    expect(mail.subject).toBe(expected);
  });

  it('starts a new thread when nothing was received from the address', () => {
    const mail = composeMail('b@x', 'a@x', { text: 'hello' }, undefined, 'Fresh');

    expect(mail.subject).toBe('Fresh');
    expect(mail).not.toHaveProperty('inReplyTo');
  });

  it('escapes the HTML alternative and keeps the line breaks', () => {
    const mail = composeMail(
      'b@x',
      'a@x',
      { text: '<script>x</script>\n"a" & \'b\'' },
      undefined,
      'F',
    );

    expect(mail.html).toContain(
      '&lt;script&gt;x&lt;/script&gt;<br>\n&quot;a&quot; &amp; &#39;b&#39;',
    );
    expect(mail.html).not.toContain('<script>');
    expect(escapeHtml('<>&"\'')).toBe('&lt;&gt;&amp;&quot;&#39;');
  });

  it('carries attachments as MIME parts with their type', () => {
    const bytes = Buffer.from([1, 2, 3]);
    const mail = composeMail(
      'b@x',
      'a@x',
      { text: 'file', attachments: [{ name: 'a.png', mime: 'image/png', bytes }] },
      undefined,
      'F',
    );

    expect(mail.attachments).toEqual([
      { filename: 'a.png', content: bytes, contentType: 'image/png' },
    ]);
  });
});
