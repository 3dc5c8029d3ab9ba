import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InboundMessage } from '../channels/channel.js';
import type { Doorkeeper } from '../router/router.js';
import type { Group } from '../store/groups.js';
import { PAIRING_CODE_TTL_MS } from '../store/owner-accounts.js';
import { Store } from '../store/store.js';
import { ownerDoorkeeper } from './doorkeeper.js';

const OWNER = '111222333';
const STRANGER = '999888777';

const dm = (sender: string, text: string): InboundMessage => ({
  channel: 'telegram',
  chatId: sender,
  sender,
  senderName: sender === OWNER ? 'Owner' : 'Mallory',
  text,
});

describe('ownerDoorkeeper', () => {
  let store: Store;
  let admin: Group;
  let family: Group;
  let notices: Array<{ text: string; except?: { channel: string; chatId: string } }>;
  let replies: Array<{ chatId: string; text: string }>;
  let audited: string[];
  let now: Date;
  let door: Doorkeeper;
  const admit = (m: InboundMessage) => door.admit(m, store.groups.forChat(m.channel, m.chatId));

  beforeEach(() => {
    store = Store.open(':memory:');
    admin = store.groups.create({ name: 'main', isAdmin: true });
    family = store.groups.create({ name: 'family', isAdmin: false });
    store.groups.bindChat('telegram', '-100200300', family.id);
    notices = [];
    replies = [];
    audited = [];
    now = new Date('2026-12-03T10:00:00Z');
    door = ownerDoorkeeper({
      store,
      adminGroup: admin,
      notifyOwner: (text, except) => void notices.push({ text, ...(except ? { except } : {}) }),
      reply: (_groupId, _channel, chatId, text) => (replies.push({ chatId, text }), 1),
      audit: { append: (e) => audited.push(JSON.stringify(e)) },
      log: pino({ level: 'silent' }),
      now: () => now,
    });
  });
  afterEach(() => store.close());

  it('ignores a chat bound to no group, storing nothing, and tells the owner once', () => {
    expect(admit(dm(STRANGER, 'hello bot'))).toEqual({ status: 'ignored' });
    expect(admit(dm(STRANGER, 'hello again'))).toEqual({ status: 'ignored' });

    expect(notices).toHaveLength(1);
    expect(notices[0]!.text).toContain(`telegram:${STRANGER} (from Mallory)`);
    expect(notices[0]!.text).toContain(`nanocell groups add NAME --chat telegram:${STRANGER}`);
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM messages').get()).toEqual({ n: 0 });
  });

  it('lets a bound chat through, and leaves the terminal and the web to their own rules', () => {
    expect(admit({ ...dm(STRANGER, 'hi'), chatId: '-100200300' })).toBeNull();
    expect(
      door.admit(
        { channel: 'web', chatId: 'nowhere', sender: 'x', senderName: 'x', text: 'hi' },
        undefined,
      ),
    ).toBeNull();
  });

  it('pairs the sender of the code in a direct chat: owner account, admin chat, notices', async () => {
    const { code } = store.owners.newPairingCode('telegram', now);

    const result = admit(dm(OWNER, `pair ${code.toLowerCase()}`));

    if (result?.status !== 'stored') throw new Error(`not paired: ${JSON.stringify(result)}`);
    await expect(result.run).resolves.toMatchObject({ ok: true });
    expect(store.owners.isOwner('telegram', OWNER)).toBe(true);
    expect(store.groups.forChat('telegram', OWNER)?.id).toBe(admin.id);
    expect(replies).toEqual([{ chatId: OWNER, text: expect.stringMatching(/^Paired: /) }]);
    expect(notices).toEqual([
      {
        text: expect.stringContaining(`Owner (telegram id ${OWNER}) paired as you`),
        except: { channel: 'telegram', chatId: OWNER },
      },
    ]);
    // The code itself is never kept in the history.
    expect(JSON.stringify(store.messages.pendingFor(admin.id, 0))).not.toContain(code);
    expect(audited.join('\n')).toContain(`paired telegram account ${OWNER}`);
    // The owner's account now talks to the admin group like any chat.
    expect(admit(dm(OWNER, 'what is on today?'))).toBeNull();
  });

  it('accepts a code only once, only before it expires, and only in a direct chat', () => {
    const first = store.owners.newPairingCode('telegram', now).code;
    const inGroup = { ...dm(STRANGER, `pair ${first}`), chatId: '-100200300' };
    expect(admit(inGroup)).toBeNull(); // a shared chat: just a message for the family group
    expect(admit(dm(OWNER, `pair ${first}`))?.status).toBe('stored');
    expect(admit(dm(STRANGER, `pair ${first}`))).toEqual({ status: 'ignored' });

    const late = store.owners.newPairingCode('telegram', now).code;
    now = new Date(now.getTime() + PAIRING_CODE_TTL_MS + 1);
    expect(admit(dm(STRANGER, `pair ${late}`))).toEqual({
      status: 'refused',
      reason: expect.stringContaining('expired; run nanocell pair telegram'),
    });
    expect(store.owners.isOwner('telegram', STRANGER)).toBe(false);
  });

  it('gives a guesser a few tries per code, then none', () => {
    const { code } = store.owners.newPairingCode('telegram', now);
    for (let i = 0; i < 5; i++) {
      expect(admit(dm(STRANGER, 'pair WRONG234'))).toMatchObject({ status: 'refused' });
    }
    // The code is used up: even the right one no longer works, and the chat is a stranger's.
    expect(admit(dm(STRANGER, `pair ${code}`))).toEqual({ status: 'ignored' });
    expect(store.owners.isOwner('telegram', STRANGER)).toBe(false);
  });

  it("refuses anyone but the owner's paired account in an admin chat", () => {
    store.groups.bindChat('telegram', '-100555', admin.id);
    const { code } = store.owners.newPairingCode('telegram', now);
    admit(dm(OWNER, `pair ${code}`));

    const fromStranger = { ...dm(STRANGER, 'yes K3F9'), chatId: '-100555' };
    expect(admit(fromStranger)).toEqual({
      status: 'refused',
      reason: expect.stringContaining("only the owner's paired telegram account"),
    });
    expect(admit({ ...dm(OWNER, 'yes K3F9'), chatId: '-100555' })).toBeNull();
  });
});
