import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

describe('./nanocell doctor groups the runtimes', () => {
  let model: FakeModelServer;
  const home = tempHome();
  const configDir = tempHome('nanocell-config-');
  beforeAll(async () => {
    model = await startFakeModelServer();
  });
  afterAll(() => {
    model.close();
    home.cleanup();
    configDir.cleanup();
  });

  it.runIf(process.platform === 'linux')(
    'puts the macOS-only runtimes under "not on this platform", never on a FAIL line',
    async () => {
      const r = await runCli(['doctor'], {
        ANTHROPIC_API_KEY: 'x',
        ANTHROPIC_BASE_URL: model.url,
        NANOCELL_HOME: home.dir,
        NANOCELL_CONFIG_DIR: configDir.dir,
      });
      const lines = r.stdout.split('\n');
      const heading = lines.indexOf('runtimes not on this platform (nothing to fix):');
      expect(heading).toBeGreaterThan(-1);
      expect(lines[heading + 1]).toMatch(/^-- {3}runtime apple-container: needs macOS/);
      expect(lines[heading + 2]).toMatch(/^-- {3}runtime docker-sandboxes: needs Docker Desktop/);
      expect(r.stdout).not.toMatch(/^FAIL runtime (apple-container|docker-sandboxes)/m);
    },
  );
});
