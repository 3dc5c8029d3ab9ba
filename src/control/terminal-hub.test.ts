import { describe, expect, it } from 'vitest';
import { TerminalHub } from './terminal-hub.js';

describe('TerminalHub', () => {
  it("shows a chat's messages on the terminals attached to it, and the owner's on every terminal", async () => {
    const hub = new TerminalHub('main');
    const main: string[] = [];
    const family: string[] = [];
    hub.attach('main', (chatId, text) => main.push(`${chatId}: ${text}`));
    const detach = hub.attach('family', (chatId, text) => family.push(`${chatId}: ${text}`));
    await hub.send('family', { text: 'dinner' });
    await hub.send('main', { text: 'approve?' });
    expect(main).toEqual(['main: approve?']);
    expect(family).toEqual(['family: dinner', 'main: approve?']);
    detach();
    await hub.send('family', { text: 'nobody sees this' });
    expect(family).toHaveLength(2);
  });

  it('takes a message when no terminal is attached (the history keeps it)', async () => {
    await expect(new TerminalHub('main').send('main', { text: 'hello' })).resolves.toEqual({
      id: '1',
    });
  });
});
