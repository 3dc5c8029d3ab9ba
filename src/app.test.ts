import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpError, reply } from '../test/support/fake-model-server.js';
import {
  startFakeOpenAIServer,
  type FakeOpenAIServer,
} from '../test/support/fake-openai-server.js';
import { tempHome } from '../test/support/temp-home.js';
import { complete } from './agent/model-provider.js';
import { groupProviders, modelProvider, openBase, type Base } from './app.js';
import { loadConfig } from './config.js';

const request = { system: 's', messages: [], tools: [], maxTokens: 10 };

describe('the model a run uses', () => {
  let server: FakeOpenAIServer;
  let home: ReturnType<typeof tempHome>;
  let base: Base;
  const env = () => ({
    NANOCELL_HOME: home.dir,
    NANOCELL_CONFIG_DIR: `${home.dir}-config`,
    NANOCELL_PROVIDER: 'openai',
    OPENAI_BASE_URL: server.url,
    NANOCELL_MODEL: 'llama3.2',
    NANOCELL_MODEL_MAX_RETRIES: '0',
    NANOCELL_LOG_LEVEL: 'silent',
  });

  beforeAll(async () => {
    server = await startFakeOpenAIServer();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.reset();
    home = tempHome();
    base = openBase(loadConfig(env()));
  });
  afterEach(() => {
    base.close();
    home.cleanup();
    fs.rmSync(`${home.dir}-config`, { recursive: true, force: true });
  });

  it("is the task's own, else the group's own, else none (the configured one)", async () => {
    const providerFor = groupProviders(base);
    const group = base.store.groups.create({ name: 'family', isAdmin: false });
    const task = base.store.tasks.create({
      groupId: group.id,
      prompt: 'p',
      schedule: { kind: 'interval', everyMs: 3_600_000 },
      contextMode: 'isolated',
    });
    expect(providerFor(group)).toBeUndefined();

    base.store.models.setForGroup(group.id, { provider: 'openai', model: 'qwen2.5' });
    base.store.models.setForTask(task.id, { provider: 'openai', model: 'phi4' });
    server.enqueue(reply().text('a'), reply().text('b'), reply().text('c'));
    await complete(providerFor(group)!, request);
    await complete(providerFor(group, task.id)!, request);
    await complete(base.provider, request);
    expect(server.requests.map((r) => r.body?.model)).toEqual(['qwen2.5', 'phi4', 'llama3.2']);
    expect(providerFor(group)).toBe(providerFor(group));
  });

  it('asks NANOCELL_FALLBACK_MODEL of the same provider when the model is down', async () => {
    const config = loadConfig({ ...env(), NANOCELL_FALLBACK_MODEL: 'qwen2.5' });
    server.enqueue(httpError(503), reply().text('from the fallback'));
    const provider = modelProvider(config, { provider: 'openai', model: 'llama3.2' }, base.log);
    const response = await complete(provider, request);
    expect(response.content).toEqual([{ type: 'text', text: 'from the fallback' }]);
    expect(server.requests.map((r) => r.body?.model)).toEqual(['llama3.2', 'qwen2.5']);
  });
});
