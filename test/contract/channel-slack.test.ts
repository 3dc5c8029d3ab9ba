import pino from 'pino';
import { afterEach } from 'vitest';
import { SlackChannel } from '../../src/channels/slack/slack-channel.js';
import { FakeSlack, type SlackButton } from '../support/fake-slack.js';
import { channelContract, type ChannelUser, type Shown, type Told } from './channel.contract.js';

const BOT_TOKEN = 'xoxb-fake-bot-token-for-the-contract';
const APP_TOKEN = 'xapp-fake-app-token-for-the-contract';
let fakes: FakeSlack[] = [];
afterEach(async () => {
  await Promise.all(fakes.map((f) => f.stop()));
  fakes = [];
});

channelContract('slack (fake Slack Web API + Socket Mode on 127.0.0.1)', async () => {
  const fake = await FakeSlack.start(BOT_TOKEN, APP_TOKEN);
  fakes.push(fake);
  const channel = new SlackChannel({
    botToken: BOT_TOKEN,
    appToken: APP_TOKEN,
    apiUrl: fake.apiUrl,
    log: pino({ level: 'silent' }),
    maxAttachmentBytes: 1024 * 1024,
  });
  let lastShown: { ts: string; buttons: SlackButton[] } = { ts: '', buttons: [] };
  const connect = async (): Promise<ChannelUser> => ({
    say: async (text): Promise<Told> => {
      const { ts } = fake.userSays(text);
      const answer = await fake.nextWhere(
        (e) =>
          (e.kind === 'reaction' && e.ts === ts) || (e.kind === 'message' && e.threadTs === ts),
      );
      return answer.kind === 'reaction'
        ? { stored: true }
        : { refused: answer.kind === 'message' ? answer.text : '' };
    },
    post: async (text) => void fake.userSays(text),
    nextShown: async (): Promise<Shown> => {
      const shown = await fake.next('message');
      lastShown = { ts: shown.ts, buttons: shown.buttons };
      // send() resolves after its files are uploaded, so they are already here.
      const uploads = fake.drain('upload', (u) => u.channel === shown.channel);
      return {
        text: shown.text,
        actions: shown.buttons.map((b) => ({ id: b.value ?? '', label: b.text.text })),
        attachments: uploads.flatMap((u) => u.files),
      };
    },
    nextEdit: async () => {
      const edit = await fake.next('edit');
      return { id: edit.ts, text: edit.text };
    },
    nextTyping: async () => {
      throw new Error('slack declares no typing indicator');
    },
    click: async (actionId): Promise<Told> => {
      const button = lastShown.buttons.find((b) => b.value === actionId);
      const envelopeId = fake.userClicks(lastShown.ts, button?.action_id ?? 'nc-9', actionId);
      await fake.next('ack', (a) => a.envelopeId === envelopeId);
      // A refusal is posted before the click is acknowledged (the host answered in time).
      const [refusal] = fake.drain('ephemeral', (e) => e.user === fake.owner.id);
      return refusal ? { refused: refusal.text } : { stored: true };
    },
    close: async () => undefined,
  });
  return {
    channel,
    chatId: fake.channelId,
    connect,
    isClosed: async () => {
      await fake.socketsClosed();
      return fake.openSockets === 0;
    },
  };
});
