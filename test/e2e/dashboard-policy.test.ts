import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDashboard, runBrowser, type Dashboard } from '../support/dashboard-fixture.js';
import { reply } from '../support/fake-model-server.js';

/**
 * The owner's policy files from the dashboard, in a real browser against the real host: the
 * list, the editor's live `policy check` errors by line, save (refused while it has errors,
 * audited when done), and Explain. Screenshots go to build/screenshots.
 */
describe.skipIf(!runBrowser)('dashboard policy in a browser', () => {
  let d: Dashboard;
  beforeAll(async () => {
    d = await openDashboard({
      policy: { 'groups/main.policy': 'ask write_file path="/workspace/group/shared/**"\n' },
    });
  });
  afterAll(async () => {
    await d?.close();
  });

  it('edits a policy file with errors shown by line, and saves only once they are fixed', async () => {
    const { page } = d;
    await d.open('Policy');
    const files = page.getByRole('navigation', { name: 'Policy files' });
    await files.getByRole('button', { name: /default\.policy\s*every group/ }).waitFor();
    await files.getByRole('button', { name: /groups\/main\.policy/ }).click();
    const editor = page.getByRole('textbox', { name: 'groups/main.policy' });
    await page
      .getByRole('status', { name: 'Policy check' })
      .filter({ hasText: 'No errors · 1 rule(s)' })
      .waitFor();
    expect(await editor.inputValue()).toBe('ask write_file path="/workspace/group/shared/**"\n');

    await editor.fill(
      'ask write_file path="/workspace/group/shared/**"\nalow bash command="rm *"\n',
    );
    await page
      .getByRole('status', { name: 'Policy check' })
      .filter({ hasText: '1 error(s)' })
      .waitFor();
    const problems = page.getByRole('list', { name: 'Problems' });
    expect(await problems.textContent()).toMatch(/^line 2: /);
    expect(await page.getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
    await d.shot('policy-errors');

    await editor.fill(
      'ask write_file path="/workspace/group/shared/**"\ndeny bash command="rm *"\n',
    );
    await page
      .getByRole('status', { name: 'Policy check' })
      .filter({ hasText: 'No errors · 2 rule(s)' })
      .waitFor();
    await page.getByRole('button', { name: 'Save' }).click();
    await page
      .getByText('Saved groups/main.policy: 2 rule(s), in force from the next call.')
      .waitFor();

    const onDisk = fs.readFileSync(
      path.join(d.configDir, 'policy', 'groups', 'main.policy'),
      'utf8',
    );
    expect(onDisk).toBe(
      'ask write_file path="/workspace/group/shared/**"\ndeny bash command="rm *"\n',
    );
    const audited = await page.evaluate(() =>
      fetch('/api/audit/search?type=policy_change').then((r) => r.json()),
    );
    expect(
      (audited as { records: Array<{ detail: Record<string, unknown> }> }).records.at(-1)?.detail,
    ).toMatchObject({
      file: 'groups/main.policy',
      action: 'changed',
      by: 'owner (dashboard)',
    });
  });

  it('refuses to save a file with errors even when asked directly', async () => {
    const res = await d.page.evaluate(() =>
      fetch('/api/policy/save', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ file: 'groups/main.policy', text: 'allow bassh\n' }),
      }).then(async (r) => ({ status: r.status, body: await r.json() })),
    );
    expect(res.status).toBe(409);
    expect((res.body as { error: string }).error).toMatch(
      /^not saved: 1 error\(s\), first on line 1: /,
    );
    expect(
      fs.readFileSync(path.join(d.configDir, 'policy', 'groups', 'main.policy'), 'utf8'),
    ).toContain('deny bash');
  });

  it('explains which rule decides a call, as nanocell policy explain does', async () => {
    const { page } = d;
    const form = page.getByRole('form', { name: 'Explain a tool call' });
    await form.getByRole('combobox', { name: 'Group' }).fill('main');
    await form.getByRole('textbox', { name: 'Tool' }).fill('bash');
    await form.getByRole('textbox', { name: 'Input (JSON)' }).fill('{"command": "rm -rf notes"}');
    await form.getByRole('button', { name: 'Explain' }).click();

    const explained = form.getByRole('status', { name: 'Explanation' });
    await explained.waitFor();
    expect(await explained.textContent()).toMatch(
      /^deny.*rule: .*groups\/main\.policy:2: deny bash command="rm \*"/s,
    );
    await d.shot('policy-explain');

    await form.getByRole('textbox', { name: 'Input (JSON)' }).fill('{"command": ');
    await form.getByRole('button', { name: 'Explain' }).click();
    await form.getByRole('alert').filter({ hasText: 'Input is not JSON' }).waitFor();
  });

  it('"Always allow for this group" approves, writes the exact rule, and Undo removes just it', async () => {
    const { page, model } = d;
    const reply_ = (text: string) =>
      page
        .getByRole('article', { name: 'Message from assistant' })
        .filter({ hasText: text })
        .first();
    const policyFile = path.join(d.configDir, 'policy', 'groups', 'main.policy');
    const before = fs.readFileSync(policyFile, 'utf8');
    await d.open('Chat');
    model.enqueue(
      reply().tool('write_file', { path: 'shared/plan.txt', content: 'picnic at noon' }),
      reply().text('The plan is written.'),
    );
    await d.send('write the plan');
    await page.getByRole('link', { name: /Approvals\s*1/ }).waitFor();
    await d.open('Approvals');
    const card = page.getByRole('listitem').filter({ hasText: 'shared/plan.txt' });
    await card.getByRole('button', { name: 'Always allow for this group' }).click();

    const rule = 'allow write_file path="/workspace/group/shared/plan.txt"';
    await page
      .getByRole('status')
      .filter({ hasText: `Wrote ${rule} to groups/main.policy` })
      .waitFor();
    await card.waitFor({ state: 'detached' });
    await d.shot('policy-always-allowed');
    const now = fs.readFileSync(policyFile, 'utf8');
    expect(now.startsWith(before)).toBe(true);
    const added = now.slice(before.length).split('\n');
    expect(added[0]).toMatch(/^# always allowed from the dashboard \(approval [A-Z0-9]+, \S+\)$/);
    expect(added.slice(1)).toEqual([rule, '']);
    await d.open('Chat');
    await reply_('The plan is written.').waitFor();

    // The same call again runs without asking.
    model.enqueue(
      reply().tool('write_file', { path: 'shared/plan.txt', content: 'picnic at one' }),
      reply().text('Updated without asking.'),
    );
    await d.send('move it to one');
    await reply_('Updated without asking.').waitFor();
    expect(await page.getByRole('link', { name: /Approvals\s*\d/ }).count()).toBe(0);

    await d.open('Policy');
    const listed = page.getByRole('listitem', { name: `Always allowed: ${rule}` });
    await listed.waitFor();
    await listed.getByRole('button', { name: `Undo ${rule}` }).click();
    await listed.waitFor({ state: 'detached' });
    await page
      .getByText('None yet: "Always allow for this group" on an approval adds one.')
      .waitFor();
    expect(fs.readFileSync(policyFile, 'utf8')).toBe(before);
  });

  it('fits a phone in dark mode, every control of the view named', async () => {
    const { page } = d;
    await page.setViewportSize({ width: 390, height: 800 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await d.open('Policy');
    await page
      .getByRole('navigation', { name: 'Policy files' })
      .getByRole('button')
      .first()
      .click();
    await page.getByRole('status', { name: 'Policy check' }).waitFor();
    const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
    expect(width).toBeLessThanOrEqual(390);
    // Every control has an accessible name: as many named ones as there are controls.
    const main = page.getByRole('main');
    const named = /\S/;
    expect(await main.getByRole('button', { name: named }).count()).toBe(
      await main.locator('button').count(),
    );
    expect(
      (await main.getByRole('textbox', { name: named }).count()) +
        (await main.getByRole('combobox', { name: named }).count()) +
        (await main.getByRole('checkbox', { name: named }).count()),
    ).toBe(await main.locator('input, textarea, select').count());
    await d.shot('policy-phone-dark');
  });
});
