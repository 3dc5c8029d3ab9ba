import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDashboard, runBrowser, type Dashboard } from '../support/dashboard-fixture.js';
import { reply, stall } from '../support/fake-model-server.js';
import { runCli } from '../support/run-cli.js';

/**
 * The owner manages groups, tasks, and watches activity and usage from the dashboard, in a
 * real browser against the real host and the scripted model. Each change is checked where it
 * lands (the CLI's view of the same store, the audit log), not only on the page.
 */
describe.skipIf(!runBrowser)('owner dashboard: groups, tasks, activity, usage', () => {
  let d: Dashboard;
  let photos: string;
  let elsewhere: string;

  beforeAll(async () => {
    d = await openDashboard(({ configDir, home }) => {
      photos = path.join(home, 'photos');
      elsewhere = path.join(home, 'elsewhere');
      fs.mkdirSync(photos);
      fs.mkdirSync(elsewhere);
      fs.writeFileSync(
        path.join(configDir, 'mount-allowlist.json'),
        JSON.stringify({ allowedRoots: [{ path: photos, description: 'photos' }] }),
      );
    });
  });
  afterAll(async () => {
    await d?.close();
  });
  const group = (name: string) => d.page.getByRole('region', { name: `Group ${name}` });

  it('creates a group with its first chat, and says beside the name why a second is refused', async () => {
    const { page } = d;
    await d.open('Groups');
    const form = page.getByRole('form', { name: 'New group' });
    await form.getByRole('textbox', { name: 'Name' }).fill('family');
    await form.getByRole('textbox', { name: 'First chat' }).fill('web:family');
    await form.getByRole('button', { name: 'Create group' }).click();

    await page.getByRole('row').filter({ hasText: 'web:family' }).waitFor();
    await group('family').waitFor();
    await form.getByRole('textbox', { name: 'Name' }).fill('family');
    await form.getByRole('button', { name: 'Create group' }).click();
    const error = form.getByRole('alert');
    await error.filter({ hasText: 'a group named "family" already exists' }).waitFor();
    expect(await form.getByRole('textbox', { name: 'Name' }).getAttribute('aria-describedby')).toBe(
      await error.getAttribute('id'),
    );

    const listed = await runCli(['groups', 'list'], d.env);
    expect(listed.stdout).toMatch(/^family\ttrigger @\S+\tchats: web:family, terminal:family/m);
  });

  it('binds and unbinds a chat, sets the trigger and the model, each audited as the dashboard', async () => {
    const family = group('family');
    await family.getByRole('textbox', { name: 'Bind a chat' }).fill('pigeon:1');
    await family.getByRole('button', { name: 'Bind', exact: true }).click();
    await family.getByRole('alert').filter({ hasText: 'unknown channel "pigeon"' }).waitFor();

    await family.getByRole('textbox', { name: 'Bind a chat' }).fill('telegram:42');
    await family.getByRole('button', { name: 'Bind', exact: true }).click();
    await family.getByText('family now answers telegram:42').waitFor();
    await family.getByRole('button', { name: 'Unbind telegram:42' }).click();
    await family.getByRole('button', { name: 'Unbind telegram:42' }).waitFor({ state: 'detached' });

    await family.getByRole('textbox', { name: 'Trigger word' }).fill('@Robo');
    await family.getByRole('button', { name: 'Save trigger' }).click();
    await family.getByText('family: trigger @Robo').waitFor();

    await family.getByRole('combobox', { name: 'Provider' }).selectOption('openai');
    await family.getByRole('textbox', { name: 'Model name' }).fill('llama3.2');
    await family.getByRole('button', { name: 'Save model' }).click();
    await family.getByText('family: runs use openai llama3.2 from its next run on').waitFor();
    await d.page.getByRole('row').filter({ hasText: 'openai llama3.2' }).waitFor();

    const audit = await runCli(['audit', 'tail', '-n', '50'], d.env);
    for (const summary of ['bound telegram:42', 'unbound telegram:42', 'trigger @Robo']) {
      expect(audit.stdout).toContain(summary);
    }
    expect(audit.stdout).toContain('owner (dashboard)');
  });

  it('adds a mount under an allowed root, and shows the exact reason one outside is refused', async () => {
    const family = group('family');
    await family.getByRole('textbox', { name: 'Host folder' }).fill(elsewhere);
    await family.getByRole('button', { name: 'Add mount' }).click();
    const refusal = family.getByRole('alert').filter({ hasText: /^refused: / });
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain(elsewhere);

    await family.getByRole('textbox', { name: 'Host folder' }).fill(photos);
    await family.getByRole('textbox', { name: 'Name in the cell' }).fill('photos');
    await family.getByRole('button', { name: 'Add mount' }).click();
    await family.getByRole('button', { name: `Remove mount ${photos}` }).waitFor();
    expect(await family.textContent()).toContain('/workspace/extra/photos · read-only');
    await d.shot('group-manage');
  });

  it('offers no way to remove the admin group', async () => {
    const { page } = d;
    await page.getByRole('button', { name: 'Manage group main' }).click();
    const main = group('main');
    await main.getByText('The admin group cannot be removed').waitFor();
    expect(await main.getByRole('button', { name: /Remove group/ }).count()).toBe(0);
  });

  it('checks a schedule as it is typed and previews the next three runs in the owner time zone', async () => {
    const { page } = d;
    await d.open('Tasks');
    const form = page.getByRole('form', { name: 'New task' });
    const cron = form.getByRole('textbox', { name: 'Cron expression' });
    await cron.fill('0 9 * *');
    await form.getByRole('alert').filter({ hasText: 'it has 4 fields' }).waitFor();

    await cron.fill('30 7 * * *');
    const runs = form.getByLabel('Next runs').getByRole('listitem');
    await runs.nth(2).waitFor();
    expect(await runs.count()).toBe(3);
    expect(await runs.first().textContent()).toMatch(/07:30/);
    expect(await form.getByRole('alert').count()).toBe(0);
    await d.shot('task-new');
  });

  it('creates an hourly task, runs it now, and shows the run with status, duration and summary', async () => {
    const { page, model } = d;
    const form = page.getByRole('form', { name: 'New task' });
    await form.getByRole('combobox', { name: 'When' }).selectOption('interval');
    await form.getByRole('textbox', { name: 'Every (minutes)' }).fill('60');
    await form.getByRole('textbox', { name: 'What to do' }).fill('water the plants');
    await form.getByRole('button', { name: 'Schedule task' }).click();
    const task = page.getByRole('listitem').filter({ hasText: 'water the plants' });
    await task.waitFor();

    model.enqueue(reply().text('The plants are watered.'));
    await task.getByRole('button', { name: /^Run task #\d+ now$/ }).click();
    const run = task.getByRole('listitem').filter({ hasText: 'The plants are watered.' });
    // The page shows a run when it is loaded again: refresh until the host has finished it.
    for (let i = 0; (await run.count()) === 0 && i < 100; i++) {
      await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/tasks')),
        page.getByRole('button', { name: 'Refresh' }).click(),
      ]);
    }
    await task.getByText('Last runs').click();
    expect(await run.textContent()).toMatch(/^ok .* · \d+\.\d s · The plants are watered\.$/);
    expect(await task.textContent()).toMatch(/next run \d/);
    await d.shot('task-run');
  });

  it('shows usage per group with the budget', async () => {
    await runCli(['groups', 'set', 'main', '--budget-tokens', '200000'], d.env);
    await d.open('Usage');
    const main = d.page.getByRole('row').filter({ hasText: 'main' });
    await main.waitFor();
    expect(await main.textContent()).toMatch(/[1-9][\d,]* tokens · [1-9]\d* requests · \$/);
    expect(await main.textContent()).toContain('200,000 tokens a day');
    await d.shot('usage');
  });

  it("browses the group folder and shows the last run's change to a file as a diff", async () => {
    const { page, model } = d;
    const say = async (text: string, answer: string) => {
      await d.open('Chat');
      await page.getByRole('textbox', { name: 'Message' }).fill(text);
      await page.getByRole('textbox', { name: 'Message' }).press('Enter');
      await page
        .getByRole('article', { name: 'Message from assistant' })
        .filter({ hasText: answer })
        .first()
        .waitFor();
    };
    model.enqueue(
      reply().tool('write_file', { path: 'notes/plan.txt', content: 'picnic\nat noon\n' }),
      reply().text('Plan written.'),
    );
    await say('write the plan', 'Plan written.');
    model.enqueue(
      reply().tool('write_file', { path: 'notes/plan.txt', content: 'picnic\nat one\n' }),
      reply().text('Plan changed.'),
    );
    await say('move it to one', 'Plan changed.');

    await d.open('Files');
    const changes = page.getByRole('region', { name: "Last run's changes" });
    const changed = changes.getByRole('listitem', { name: 'modified notes/plan.txt' });
    // The reply can reach the page a moment before the run's folder snapshot is compared.
    for (let i = 0; (await changed.count()) === 0 && i < 100; i++) {
      await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/changes')),
        changes.getByRole('button', { name: 'Refresh changes' }).click(),
      ]);
    }
    expect(await changed.locator('pre').textContent()).toContain('-at noon\n+at one');

    const folder = page.getByRole('region', { name: 'Group folder' });
    await folder.getByRole('button', { name: 'Open folder notes' }).click();
    await folder.getByRole('button', { name: 'Open file plan.txt' }).click();
    expect(await folder.getByLabel('Contents of notes/plan.txt').textContent()).toBe(
      'picnic\nat one\n',
    );
    await d.shot('files');
  });

  it('shows a run in the queue and its live cell while it works, at phone width in dark mode', async () => {
    const { page, model } = d;
    model.enqueue(stall('Thinking'));
    expect((await d.host.post('owner', 'think for a while')).status).toBe(202);
    await d.open('Activity');

    await page
      .getByRole('table', { name: 'Run queue' })
      .getByRole('row', { name: /main yes/ })
      .waitFor();
    const cell = page
      .getByRole('table', { name: 'Live cells' })
      .getByRole('row')
      .filter({ hasText: 'main' });
    await cell.first().waitFor();
    expect(await cell.first().textContent()).toMatch(
      /(alive|starting).*\d+ s.*(KB|MB|GB|unknown)$/,
    );
    await page.setViewportSize({ width: 390, height: 800 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await d.shot('activity-phone-dark');
  });

  it('fits the group settings and the task form on a phone', async () => {
    const { page } = d;
    await d.open('Groups');
    await page.getByRole('button', { name: 'Manage group family' }).click();
    await group('family').getByRole('button', { name: 'Save trigger' }).waitFor();
    await d.shot('groups-phone-dark');
    // Everything on the page ends inside the screen (a string: this runs in the browser).
    const wide = await page.evaluate(`[...document.querySelectorAll('main *')]
      .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
      .slice(0, 8)
      .map((e) => e.tagName + '.' + e.className)`);
    expect(wide).toEqual([]);
    await d.open('Tasks');
    await page.getByRole('form', { name: 'New task' }).waitFor();
    await d.shot('tasks-phone-dark');
  });
});
