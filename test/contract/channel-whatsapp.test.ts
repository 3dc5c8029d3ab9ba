import pino from 'pino';
import { WhatsAppChannel } from '../../src/channels/whatsapp/whatsapp-channel.js';
import { FakeWhatsApp } from '../support/fake-whatsapp.js';
import { channelContract, type ChannelUser, type Shown, type Told } from './channel.contract.js';

channelContract('whatsapp (the channel over a fake Baileys socket)', async () => {
  const fake = new FakeWhatsApp();
  const channel = new WhatsAppChannel({
    connect: fake.connect,
    log: pino({ level: 'silent' }),
    maxAttachmentBytes: 1024 * 1024,
    startTimeoutMs: 5000,
  });
  const connect = async (): Promise<ChannelUser> => ({
    say: async (text): Promise<Told> => {
      const id = fake.userSays(text);
      const answer = await fake.nextWhere(
        (e) =>
          (e.kind === 'react' && e.messageId === id) || (e.kind === 'text' && e.quotedId === id),
      );
      return answer.kind === 'react'
        ? { stored: true }
        : { refused: answer.kind === 'text' ? answer.text : '' };
    },
    post: async (text) => void fake.userSays(text),
    nextShown: async (): Promise<Shown> => {
      const text = await fake.next('text');
      // A message with files is its text, then one message per file (an image's caption names it).
      const attachments = [];
      for (const file of fake.pending().filter((e) => e.kind === 'file')) {
        const f = await fake.next('file', (e) => e.id === file.id);
        attachments.push({ name: f.name ?? f.caption ?? '', mime: f.mime, bytes: f.bytes });
      }
      return { text: text.text, actions: [], attachments };
    },
    nextEdit: async () => {
      const edit = await fake.next('edit');
      return { id: edit.id, text: edit.text };
    },
    nextTyping: async () => void (await fake.next('presence', (e) => e.presence === 'composing')),
    click: async () => {
      throw new Error('whatsapp declares no actions');
    },
    close: async () => undefined,
  });
  return {
    channel,
    chatId: fake.ownerJid,
    connect,
    isClosed: async () => fake.openSockets === 0,
  };
});
