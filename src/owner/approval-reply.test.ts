import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostEvent } from '../control/host-events.js';
import { Approvals } from '../policy/approvals.js';
import { Store } from '../store/store.js';
import { approvalReplyHandler } from './approval-reply.js';

describe('approval replies', () => {
  let store: Store;
  let approvals: Approvals;
  let sent: Array<{ channel: string; chatId: string; text: string }>;
  let events: HostEvent[];
  let told: Array<{ text: string; skipsWebOwner: boolean; skipsTerminal: boolean }>;
  const handler = () =>
    approvalReplyHandler({
      approvals,
      owner: {
        notify: (text, except) => {
          const skip = typeof except === 'function' ? except : () => false;
          told.push({
            text,
            skipsWebOwner: skip({ channel: 'web', chatId: 'owner' }),
            skipsTerminal: skip({ channel: 'terminal', chatId: 'main' }),
          });
          return [];
        },
      },
      outbox: {
        send: (_g, channel, chatId, text) => sent.push({ channel, chatId, text }),
      },
      assistantName: 'Andy',
      events: (e) => events.push(e),
    });

  beforeEach(() => {
    store = Store.open(':memory:');
    approvals = new Approvals({ store: store.approvals, ttlMs: 60_000 });
    sent = [];
    events = [];
    told = [];
  });
  afterEach(() => store.close());

  const ask = () =>
    approvals.requestApproval({ groupName: 'family', tool: 'bash', input: { command: 'ls' } })
      .approval;
  const admin = () => store.groups.admin() ?? store.groups.create({ name: 'main', isAdmin: true });
  const family = () =>
    store.groups.byName('family') ?? store.groups.create({ name: 'family', isAdmin: false });
  const msg = (channel: string, chatId: string, text: string) => ({
    channel,
    chatId,
    sender: 'owner',
    senderName: 'owner',
    text,
  });

  it("honours the owner's yes from a terminal chat of another group, and answers in that chat", () => {
    const { code } = ask();
    const outcome = handler()(family(), msg('terminal', 'family', `yes ${code.toLowerCase()}`));
    expect(outcome).toMatchObject({ ok: true, reply: `Approved: bash for family (${code}).` });
    expect(sent).toEqual([
      { channel: 'terminal', chatId: 'family', text: `Approved: bash for family (${code}).` },
    ]);
    // The owner's other surfaces (not the terminals, which show the reply) hear it was answered.
    expect(told).toEqual([
      {
        text: `Answered on terminal: Approved: bash for family (${code}).`,
        skipsWebOwner: false,
        skipsTerminal: true,
      },
    ]);
    expect(events).toEqual([
      {
        type: 'approval_answered',
        group: 'family',
        tool: 'bash',
        code,
        answer: 'yes',
        via: 'terminal:family',
      },
    ]);
  });

  it('counts an answer once: a second answer from another surface is told it was answered', () => {
    const { code } = ask();
    handler()(admin(), msg('web', 'owner', `no ${code}`));
    const second = handler()(admin(), msg('terminal', 'main', `yes ${code}`));
    expect(second).toMatchObject({ reply: `approval ${code} was already answered (no)` });
    expect(events.map((e) => e.type)).toEqual(['approval_answered']);
    expect(told).toHaveLength(1);
  });

  it('ignores a code typed by anyone in a shared web chat: only the owner answers', () => {
    const { code } = ask();
    expect(handler()(family(), msg('web', 'family', `yes ${code}`))).toBeNull();
    expect(store.approvals.byCode(code)?.status).toBe('pending');
    expect(sent).toEqual([]);
  });

  it('leaves every other message to the router, "yes please" included', () => {
    expect(handler()(admin(), msg('web', 'owner', 'yes please'))).toBeNull();
    expect(handler()(admin(), msg('web', 'owner', 'what is ABC234?'))).toBeNull();
  });

  it('tells the owner when a code matches no approval', () => {
    expect(handler()(admin(), msg('terminal', 'main', 'yes ABC234'))).toMatchObject({
      reply: 'there is no approval with code ABC234; check the code in the request',
    });
  });
});
