import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import type { KnownChannel } from '../channels/registry.js';
import { channelLines } from './doctor-channels.js';

const base = {
  configKeys: ['X_TOKEN'],
  chatIdPattern: /^\d+$/,
  chatIdForm: 'x:<id>',
  isDirectChat: () => false,
};

describe('channelLines', () => {
  it('reports each channel on one line: off with what to set, on, or failing its check', async () => {
    const channels: KnownChannel[] = [
      { ...base, name: 'quiet', state: () => ({ on: false, detail: 'set X_TOKEN to connect it' }) },
      {
        ...base,
        name: 'fine',
        state: () => ({ on: true, detail: 'bot API' }),
        check: async () => ({ ok: true, detail: 'bot @fine_bot' }),
      },
      {
        ...base,
        name: 'broken',
        state: () => ({ on: true, detail: 'bot API' }),
        check: async () => ({ ok: false, detail: 'the platform rejected the token (401)' }),
      },
    ];
    expect(await channelLines(loadConfig({}), channels)).toEqual([
      [true, 'channel quiet', 'off (set X_TOKEN to connect it)'],
      [true, 'channel fine', 'on, bot API: bot @fine_bot'],
      [false, 'channel broken', 'on, bot API: the platform rejected the token (401)'],
    ]);
  });

  it('lists every known channel by default', async () => {
    const lines = await channelLines(loadConfig({}));
    expect(lines.map(([, what]) => what)).toEqual([
      'channel terminal',
      'channel web',
      'channel telegram',
      'channel slack',
      'channel discord',
      'channel whatsapp',
      'channel email',
    ]);
    expect(lines.every(([ok]) => ok)).toBe(true);
  });
});
