import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

describe('./nanocell chat', () => {
  let model: FakeModelServer;
  let home: ReturnType<typeof tempHome>;

  beforeAll(async () => {
    model = await startFakeModelServer();
    home = tempHome();
  });
  afterAll(async () => {
    await model.close();
    home.cleanup();
  });

  it('answers each line in turn, continues the conversation, and stops at /quit', async () => {
    model.enqueue(reply().text('Hello, owner.'), reply().text('You said hello before.'));
    const r = await runCli(
      ['chat'],
      { ANTHROPIC_API_KEY: 'x', ANTHROPIC_BASE_URL: model.url, NANOCELL_HOME: home.dir },
      { input: 'hello\nwhat did I say?\n/quit\nnot read\n' },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('talking to Andy in group "main"');
    expect(r.stdout).toContain('Andy: Hello, owner.');
    expect(r.stdout).toContain('Andy: You said hello before.');
    expect(model.requests).toHaveLength(2);
    expect(JSON.stringify(model.requests[1]!.body!.messages)).toContain('Hello, owner.');
    expect(r.stdout).not.toContain('not read');
  });
});
