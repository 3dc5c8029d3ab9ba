import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  hang,
  reply,
  startFakeModelServer,
  type FakeModelServer,
} from '../support/fake-model-server.js';
import { startHost, type HostProcess } from '../support/host-process.js';
import { tempHome } from '../support/temp-home.js';

/** The real host process, killed with SIGKILL in the middle of a turn. */
describe('the host survives kill -9: no message lost, no reply sent twice', () => {
  let model: FakeModelServer;
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  let host: HostProcess | undefined;

  beforeAll(async () => {
    model = await startFakeModelServer();
  });
  afterAll(() => model.close());
  beforeEach(() => {
    model.reset();
    home = tempHome();
    env = {
      ANTHROPIC_API_KEY: 'x',
      ANTHROPIC_BASE_URL: model.url,
      NANOCELL_HOME: home.dir,
      NANOCELL_MODEL_MAX_RETRIES: '0',
    };
  });
  afterEach(async () => {
    await host?.stop();
    host = undefined;
    home.cleanup();
  });

  it('answers a message once after the host was killed while the model was thinking', async () => {
    host = await startHost(env);
    model.enqueue(hang());
    const posted = await host.post('owner', 'what is on my list?');
    expect(posted.status).toBe(202);
    await model.waitForRequests(1);

    host.child.kill('SIGKILL');
    await host.exited;
    host = undefined;

    model.enqueue(reply().text('milk and eggs'));
    host = await startHost(env);
    // The pending message is resumed by the new host without being sent again, often before
    // an event stream could connect: the reply is read where it is stored.
    const answer = await host.storedReply('owner');
    expect(answer).toBe('milk and eggs');
    expect(model.requests).toHaveLength(2);
    expect(JSON.stringify(model.requests[1]!.body!.messages)).toContain('what is on my list?');

    const messages = await host.messages('owner');
    expect(messages.filter((m) => m.direction === 'in').map((m) => m.text)).toEqual([
      'what is on my list?',
    ]);
    expect(messages.filter((m) => m.direction === 'out').map((m) => m.text)).toEqual([
      'milk and eggs',
    ]);
  });

  it('does not answer or send again after a kill -9 that follows a delivered reply', async () => {
    host = await startHost(env);
    const events = await host.subscribe();
    model.enqueue(reply().text('first and only'));
    await host.post('owner', 'hello');
    expect(await events.next('owner')).toBe('first and only');
    events.close();
    host.child.kill('SIGKILL');
    await host.exited;

    host = await startHost(env);
    const again = await host.subscribe();
    model.enqueue(reply().text('second'));
    await host.post('owner', 'and now?');
    // The next reply seen is the answer to the new message, not a repeat of the old one.
    expect(await again.next('owner')).toBe('second');
    again.close();
    expect(model.requests).toHaveLength(2);
    const out = (await host.messages('owner'))
      .filter((m) => m.direction === 'out')
      .map((m) => m.text);
    expect(out).toEqual(['first and only', 'second']);
  });

  it('stops on SIGTERM, removing its host file, and keeps the audit log intact', async () => {
    host = await startHost(env);
    expect(fs.existsSync(path.join(home.dir, 'host.json'))).toBe(true);
    host.child.kill('SIGTERM');
    expect(await host.exited).toBe(0);
    host = undefined;
    expect(fs.existsSync(path.join(home.dir, 'host.json'))).toBe(false);
  });
});
