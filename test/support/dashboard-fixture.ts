import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startFakeModelServer, type FakeModelServer } from './fake-model-server.js';
import { startHost, type HostProcess } from './host-process.js';
import { REPO_ROOT } from './run-cli.js';
import { tempHome } from './temp-home.js';

export const CHROMIUM = '/usr/bin/chromium';
export const SHOTS = path.join(REPO_ROOT, 'build', 'screenshots');
/** In CI the browser tests must run: a missing chromium fails them instead of skipping. */
export const runBrowser = fs.existsSync(CHROMIUM) || Boolean(process.env.CI);
export const WAIT_MS = 30_000;

export interface Dashboard {
  model: FakeModelServer;
  host: HostProcess;
  env: Record<string, string>;
  /** The owner's config dir (its `policy/` holds the policy files). */
  configDir: string;
  browser: Browser;
  context: BrowserContext;
  /** Signed in as the owner, on the chat. */
  page: Page;
  shot(name: string, p?: Page): Promise<Buffer>;
  /** A section of the header's navigation. */
  open(section: string): Promise<void>;
  send(text: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The real host (`nanocell start`) on the scripted model, and headless chromium signed in as
 * the owner. `policy` files (relative to the policy dir) are written before the host starts;
 * `before` runs CLI setup (e.g. adding groups) with the host's environment.
 */
export async function openDashboard(
  options: {
    policy?: Record<string, string>;
    before?: (env: Record<string, string>) => Promise<void>;
  } = {},
): Promise<Dashboard> {
  fs.mkdirSync(SHOTS, { recursive: true });
  const model = await startFakeModelServer();
  const home = tempHome();
  const configDir = path.join(home.dir, 'owner-config');
  const env = {
    ANTHROPIC_API_KEY: 'x',
    ANTHROPIC_BASE_URL: model.url,
    NANOCELL_HOME: path.join(home.dir, 'data'),
    NANOCELL_CONFIG_DIR: configDir,
    NANOCELL_MODEL_MAX_RETRIES: '0',
    NANOCELL_WEB_STREAM: 'on',
  };
  for (const [file, text] of Object.entries(options.policy ?? {})) {
    const where = path.join(configDir, 'policy', file);
    fs.mkdirSync(path.dirname(where), { recursive: true });
    fs.writeFileSync(where, text);
  }
  await options.before?.(env);
  const host = await startHost(env);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  context.setDefaultTimeout(WAIT_MS);
  const page = await context.newPage();
  await page.goto(`${host.url}?token=${host.token}`);
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
  return {
    model,
    host,
    env,
    configDir,
    browser,
    context,
    page,
    shot: (name, p = page) => p.screenshot({ path: path.join(SHOTS, `${name}.png`) }),
    open: async (section) => {
      await page
        .getByRole('navigation', { name: 'Sections' })
        .getByRole('link', { name: section })
        .click();
    },
    send: async (text) => {
      await page.getByRole('textbox', { name: 'Message' }).fill(text);
      await page.getByRole('textbox', { name: 'Message' }).press('Enter');
    },
    close: async () => {
      await browser.close();
      await host.stop();
      await model.close();
      home.cleanup();
    },
  };
}
