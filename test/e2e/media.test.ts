import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reply, startFakeModelServer, type FakeModelServer } from '../support/fake-model-server.js';
import { startHost, type HostProcess } from '../support/host-process.js';
import { runCli } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';
import { openEvents } from '../support/web-client.js';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

type Block = { type: string; text?: string; source?: { media_type: string; data: string } };

describe('media through the web chat and the real host process', () => {
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
      NANOCELL_HOME: home.dir,
      NANOCELL_MODEL_MAX_RETRIES: '0',
    };
    const added = await runCli(
      ['groups', 'add', 'family', '--chat', 'web:family', '--no-trigger'],
      env,
    );
    expect(added.code).toBe(0);
  });
  afterEach(async () => {
    await host?.stop();
    host = undefined;
    home.cleanup();
  });

  it('shows an uploaded image to the model and sends a file back with send_file', async () => {
    host = await startHost(env);
    const port = Number(new URL(host.url).port);
    const headers = { authorization: `Bearer ${host.token}` };
    const events = await openEvents(port, '/api/events', headers);
    await events.connected;
    model.enqueue(reply().text('a cat'));
    const res = await fetch(`${host.url}api/chats/family/messages`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({
        text: 'what is this?',
        files: [{ name: 'cat.png', type: 'image/png', data: PNG.toString('base64') }],
      }),
    });
    expect(res.status).toBe(202);
    const answer = await events.next('message', (d) => d.chatId === 'family');
    expect(answer.data.text).toBe('a cat');

    const content = model.requests[0]!.body!.messages!.at(-1)!.content as Block[];
    const image = content.find((b) => b.type === 'image');
    expect(image?.source).toEqual({
      type: 'base64',
      media_type: 'image/png',
      data: PNG.toString('base64'),
    });
    const text = content.find((b) => b.type === 'text')?.text ?? '';
    const saved = /saved as (inbox\/\S+\.png)/.exec(text)?.[1];
    expect(saved, text).toBeDefined();

    // The next turn replays the image from the history and sends the saved file back.
    model.enqueue(
      reply().tool('send_file', { path: saved!, caption: 'here it is' }),
      reply().text('sent'),
    );
    await host.post('family', 'send it back');
    const file = await events.next(
      'message',
      (d) => d.chatId === 'family' && d.text === 'here it is',
    );
    const [attachment] = file.data.attachments as Array<{
      name: string;
      mime: string;
      url: string;
    }>;
    expect(attachment).toMatchObject({ name: saved!.slice('inbox/'.length), mime: 'image/png' });
    const download = await fetch(`${host.url}${attachment!.url.slice(1)}`, { headers });
    expect(Buffer.from(await download.arrayBuffer()).equals(PNG)).toBe(true);
    expect((await events.next('message', (d) => d.chatId === 'family')).data.text).toBe('sent');
    const replayed = model.requests[1]!.body!.messages![0]!.content as Block[];
    expect(model.requests[1]!.body!.messages).toHaveLength(3);
    expect(replayed.some((b) => b.type === 'image')).toBe(true);
    events.close();

    const audit = await runCli(['audit', 'tail', '-n', '50'], env);
    expect(audit.stdout).toMatch(/send_file/);
  });
});
