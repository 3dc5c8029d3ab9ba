import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  hang,
  reply,
  startFakeModelServer,
  type FakeModelServer,
} from '../support/fake-model-server.js';
import { startHost, type HostProcess } from '../support/host-process.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

/** Groups whose model hangs cannot starve the others (issue 18, item 5), on the real host. */
describe('hung model calls do not starve other groups', () => {
  let model: FakeModelServer;
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  let host: HostProcess | undefined;

  beforeAll(async () => {
    model = await startFakeModelServer();
  });
  afterAll(() => model.close());
  beforeEach(async () => {
    model.reset();
    home = tempHome();
    env = {
      ANTHROPIC_API_KEY: 'x',
      ANTHROPIC_BASE_URL: model.url,
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: path.join(home.dir, 'owner-config'),
      NANOCELL_MODEL_MAX_RETRIES: '0',
      NANOCELL_MAX_CONCURRENT_RUNS: '2',
      NANOCELL_RUN_SLOT_LEASE_MS: '500',
      NANOCELL_MODEL_TIMEOUT_MS: '60000',
    };
    for (const name of ['stuck1', 'stuck2', 'fine']) {
      const r = await runCli(['groups', 'add', name, '--chat', `web:${name}`, '--no-trigger'], env);
      expect(r.code, r.stderr).toBe(0);
    }
  });
  afterEach(async () => {
    await host?.stop();
    host = undefined;
    home.cleanup();
  });

  it('answers a third group while two hold every slot with a model that never answers', async () => {
    host = await startHost(env);
    const events = await host.subscribe();
    model.enqueue(hang(), hang(), reply().text('here I am'));
    await host.post('stuck1', 'hello?');
    await host.post('stuck2', 'hello?');
    await model.waitForRequests(2);
    const asked = Date.now();
    await host.post('fine', 'are you there?');

    expect(await events.next('fine', 20_000)).toBe('here I am');
    // Freed by the slot lease, not by the 60 s model timeout.
    expect(Date.now() - asked).toBeLessThan(15_000);
    events.close();
  });
});
