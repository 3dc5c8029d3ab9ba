import { WebChannel } from '../../src/channels/web/web-channel.js';
import { openEvents, request } from '../support/web-client.js';
import { channelContract, type ChannelUser, type Shown, type Told } from './channel.contract.js';

const TOKEN = 'owner-token-for-the-contract';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

channelContract('web', async () => {
  const channel = new WebChannel({ port: 0, ownerToken: TOKEN, history: () => [] });
  const port = () => Number(new URL(channel.url).port);
  let events: Awaited<ReturnType<typeof openEvents>> | undefined;
  const post = async (path: string, body: unknown): Promise<Told> => {
    const res = await request(
      port(),
      'POST',
      `/api/chats/family${path}`,
      auth,
      JSON.stringify(body),
    );
    const parsed = JSON.parse(res.body) as { error?: string };
    return res.status === 202
      ? { stored: true }
      : { refused: parsed.error ?? `HTTP ${res.status}` };
  };
  const connect = async (): Promise<ChannelUser> => {
    const stream = await openEvents(port(), '/api/events', auth);
    events = stream;
    await stream.connected;
    return {
      say: (text) => post('/messages', { text }),
      post: async (text) => void (await post('/messages', { text })),
      nextShown: async (): Promise<Shown> => {
        const { data } = await stream.next('message');
        const files = (data.attachments ?? []) as Array<{
          name: string;
          mime: string;
          url: string;
        }>;
        const attachments = await Promise.all(
          files.map(async (f) => {
            const res = await request(port(), 'GET', f.url, auth);
            return { name: f.name, mime: f.mime, bytes: res.bytes };
          }),
        );
        return {
          text: data.text as string,
          actions: (data.actions ?? []) as Shown['actions'],
          attachments,
        };
      },
      nextEdit: async () => {
        const { data } = await stream.next('edit');
        return { id: data.id as string, text: data.text as string };
      },
      nextTyping: async () => void (await stream.next('typing')),
      click: (actionId) => post('/actions', { actionId }),
      close: async () => stream.close(),
    };
  };
  return {
    channel,
    chatId: 'family',
    connect,
    isClosed: async () => {
      await events?.ended;
      try {
        await request(port(), 'GET', '/', {});
        return false;
      } catch (err) {
        return /ECONNREFUSED/.test(String(err));
      }
    },
  };
});
