import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeChannel } from '../../test/support/fake-channel.js';
import { tempHome } from '../../test/support/temp-home.js';
import { ensureGroupFolder, groupFolderPath } from '../groups/group-folder.js';
import type { RunContext } from '../run/run.js';
import { Outbox } from '../router/outbox.js';
import { Store } from '../store/store.js';
import { AssistantHostTools } from './host-tools.js';
import { sendFileTool } from './send-file-tool.js';

const log = pino({ level: 'silent' });

describe('send_file', () => {
  let home: { dir: string; cleanup: () => void };
  let store: Store;
  let channel: FakeChannel;
  let tools: AssistantHostTools;
  let ctx: RunContext;
  let folder: string;

  beforeEach(async () => {
    home = tempHome();
    store = Store.open(':memory:');
    const outbox = new Outbox(store, log);
    channel = new FakeChannel('web');
    outbox.register(channel);
    await channel.start({
      onMessage: () => Promise.resolve({ status: 'refused', reason: 'test' }),
      onAction: () => Promise.resolve({ status: 'refused', reason: 'test' }),
    });
    tools = new AssistantHostTools(
      [sendFileTool({ outbox, home: home.dir, assistantName: 'Andy', maxBytes: 100 })],
      { store, outbox, home: home.dir, assistantName: 'Andy' },
    );
    const group = store.groups.create({ name: 'family', isAdmin: false, requiresTrigger: false });
    store.groups.bindChat('web', 'fam', group.id);
    ensureGroupFolder(home.dir, group.folder, 'Andy');
    folder = groupFolderPath(home.dir, group.folder);
    ctx = { group, channel: 'web', chatId: 'fam' };
  });
  afterEach(async () => {
    await channel.stop();
    store.close();
    home.cleanup();
  });

  const send = (input: Record<string, unknown>) => {
    const outcome = tools.execute(ctx, 'send_file', input);
    if (!outcome) throw new Error('send_file is not a host tool');
    return outcome;
  };

  it("delivers a file of the group's folder to the run's chat as an attachment", async () => {
    fs.mkdirSync(path.join(folder, 'out'));
    fs.writeFileSync(path.join(folder, 'out', 'report.csv'), 'a,b\n1,2\n');
    const outcome = await send({ path: '/workspace/group/out/report.csv', caption: 'the report' });
    expect(outcome.isError).toBe(false);
    const sent = await channel.nextSent();
    expect(sent.chatId).toBe('fam');
    expect(sent.message.text).toBe('the report');
    expect(sent.message.attachments).toEqual([
      { name: 'report.csv', mime: 'text/csv', bytes: Buffer.from('a,b\n1,2\n') },
    ]);
  });

  it('refuses paths that leave the folder, links, folders and files over the cap', async () => {
    fs.writeFileSync(path.join(home.dir, 'secret.txt'), 'secret');
    fs.symlinkSync(path.join(home.dir, 'secret.txt'), path.join(folder, 'link.txt'));
    fs.mkdirSync(path.join(folder, 'dir'));
    fs.writeFileSync(path.join(folder, 'big.bin'), Buffer.alloc(101));
    const outcomes = await Promise.all(
      ['../secret.txt', '/etc/passwd', 'link.txt', 'dir', 'big.bin', 'missing.txt'].map((p) =>
        send({ path: p }),
      ),
    );
    expect(outcomes.map((o) => o.isError)).toEqual([true, true, true, true, true, true]);
    expect(outcomes[4]?.output).toMatch(/NANOCELL_MAX_ATTACHMENT_MB/);
    expect(channel.sent).toEqual([]);
    expect(store.db.prepare(`SELECT COUNT(*) AS n FROM messages`).get()).toEqual({ n: 0 });
  });
});
