import pino from 'pino';
import { afterEach } from 'vitest';
import { DiscordChannel } from '../../src/channels/discord/discord-channel.js';
import { FakeDiscord, type DiscordEvent } from '../support/fake-discord.js';
import { channelContract, type ChannelUser, type Shown, type Told } from './channel.contract.js';

const TOKEN = 'fake-bot-token-for-the-contract';
let fakes: FakeDiscord[] = [];
afterEach(async () => {
  await Promise.all(fakes.map((f) => f.stop()));
  fakes = [];
});

channelContract('discord (fake Discord REST + Gateway on 127.0.0.1)', async () => {
  const fake = await FakeDiscord.start(TOKEN);
  fakes.push(fake);
  const channel = new DiscordChannel({
    token: TOKEN,
    apiUrl: fake.apiUrl,
    log: pino({ level: 'silent' }),
  });
  let lastShownId = '';
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
        : { refused: (answer as Extract<DiscordEvent, { kind: 'message' }>).content };
    },
    post: async (text) => void fake.userSays(text),
    nextShown: async (): Promise<Shown> => {
      const shown = await fake.next('message');
      lastShownId = shown.id;
      return {
        text: shown.content,
        actions: shown.components.flatMap((row) =>
          row.components.map((b) => ({ id: b.custom_id, label: b.label })),
        ),
        attachments: shown.files,
      };
    },
    nextEdit: async () => {
      const edit = await fake.next('edit');
      return { id: edit.id, text: edit.content };
    },
    nextTyping: async () => void (await fake.next('typing')),
    click: async (actionId): Promise<Told> => {
      const interactionId = fake.click(lastShownId, actionId);
      const callback = await fake.next('callback', (e) => e.interactionId === interactionId);
      // 6 = DEFERRED_UPDATE_MESSAGE (taken, nothing to say); 4 = a message with the reason.
      return callback.type === 6 ? { stored: true } : { refused: callback.content ?? '' };
    },
    close: async () => undefined,
  });
  return {
    channel,
    chatId: fake.textChannelId,
    connect,
    isClosed: async () => {
      await fake.gatewayClosed();
      return fake.gatewaySockets === 0;
    },
  };
});
