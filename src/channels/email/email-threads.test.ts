import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { tempHome } from '../../../test/support/temp-home.js';
import { EmailThreads } from './email-threads.js';

const silent = pino({ level: 'silent' });

describe('EmailThreads', () => {
  const home = tempHome('nanocell-threads-');
  afterEach(() => fs.rmSync(path.join(home.dir, 'email-threads.json'), { force: true }));

  it('answers the newest mail per address, with its references, after a restart', () => {
    const first = new EmailThreads(home.dir, silent);
    first.received('ann@x.test', { subject: 'One', messageId: '<1@x>', references: [] });
    first.received('ann@x.test', { subject: 'Re: One', messageId: '<2@x>', references: ['<1@x>'] });

    expect(new EmailThreads(home.dir, silent).get('ann@x.test')).toEqual({
      subject: 'Re: One',
      messageId: '<2@x>',
      references: ['<1@x>', '<2@x>'],
    });
  });

  it('keeps at most maxThreads addresses, dropping the least recent', () => {
    const threads = new EmailThreads(home.dir, silent, 2);
    for (const who of ['a', 'b', 'c']) {
      threads.received(`${who}@x.test`, { subject: who, messageId: `<${who}@x>`, references: [] });
    }

    expect(threads.get('a@x.test')).toBeUndefined();
    expect(new EmailThreads(home.dir, silent, 2).get('c@x.test')?.messageId).toBe('<c@x>');
  });

  it('starts empty on a damaged file instead of failing', () => {
    fs.writeFileSync(path.join(home.dir, 'email-threads.json'), '{"version":1,"threads":[{"x":');

    expect(new EmailThreads(home.dir, silent).get('ann@x.test')).toBeUndefined();
  });
});
