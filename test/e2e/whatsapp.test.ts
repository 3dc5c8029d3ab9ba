import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openAssistant, openBase, type Assistant } from '../../src/app.js';
import { knownChannel, type KnownChannel } from '../../src/channels/registry.js';
import { WhatsAppChannel } from '../../src/channels/whatsapp/whatsapp-channel.js';
import { startChannels } from '../../src/cli/start-channels.js';
import { loadConfig } from '../../src/config.js';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { FakeWhatsApp } from '../support/fake-whatsapp.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

type Block = { type: string; content?: string };

/**
 * WhatsApp end to end. `nanocell start` would connect to WhatsApp's real servers (Noise +
 * Signal), which no test can reach, and the host offers no way to swap the platform; so the
 * host's own pieces run in this process instead: the real assistant (store, router, a real
 * cell, the outbox) over the scripted model, and the real `startChannels` the host uses,
 * given the registry's whatsapp entry with only its connection swapped for FakeWhatsApp.
 * The CLI itself binds the chat (`groups add`) and checks the saved keys (`doctor`).
 */
describe('whatsapp end to end', () => {
  let model: FakeModelServer;
  let home: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  let fake: FakeWhatsApp;
  let assistant: Assistant | undefined;
  let stopChannels: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    model = await startFakeModelServer();
  });
  afterAll(() => model.close());
  beforeEach(() => {
    model.reset();
    home = tempHome();
    fake = new FakeWhatsApp();
    env = {
      ANTHROPIC_API_KEY: 'x',
      ANTHROPIC_BASE_URL: model.url,
      NANOCELL_HOME: path.join(home.dir, 'data'),
      NANOCELL_CONFIG_DIR: path.join(home.dir, 'owner-config'),
      NANOCELL_MODEL_MAX_RETRIES: '0',
    };
  });
  afterEach(async () => {
    await stopChannels?.();
    await assistant?.shutdown();
    stopChannels = undefined;
    assistant = undefined;
    home.cleanup();
  });

  /** Waits until the chat shows `text`: sent as it is, or a streamed preview edited into it. */
  const shows = async (jid: string, text: string) => {
    for (;;) {
      const seen = await fake.nextWhere(
        (e) => (e.kind === 'text' || e.kind === 'edit') && e.jid === jid,
      );
      if ((seen.kind === 'text' || seen.kind === 'edit') && seen.text === text) return seen;
    }
  };

  /** The host's wiring, with WhatsApp's connection going to the fake. */
  async function startAssistant(): Promise<void> {
    const config = loadConfig({ ...env, NANOCELL_LOG_LEVEL: 'silent' });
    // As the host opens it: runs are retried, and an `ask` waits for the owner's answer.
    assistant = await openAssistant(openBase(config), { retryRuns: true });
    const { router, outbox } = assistant;
    const whatsapp: KnownChannel = {
      ...knownChannel('whatsapp')!,
      state: () => ({ on: true, detail: 'fake WhatsApp' }),
      create: async (c, deps) =>
        new WhatsAppChannel({
          connect: fake.connect,
          log: deps.log,
          maxAttachmentBytes: c.media.maxAttachmentBytes,
        }),
    };
    const out: string[] = [];
    const platforms = startChannels({
      config,
      log: pino({ level: 'silent' }),
      handlers: {
        onMessage: async (message) => router.receive(message),
        onAction: async (action) => router.receiveAction(action),
      },
      register: (channel) => outbox.register(channel),
      stdout: { write: (s: string) => void out.push(s) },
      channels: [whatsapp],
    });
    stopChannels = platforms.stop;
    await platforms.ready;
    expect(out.join('')).toContain('nanocell: whatsapp connected.');
    outbox.start(50);
  }

  it('answers a WhatsApp message after running a command in a cell', async () => {
    const bound = await runCli(
      ['groups', 'add', 'family', '--chat', `whatsapp:${fake.ownerJid}`, '--no-trigger'],
      env,
    );
    expect(bound.code, bound.stderr).toBe(0);
    await startAssistant();
    model.enqueue(
      reply().tool('bash', { command: 'echo $((6 * 7))' }),
      reply().text('**The answer** is 42'),
    );

    const id = fake.userSays('what is 6 times 7?');

    expect(await fake.next('react', (e) => e.messageId === id)).toMatchObject({ emoji: '✅' });
    // Streamed: the tool step shows first, then that message is edited into the answer.
    const preview = await fake.next('text', (m) => m.jid === fake.ownerJid);
    expect(preview.text).toMatch(/^⚙ bash/);
    const answer = await shows(fake.ownerJid, '*The answer* is 42');
    expect(answer).toMatchObject({ kind: 'edit', id: preview.id });
    const results = (model.requests[1]!.body!.messages!.at(-1)!.content as Block[]).filter(
      (b) => b.type === 'tool_result',
    );
    expect(results[0]!.content).toContain('42');
    const prompt = JSON.stringify(model.requests[0]!.body!.messages);
    expect(prompt).toContain('what is 6 times 7?');
  });

  it('says nothing to a chat bound to no group', async () => {
    await startAssistant();
    const stranger = '15550001111@s.whatsapp.net';

    fake.userSays('hello?', { jid: stranger });
    // Ignored: no receipt, no read mark, no answer, and the model never hears of it.
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(fake.pending().filter((e) => e.jid === stranger)).toEqual([]);
    expect(model.requests).toEqual([]);
  });

  it('pairs the owner in a direct chat; an approval is answered by typing the reply it names', async () => {
    fs.mkdirSync(path.join(env.NANOCELL_CONFIG_DIR!, 'policy', 'groups'), { recursive: true });
    fs.writeFileSync(
      path.join(env.NANOCELL_CONFIG_DIR!, 'policy', 'groups', 'family.policy'),
      'ask write_file path="/workspace/group/plan.txt"\n',
    );
    const bound = await runCli(
      ['groups', 'add', 'family', '--chat', `whatsapp:${fake.groupJid}`, '--no-trigger'],
      env,
    );
    expect(bound.code, bound.stderr).toBe(0);
    await startAssistant();

    const pair = await runCli(['pair', 'whatsapp'], env);
    expect(pair.code, pair.stderr).toBe(0);
    const code = /pair ([A-Z2-9]{8})/.exec(pair.stdout)?.[1];
    expect(code, pair.stdout).toBeDefined();
    fake.userSays(`pair ${code}`);
    const paired = await fake.next('text', (m) => m.jid === fake.ownerJid);
    expect(paired.text).toMatch(/^Paired: /);

    model.enqueue(
      reply().tool('write_file', { path: 'plan.txt', content: 'picnic' }),
      reply().text('The plan is written.'),
    );
    fake.userSays('write the plan', { jid: fake.groupJid, participant: fake.ownerJid });
    const question = await fake.next(
      'text',
      (m) => m.jid === fake.ownerJid && m.text.includes('write_file'),
    );
    const yes = /"(yes [A-Z0-9]+)"/.exec(question.text)?.[1];
    expect(yes, question.text).toBeDefined();

    fake.userSays(yes!);
    await shows(fake.groupJid, 'The plan is written.');
    const plan = path.join(env.NANOCELL_HOME!, 'groups', 'family', 'plan.txt');
    expect(fs.readFileSync(plan, 'utf8')).toBe('picnic');
  });

  it('binds only a WhatsApp jid, and doctor names the linked phone from the saved keys', async () => {
    const bad = await runCli(['groups', 'add', 'family', '--chat', 'whatsapp:+447700900123'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('expected whatsapp:<jid');

    const authDir = path.join(env.NANOCELL_CONFIG_DIR!, 'whatsapp');
    fs.mkdirSync(authDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(
      path.join(authDir, 'creds.json'),
      JSON.stringify({ me: { id: '447700900123:4@s.whatsapp.net', name: 'Owner' } }),
    );
    const doctor = await runCli(['doctor'], env);
    expect(doctor.stdout).toMatch(/^ok {3}channel whatsapp: on, .*linked as \+447700900123/m);
  });
});
