import { FakeChannel } from '../support/fake-channel.js';
import { channelContract, type ChannelUser, type Told } from './channel.contract.js';

const told = (r: { status: string; reason?: string }): Told =>
  r.status === 'stored' ? { stored: true } : { refused: r.reason ?? '' };

for (const [label, capabilities] of [
  ['every capability', {}],
  ['plain text only', { edit: false, actions: false, attachments: false, typing: false }],
] as const) {
  channelContract(`FakeChannel (${label})`, async () => {
    const channel = new FakeChannel('fake', capabilities);
    const connect = async (): Promise<ChannelUser> => ({
      say: async (text) => told(await channel.say('chat-1', text)),
      post: async (text) => void (await channel.say('chat-1', text)),
      nextShown: async () => {
        const { message } = await channel.nextSent();
        return {
          text: message.text,
          actions: message.actions ?? [],
          attachments: (message.attachments ?? []).map((a) => ({ ...a })),
        };
      },
      nextEdit: async () => {
        const { id, text } = await channel.nextEdit();
        return { id, text };
      },
      nextTyping: async () => void (await channel.nextTyping()),
      click: async (actionId) => told(await channel.click('chat-1', actionId)),
      close: async () => undefined,
    });
    return { channel, chatId: 'chat-1', connect, isClosed: async () => !channel.isRunning };
  });
}
