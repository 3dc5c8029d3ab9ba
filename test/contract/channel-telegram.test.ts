import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach } from 'vitest';
import { TelegramChannel } from '../../src/channels/telegram/telegram-channel.js';
import { FakeTelegram, type TelegramEvent } from '../support/fake-telegram.js';
import { channelContract, type ChannelUser, type Shown, type Told } from './channel.contract.js';

const TOKEN = '123456:fake-token-for-the-channel-contract';
let fakes: FakeTelegram[] = [];
let homes: string[] = [];
afterEach(async () => {
  await Promise.all(fakes.map((f) => f.stop()));
  for (const home of homes) fs.rmSync(home, { recursive: true, force: true });
  fakes = [];
  homes = [];
});

channelContract('telegram (fake Bot API on 127.0.0.1)', async () => {
  const fake = await FakeTelegram.start(TOKEN);
  fakes.push(fake);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-telegram-'));
  homes.push(home);
  const channel = new TelegramChannel({
    token: TOKEN,
    apiRoot: fake.apiRoot,
    home,
    log: pino({ level: 'silent' }),
    maxAttachmentBytes: 10 * 1024 * 1024,
    pollTimeoutSeconds: 2,
  });
  let lastShown = 0;
  const connect = async (): Promise<ChannelUser> => ({
    say: async (text): Promise<Told> => {
      const id = fake.userSays(text);
      const answer = await fake.nextWhere(
        (e) =>
          (e.kind === 'reaction' && e.messageId === id) ||
          (e.kind === 'message' && e.replyTo === id),
      );
      return answer.kind === 'reaction'
        ? { stored: true }
        : { refused: (answer as Extract<TelegramEvent, { kind: 'message' }>).text };
    },
    post: async (text) => void fake.userSays(text),
    nextShown: async (): Promise<Shown> => {
      const shown = await fake.next('message');
      lastShown = shown.messageId;
      return {
        text: shown.text,
        actions: shown.buttons.flat().map((b) => ({ id: b.callback_data, label: b.text })),
        attachments: shown.files.map((f) => ({ name: f.name, mime: f.mime, bytes: f.bytes })),
      };
    },
    nextEdit: async () => {
      const edit = await fake.next('edit');
      return { id: String(edit.messageId), text: edit.text };
    },
    nextTyping: async () => void (await fake.next('typing')),
    click: async (actionId): Promise<Told> => {
      const queryId = fake.userClicks(lastShown, actionId);
      const answer = await fake.next('answer', (e) => e.callbackQueryId === queryId);
      return answer.showAlert ? { refused: answer.text ?? '' } : { stored: true };
    },
    close: async () => undefined,
  });
  return {
    channel,
    chatId: String(fake.chatId),
    connect,
    isClosed: async () => {
      await fake.allClosed();
      return fake.openSockets === 0;
    },
  };
});
