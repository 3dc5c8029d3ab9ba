import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  reply,
  stall,
  startFakeModelServer,
  type FakeModelServer,
} from '../support/fake-model-server.js';
import { launchChromium, runBrowser, SHOTS, WAIT_MS } from '../support/dashboard-fixture.js';
import { startHost, type HostProcess } from '../support/host-process.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

/**
 * The owner's dashboard in a real browser (Debian's chromium, headless) against the real host
 * and the scripted model: sign-in, the chat, an approval, tasks and the audit log, each as a
 * user would click it. Screenshots go to build/screenshots on every run.
 */
describe.skipIf(!runBrowser)('owner dashboard in a browser', () => {
  let model: FakeModelServer;
  let home: ReturnType<typeof tempHome>;
  let host: HostProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let env: Record<string, string>;
  const shot = (name: string, p: Page = page) =>
    p.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  const message = (from: string, text: string) =>
    page.getByRole('article', { name: `Message from ${from}` }).filter({ hasText: text });
  const send = async (text: string) => {
    await page.getByRole('textbox', { name: 'Message' }).fill(text);
    await page.getByRole('textbox', { name: 'Message' }).press('Enter');
  };
  const open = async (section: string) => {
    await page
      .getByRole('navigation', { name: 'Sections' })
      .getByRole('link', { name: new RegExp(`^${section}\\b`) })
      .click();
  };

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    model = await startFakeModelServer();
    home = tempHome();
    const configDir = path.join(home.dir, 'owner-config');
    env = {
      ANTHROPIC_API_KEY: 'x',
      ANTHROPIC_BASE_URL: model.url,
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: configDir,
      NANOCELL_MODEL_MAX_RETRIES: '0',
      NANOCELL_WEB_STREAM: 'on',
    };
    fs.mkdirSync(path.join(configDir, 'policy', 'groups'), { recursive: true });
    fs.writeFileSync(
      path.join(configDir, 'policy', 'groups', 'main.policy'),
      'ask write_file path="/workspace/group/shared/**"\n',
    );
    const added = await runCli(['groups', 'add', 'family', '--chat', 'web:family'], env);
    expect(added.code).toBe(0);
    host = await startHost(env);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    context.setDefaultTimeout(WAIT_MS);
    page = await context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await host?.stop();
    await model?.close();
    home?.cleanup();
  });

  it('signs in from the printed link: the token leaves the address, the cookie is HttpOnly', async () => {
    await page.goto(`${host.url}?token=${host.token}`);
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();

    expect(page.url()).toBe(host.url);
    const [cookie, ...others] = await context.cookies();
    expect(others).toEqual([]);
    expect(cookie).toMatchObject({ name: 'nanocell_session', httpOnly: true, sameSite: 'Strict' });
    expect(cookie!.value).not.toContain(host.token);
    expect(await page.evaluate('document.cookie')).toBe('');
  });

  it('shows a clear page for a wrong link', async () => {
    const other = await context.newPage();
    const res = await other.goto(`${host.url}?token=not-the-right-token`);

    expect(res?.status()).toBe(401);
    await other.getByRole('heading', { name: 'This link does not work' }).waitFor();
    await shot('wrong-link', other);
    await other.close();
  });

  it('opens a member link to its one chat, with none of the owner sections', async () => {
    const linked = await runCli(['groups', 'link', 'family'], env);
    expect(linked.code).toBe(0);
    const link = /(http:\/\/\S+)/.exec(linked.stdout)![1]!;
    const guest = await browser.newContext();
    const guestPage = await guest.newPage();
    await guestPage.goto(link);

    await guestPage.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
    expect(new URL(guestPage.url()).search).toBe('?chat=family');
    expect(await guestPage.getByRole('combobox', { name: 'Chat' }).inputValue()).toBe('family');
    expect(await guestPage.getByRole('navigation', { name: 'Sections' }).count()).toBe(0);
    await guest.close();
  });

  it('sends with Enter, keeps Shift-Enter lines, and renders the reply as safe markdown', async () => {
    model.enqueue(
      reply().text(
        [
          'Here is **the plan**, from [the docs](https://example.org/docs):',
          '',
          '```sh',
          'echo "pack the basket"',
          '```',
          '',
          '| day | what |',
          '| --- | --- |',
          '| Sat | picnic |',
          '| Sun | rest |',
        ].join('\n'),
      ),
    );
    const box = page.getByRole('textbox', { name: 'Message' });
    await box.fill('plan the weekend');
    await box.press('Shift+Enter');
    await box.pressSequentially('with a table');
    expect(await box.inputValue()).toBe('plan the weekend\nwith a table');
    await box.press('Enter');

    const answer = message('assistant', 'the plan');
    await answer.first().waitFor();
    // The streamed preview gives way to the stored reply.
    await page.getByText('writing…').waitFor({ state: 'detached' });
    expect(await box.inputValue()).toBe('');
    expect(await answer.locator('strong').textContent()).toBe('the plan');
    const link = answer.getByRole('link', { name: 'the docs' });
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await answer.getByRole('table').getByRole('cell', { name: 'picnic' }).count()).toBe(1);
    await answer.getByRole('button', { name: 'Copy code' }).waitFor();
    // Each message once, however the events and polls raced.
    expect(await message('owner', 'plan the weekend').count()).toBe(1);
    expect(await message('assistant', 'the plan').count()).toBe(1);
    await shot('dashboard');
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: host.url });
    await answer.getByRole('button', { name: 'Copy code' }).click();
    await answer.getByRole('button', { name: 'Copy code' }).filter({ hasText: 'Copied' }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe('echo "pack the basket"\n');
  });

  it('loads no image from another site and runs no script a reply carries', async () => {
    model.enqueue(
      reply().text(
        'Look: ![a pixel](https://tracker.example/pixel.png) <img src="x" onerror="alert(1)">',
      ),
    );
    await send('any pictures?');

    const answer = message('assistant', 'Look:');
    await answer.first().waitFor();
    await page.getByText('writing…').waitFor({ state: 'detached' });
    await answer.getByText('[image not loaded: a pixel]').waitFor();
    expect(await answer.locator('img').count()).toBe(0);
    expect(await answer.locator('[onerror]').count()).toBe(0);
  });

  it('asks for an approval in the inbox; Approve lets the call run and clears it', async () => {
    model.enqueue(
      reply().tool('write_file', { path: 'shared/plan.txt', content: 'picnic at noon' }),
      reply().text('The plan is written.'),
    );
    await send('write the plan down');

    const badge = page.getByRole('link', { name: /Approvals\s*1/ });
    await badge.waitFor();
    await open('Approvals');
    const card = page.getByRole('listitem').filter({ hasText: 'write_file' });
    await card.waitFor();
    expect(await card.textContent()).toContain('"content": "picnic at noon"');
    expect(await card.textContent()).toContain('group main');
    await shot('approvals');
    await card.getByRole('button', { name: 'Approve' }).click();

    await card.waitFor({ state: 'detached' });
    await page.getByText('Nothing is waiting for you.').waitFor();
    await open('Chat');
    await message('assistant', 'The plan is written.').first().waitFor();
  });

  it('drops an approval from the inbox when it is answered on another surface', async () => {
    model.enqueue(
      reply().tool('write_file', { path: 'shared/list.txt', content: 'bread' }),
      reply().text('Not written, then.'),
    );
    await open('Chat');
    await send('write the shopping list');
    await open('Approvals');
    const card = page.getByRole('listitem').filter({ hasText: 'shared/list.txt' });
    await card.waitFor();
    const code = /code ([A-Z2-9]{6})/.exec((await card.textContent()) ?? '')![1]!;

    // The owner types the answer elsewhere (here: the API, as the terminal would).
    expect((await host.post('owner', `no ${code}`)).status).toBe(202);

    await card.waitFor({ state: 'detached' });
    expect(await page.getByRole('link', { name: /Approvals\s*\d/ }).count()).toBe(0);
  });

  it('lists a task with its next run, pauses it, and cancels it on a second click', async () => {
    model.enqueue(
      reply().tool('schedule_task', {
        prompt: 'water the plants',
        schedule: { kind: 'interval', everyMs: 3_600_000 },
      }),
      reply().text('Scheduled.'),
    );
    await open('Chat');
    await send('remind me to water the plants hourly');
    await message('assistant', 'Scheduled.').first().waitFor();

    await open('Tasks');
    const task = page.getByRole('listitem').filter({ hasText: 'water the plants' });
    await task.waitFor();
    expect(await task.textContent()).toMatch(/next run \d/);
    await task.getByRole('button', { name: /^Pause task #\d+$/ }).click();
    await task.getByRole('button', { name: /^Resume task #\d+$/ }).waitFor();
    expect(await task.textContent()).toContain('paused');
    await shot('tasks');
    await task.getByRole('button', { name: /^Cancel task #\d+$/ }).click();
    await task.getByRole('button', { name: /^Really cancel task #\d+$/ }).click();
    await page.getByText('No scheduled tasks.').waitFor();
  });

  it('shows the host (cells, runs) and the groups with their chats', async () => {
    await open('Groups');
    const family = page.getByRole('row').filter({ hasText: 'family' });
    await family.waitFor();
    expect(await family.textContent()).toContain('web:family');
    const facts = page.getByRole('definition');
    await facts.first().waitFor();
    expect(await page.getByLabel('Host').textContent()).toMatch(
      /Cells\S+, \d+ live.*Runs\d+ running/,
    );
    await shot('groups');
  });

  it('shows the audit log and verifies its chain', async () => {
    await open('Audit');
    await page.getByRole('listitem').filter({ hasText: 'tool_call' }).first().waitFor();
    await page.getByRole('button', { name: 'Verify chain' }).click();

    await page.getByText(/^Chain intact: \d+ records, none altered\.$/).waitFor();
    await shot('audit');
  });

  it('streams a reply while the run works, and fits a phone in dark mode', async () => {
    await open('Chat');
    model.enqueue(stall('Thinking it **over**'));
    await send('think hard');

    const streaming = message('assistant', 'Thinking it over');
    await streaming.waitFor();
    await streaming.getByText('writing…').waitFor();
    await page.getByText('Working…').waitFor();
    await page.setViewportSize({ width: 390, height: 800 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot('chat-phone-dark');
  });

  it('shows a stopped host, and keeps a message it could not send in the box with the reason', async () => {
    await page.setViewportSize({ width: 1100, height: 760 });
    await page.emulateMedia({ colorScheme: 'light' });
    await host.stop();

    await page
      .getByRole('status')
      .filter({ hasText: /Connecting|Offline/ })
      .waitFor();
    await send('are you there?');

    await page
      .getByRole('alert')
      .filter({ hasText: 'Not sent: the host did not answer' })
      .waitFor();
    expect(await page.getByRole('textbox', { name: 'Message' }).inputValue()).toBe(
      'are you there?',
    );
    await shot('host-stopped');
  });

  it('keeps the owner signed in when the host starts again', async () => {
    host = await startHost(env);

    await page.goto(host.url);

    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
    await page.getByRole('navigation', { name: 'Sections' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Sign in to nanocell' }).count()).toBe(0);
  });
});
