import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply } from '../support/fake-model-server.js';
import { openDashboard, runBrowser, type Dashboard } from '../support/dashboard-fixture.js';

/**
 * The owner's dashboard, activity side, in a real browser against the real host and the
 * scripted model: tool-call cards in the chat (live and after a reload), the audit log's
 * filters, and the egress proxy's decisions. Screenshots go to build/screenshots.
 */
describe.skipIf(!runBrowser)('dashboard activity in a browser', () => {
  let d: Dashboard;
  beforeAll(async () => {
    d = await openDashboard({
      policy: { 'groups/main.policy': 'deny read_file path="/workspace/group/secret/**"\n' },
    });
  });
  afterAll(async () => {
    await d?.close();
  });

  it('shows each tool call of a run as a card with input, output, decision and rule, after a reload too', async () => {
    const { page, model } = d;
    model.enqueue(
      reply().tool('write_file', { path: 'notes.txt', content: 'buy apples' }),
      reply().tool('read_file', { path: 'secret/diary.txt' }),
      reply().text('Noted, and the diary stays shut.'),
    );
    await d.send('note the apples');

    const written = page.getByRole('group').filter({ hasText: 'write_file' });
    const refused = page.getByRole('group').filter({ hasText: 'read_file' });
    await written.waitFor();
    await refused.waitFor();
    await page
      .getByRole('article', { name: 'Message from assistant' })
      .filter({ hasText: 'the diary stays shut' })
      .first()
      .waitFor();
    expect(await refused.textContent()).toContain('denied');
    await refused.getByText('⚙ read_file').click();
    expect(await refused.getByLabel('Tool input').textContent()).toContain(
      '"path": "secret/diary.txt"',
    );
    expect(await refused.textContent()).toContain('groups/main.policy:1');
    await d.shot('activity-tool-cards');

    await page.reload();
    const again = page.getByRole('group').filter({ hasText: 'write_file' });
    await again.waitFor();
    await again.getByText('⚙ write_file').click();
    expect(await again.getByLabel('Tool input').textContent()).toContain('"content": "buy apples"');
    expect(await again.textContent()).toContain('allowed');
    expect(await again.textContent()).toMatch(/\d+ ms|\d\.\d s/);
    expect(await page.getByRole('group').filter({ hasText: 'read_file' }).textContent()).toContain(
      'denied',
    );
  });
});
