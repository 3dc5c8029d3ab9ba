import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply, stall } from '../support/fake-model-server.js';
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
      policy: {
        'groups/main.policy':
          'deny read_file path="/workspace/group/secret/**"\nallow http domain="allowed.example"\n',
      },
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

  it('filters the audit log by type, group, tool, decision and time, and verifies the chain', async () => {
    const { page } = d;
    await d.open('Audit');
    const filters = page.getByRole('form', { name: 'Audit filters' });
    await filters.getByRole('combobox', { name: 'Type' }).selectOption('tool_call');
    await filters.getByRole('textbox', { name: 'Tool' }).fill('read_file');
    await filters.getByRole('combobox', { name: 'Decision' }).selectOption('deny');
    await filters.getByRole('button', { name: 'Apply filters' }).click();

    const rows = page.getByRole('list').filter({ hasText: 'tool_call' }).getByRole('listitem');
    await page.getByText(/matching records, newest first: 1 found/).waitFor();
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('"tool":"read_file"');

    await filters.getByLabel('From').fill('2099-01-01T00:00');
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText(/newest first: 0 found/).waitFor();
    await filters.getByLabel('From').fill('');
    await filters.getByRole('combobox', { name: 'Decision' }).selectOption('allow');
    await filters.getByRole('textbox', { name: 'Tool' }).fill('write_file');
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText(/newest first: 1 found/).waitFor();
    await d.shot('activity-audit-filtered');

    await page.getByRole('button', { name: 'Verify chain' }).click();
    await page.getByText(/^Chain intact: \d+ records, none altered\.$/).waitFor();
  });

  it("lists the egress proxy's requests with host, method, group, decision and reason, filtered", async () => {
    const { page, model } = d;
    await d.open('Chat');
    // No name resolves offline: a host the rules allow is still refused (cannot resolve), with
    // its rule shown; the allowed case is covered by src/owner/dashboard-activity.test.ts.
    model.enqueue(
      reply().tool('web_fetch', { url: 'http://refused.example/page' }),
      reply().tool('web_fetch', { url: 'http://allowed.example/page' }),
      reply().text('Fetched what I could.'),
    );
    await d.send('fetch two pages');
    await page
      .getByRole('article', { name: 'Message from assistant' })
      .filter({ hasText: 'Fetched what I could.' })
      .first()
      .waitFor();

    await d.open('Egress');
    const table = page.getByRole('table', { name: 'Egress requests' });
    const refused = table.getByRole('row').filter({ hasText: 'refused.example' });
    const ruled = table.getByRole('row').filter({ hasText: 'allowed.example' });
    await refused.waitFor();
    expect(await refused.textContent()).toMatch(
      /main.*GET refused\.example\/page.*refused.*no allow http rule covers it/,
    );
    expect(await ruled.textContent()).toContain('cannot resolve allowed.example');
    expect(await ruled.textContent()).toContain(
      'rule groups/main.policy:2 allow http domain="allowed.example"',
    );
    await d.shot('activity-egress');

    const filters = page.getByRole('form', { name: 'Egress filters' });
    await filters.getByRole('combobox', { name: 'Decision' }).selectOption('allowed');
    await page.getByText('No egress requests match.').waitFor();
    await filters.getByRole('combobox', { name: 'Decision' }).selectOption('denied');
    await refused.waitFor();
    await filters.getByRole('textbox', { name: 'Group' }).fill('family');
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No egress requests match.').waitFor();
  });

  // Last: the stalled run keeps the group busy.
  it('streams a card the moment its call finishes, while the run is still going', async () => {
    const { page, model } = d;
    await d.open('Chat');
    model.enqueue(reply().tool('list_files', { path: '.' }), stall('Still looking'));
    await d.send('look around');

    const card = page.getByRole('group').filter({ hasText: 'list_files' });
    await card.waitFor();
    // Nothing of this turn is stored yet: the card came over the event stream.
    await page
      .getByRole('article', { name: 'Message from assistant' })
      .filter({ hasText: 'Still looking' })
      .getByText('writing…')
      .waitFor();
    await card.getByText('⚙ list_files').click();
    expect(await card.getByLabel('Tool output').textContent()).toContain('notes.txt');
    await d.shot('activity-tool-card-live');
  });
});
