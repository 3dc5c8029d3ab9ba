import { describe, expect, it } from 'vitest';
import { parseMailUrl } from './mail-url.js';

describe('parseMailUrl', () => {
  it.each([
    [
      'imaps://me%40x.test:p%3Ass@imap.x.test',
      {
        host: 'imap.x.test',
        port: 993,
        secure: true,
        requireStartTls: false,
        user: 'me@x.test',
        pass: 'p:ss',
      },
    ],
    ['imap://u:p@imap.x.test', { port: 143, secure: false, requireStartTls: true }],
    ['imap://u:p@127.0.0.1:1143', { port: 1143, secure: false, requireStartTls: false }],
    ['smtps://u:p@smtp.x.test', { port: 465, secure: true }],
    ['smtp://u:p@smtp.x.test', { port: 587, secure: false, requireStartTls: true }],
    ['smtp://u:p@localhost:2525', { port: 2525, requireStartTls: false }],
  ])('%s', (url, expected) => {
    expect(parseMailUrl(url, 'EMAIL_X_URL')).toMatchObject(expected);
  });
});
