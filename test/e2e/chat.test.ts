import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { startHost } from '../support/host-process.js';
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

  it('streams a reply as it is written, tool steps included, then completes it once', async () => {
    model.reset();
    const env = { ANTHROPIC_API_KEY: 'x', ANTHROPIC_BASE_URL: model.url, NANOCELL_HOME: home.dir };
    model.enqueue(
      reply().text('Let me look.').tool('bash', { command: 'echo 42' }),
      reply().text('It is **42**, \u001b[2Jsafe.'),
    );
    const alone = await runCli(['chat'], env, { input: 'what is it?\n/quit\n' });
    expect(alone.code, alone.stderr).toBe(0);
    expect(alone.stdout).toContain(
      'Andy: Let me look.\n⚙ bash …\nAndy: It is **42**, \\x1b[2Jsafe.\n',
    );
    // The whole reply completes the streamed one: it is not printed a second time.
    expect(alone.stdout.match(/It is \*\*42\*\*/g)).toHaveLength(1);

    // The same through a running host (the control socket carries the pieces).
    const host = await startHost(env);
    try {
      model.enqueue(reply().text('Streamed through the host.'));
      const attached = await runCli(['chat'], env, { input: 'and now?\n/quit\n' });
      expect(attached.code, attached.stderr).toBe(0);
      expect(attached.stdout.match(/Andy: Streamed through the host\.\n/g)).toHaveLength(1);
    } finally {
      await host.stop();
    }
  });
});
