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

/** Debian's chromium, headless, with the flags the machine allows (no sandbox, no network). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
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
}

export interface Dashboard {
  model: FakeModelServer;
  host: HostProcess;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  env: Record<string, string>;
  home: string;
  configDir: string;
  /** Click a section in the header's navigation. */
  open(section: string): Promise<void>;
  /** Type a message in the chat's box and press Enter. */
  send(text: string): Promise<void>;
  /** A screenshot under build/screenshots/NAME.png. */
  shot(name: string, p?: Page): Promise<Buffer>;
  close(): Promise<void>;
}

type Prepare = (paths: {
  env: Record<string, string>;
  configDir: string;
  home: string;
}) => Promise<void> | void;

/** `policy` files (relative to the policy dir) written, then `before` with the host's env. */
interface PrepareOptions {
  policy?: Record<string, string>;
  before?: (env: Record<string, string>) => Promise<void>;
}

function fromOptions(options: PrepareOptions): Prepare {
  return async ({ env, configDir }) => {
    for (const [file, text] of Object.entries(options.policy ?? {})) {
      const where = path.join(configDir, 'policy', file);
      fs.mkdirSync(path.dirname(where), { recursive: true });
      fs.writeFileSync(where, text);
    }
    await options.before?.(env);
  };
}

/**
 * The real host (`nanocell start`) on the scripted model, headless Debian chromium, and the
 * owner signed in from the printed link. `prepare` runs before the host starts (policy files,
 * groups added through the CLI, ...).
 */
export async function openDashboard(
  setup: Prepare | PrepareOptions = () => undefined,
): Promise<Dashboard> {
  const prepare = typeof setup === 'function' ? setup : fromOptions(setup);
  fs.mkdirSync(SHOTS, { recursive: true });
  const model = await startFakeModelServer();
  const temp = tempHome();
  const configDir = path.join(temp.dir, 'owner-config');
  const home = path.join(temp.dir, 'data');
  const env = {
    ANTHROPIC_API_KEY: 'x',
    ANTHROPIC_BASE_URL: model.url,
    NANOCELL_HOME: home,
    NANOCELL_CONFIG_DIR: configDir,
    NANOCELL_MODEL_MAX_RETRIES: '0',
    NANOCELL_WEB_STREAM: 'on',
  };
  fs.mkdirSync(path.join(configDir, 'policy', 'groups'), { recursive: true });
  await prepare({ env, configDir, home: temp.dir });
  const host = await startHost(env);
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  context.setDefaultTimeout(WAIT_MS);
  const page = await context.newPage();
  await page.goto(`${host.url}?token=${host.token}`);
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
  return {
    model,
    host,
    browser,
    context,
    page,
    env,
    home: temp.dir,
    configDir,
    open: async (section) => {
      await page
        .getByRole('navigation', { name: 'Sections' })
        .getByRole('link', { name: new RegExp(`^${section}\\b`) })
        .click();
    },
    shot: (name, p = page) => p.screenshot({ path: path.join(SHOTS, `${name}.png`) }),
    send: async (text) => {
      await page.getByRole('textbox', { name: 'Message' }).fill(text);
      await page.getByRole('textbox', { name: 'Message' }).press('Enter');
    },
    close: async () => {
      await browser.close();
      await host.stop();
      await model.close();
      temp.cleanup();
    },
  };
}
