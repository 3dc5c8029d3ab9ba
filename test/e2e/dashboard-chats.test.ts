import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDashboard, runBrowser, type Dashboard } from '../support/dashboard-fixture.js';
import { reply } from '../support/fake-model-server.js';
import { runCli } from '../support/run-cli.js';

/** Issue 13: "every chat of every group the owner can see", not only the web chats. */
describe.runIf(runBrowser)('dashboard: all chats in a browser', () => {
  let d: Dashboard;
  beforeAll(async () => {
    d = await openDashboard();
  });
  afterAll(async () => {
    await d?.close();
  });

  it('shows a terminal conversation read-only, its reply as markdown, and new messages as they come', async () => {
    d.model.enqueue(reply().text('the terminal **answer**'));
    const asked = await runCli(['ask', 'hello from the terminal'], d.env);
    expect(asked.code, asked.stderr).toBe(0);

    await d.open('All chats');
    const picker = d.page.getByRole('combobox', { name: 'Conversation' });
    await picker.selectOption({ label: 'main · terminal main' });
    const log = d.page.getByRole('log', { name: 'Messages of terminal:main' });
    await log.getByText('hello from the terminal').waitFor();
    expect(await log.locator('strong', { hasText: 'answer' }).count()).toBe(1);
    await d.page.getByText('Read only: answer on terminal').waitFor();
    expect(await d.page.getByRole('textbox', { name: 'Message' }).count()).toBe(0);

    d.model.enqueue(reply().text('second reply'));
    expect((await runCli(['ask', 'once more'], d.env)).code).toBe(0);
    await log.getByText('second reply').waitFor();
    await d.shot('all-chats');
  });
});
