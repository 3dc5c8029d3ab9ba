import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  hang,
  reply,
  startFakeModelServer,
  type FakeModelServer,
  type RecordedRequest,
} from '../support/fake-model-server.js';
import { startHost, type HostProcess } from '../support/host-process.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

type Block = { type: string; tool_use_id?: string; content?: string; is_error?: boolean };
const lastResults = (req: RecordedRequest): Block[] =>
  (req.body!.messages!.at(-1)!.content as Block[]).filter((b) => b.type === 'tool_result');

/**
 * kill -9 in the middle of a turn: the restarted host resumes the turn from its last recorded
 * step. What the turn already did (a message sent, a task scheduled, a command run) is not
 * done again, and a command cut off while it ran is reported to the model as of unknown
 * outcome instead of being run a second time.
 */
describe('a turn a kill -9 interrupted resumes without repeating its side effects', () => {
  let model: FakeModelServer;
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  let host: HostProcess | undefined;
  const groupFile = (name: string) => path.join(home.dir, 'groups', 'main', name);

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

  /**
   * kill -9, then start again. The restarted host resumes the turn at once, often before an
   * event stream could connect, so its reply is read where it is stored: the chat's history.
   */
  const killAndRestart = async () => {
    // What the owner's chat held before the crash: a reply sent then is not the resumed one.
    const seen = (await host!.messages('owner')).at(-1)?.id ?? 0;
    host!.child.kill('SIGKILL');
    await host!.exited;
    host = await startHost(env);
    const restarted = host;
    return {
      next: async (chatId: string, timeoutMs = 60_000): Promise<string> => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const newer = await restarted.messages(chatId, chatId === 'owner' ? seen : 0);
          const reply = newer.find((m) => m.direction === 'out');
          if (reply) return reply.text;
          if (Date.now() > deadline) {
            throw new Error(`no reply stored in ${chatId}: ${restarted.stderr()}`);
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      },
      close: () => undefined,
    };
  };

  it('does not send, schedule or run again what the turn did before the crash', async () => {
    host = await startHost(env);
    model.enqueue(
      reply()
        .tool('send_message', { text: 'On my way!' })
        .tool('bash', { command: 'echo ran >> runs.txt' })
        .tool('schedule_task', {
          prompt: 'water the plants',
          schedule: { kind: 'interval', everyMs: 3_600_000 },
        }),
      hang(),
    );
    await host.post('owner', 'tell them I am coming, log it, and remind me hourly');
    await model.waitForRequests(2); // the tools ran; the model is thinking about their results

    model.enqueue(reply().text('All done.'));
    const events = await killAndRestart();
    expect(await events.next('owner')).toBe('All done.');
    events.close();

    // The resumed request carries the results of the calls made before the crash.
    expect(model.requests).toHaveLength(3);
    expect(lastResults(model.requests[2]!).map((r) => r.is_error ?? false)).toEqual([
      false,
      false,
      false,
    ]);
    expect(fs.readFileSync(groupFile('runs.txt'), 'utf8')).toBe('ran\n');
    const out = (await host!.messages('owner')).filter((m) => m.direction === 'out');
    expect(out.filter((m) => m.text === 'On my way!')).toHaveLength(1);
    const tasks = await runCli(['tasks', 'list'], env);
    expect(tasks.stdout.match(/water the plants/g)).toHaveLength(1);
  });

  it('tells the model a command cut off by the crash has an unknown outcome, and does not rerun it', async () => {
    host = await startHost(env);
    model.enqueue(reply().tool('bash', { command: 'echo started >> runs.txt && sleep 60' }));
    await host.post('owner', 'start the long job');
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(groupFile('runs.txt')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(fs.existsSync(groupFile('runs.txt'))).toBe(true);

    model.enqueue(reply().text('It may have run; I will check first.'));
    const events = await killAndRestart();
    expect(await events.next('owner')).toBe('It may have run; I will check first.');
    events.close();

    const [cut] = lastResults(model.requests.at(-1)!);
    expect(cut!.is_error).toBe(true);
    expect(cut!.content).toContain('its outcome is unknown');
    expect(fs.readFileSync(groupFile('runs.txt'), 'utf8')).toBe('started\n');
  });
});
