import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ChannelUnsupportedError,
  type Action,
  type Channel,
  type ChannelHandlers,
  type InboundAction,
  type InboundMessage,
} from '../../src/channels/channel.js';
import { makeAttachment } from '../../src/channels/attachment.js';
import { fitToChannel } from '../../src/channels/fit-to-channel.js';

/** What the channel's user was told after writing or clicking. */
export type Told = { stored: true } | { refused: string };

export interface Shown {
  text: string;
  actions: Action[];
  attachments: Array<{ name: string; mime: string; bytes: Buffer }>;
}

/** The person on the other side of the channel, driven through the platform's own surface. */
export interface ChannelUser {
  say(text: string): Promise<Told>;
  /** Writes without waiting for any answer (for messages the host ignores). */
  post(text: string): Promise<void>;
  /** The next message the user sees in the chat. */
  nextShown(): Promise<Shown>;
  /** Only asked when the channel declares `edit`. */
  nextEdit(): Promise<{ id: string; text: string }>;
  /** Only asked when the channel declares `typing`. */
  nextTyping(): Promise<void>;
  /** Only asked when the channel declares `actions`. */
  click(actionId: string): Promise<Told>;
  close(): Promise<void>;
}

export interface ChannelUnderTest {
  channel: Channel;
  /** The chat the user writes in and the host sends to. */
  chatId: string;
  /** The user, once the channel has started. */
  connect(): Promise<ChannelUser>;
  /** After stop: resolves true once nothing of the channel is open any more. */
  isClosed(): Promise<boolean>;
}

/** The host side: stores (numbered) or refuses with `refuseWith`. */
class FakeHost {
  readonly messages: InboundMessage[] = [];
  readonly actions: InboundAction[] = [];
  readonly ignored: InboundMessage[] = [];
  refuseWith: string | null = null;
  ignoreAll = false;
  private nextId = 100;

  readonly handlers: ChannelHandlers = {
    onMessage: async (message) => {
      if (this.ignoreAll) {
        this.ignored.push(message);
        return { status: 'ignored' };
      }
      if (this.refuseWith) return { status: 'refused', reason: this.refuseWith };
      this.messages.push(message);
      return { status: 'stored', id: this.nextId++ };
    },
    onAction: async (action) => {
      if (this.refuseWith) return { status: 'refused', reason: this.refuseWith };
      this.actions.push(action);
      return { status: 'stored', id: this.nextId++ };
    },
  };
}

const BUTTONS: Action[] = [
  { id: 'yes K3F9', label: 'Approve' },
  { id: 'no K3F9', label: 'Deny' },
];

/**
 * The Channel contract: what the host relies on whatever the platform. Every channel runs
 * it (terminal, web, the fake, and each platform channel against its fake peer). What a
 * channel does not declare in `capabilities` is checked as declared-unsupported and
 * degraded by the host.
 */
export function channelContract(name: string, make: () => Promise<ChannelUnderTest>): void {
  describe(`Channel contract: ${name}`, () => {
    let host: FakeHost;
    let sut: ChannelUnderTest;
    let user: ChannelUser;
    let stopped = false;

    beforeEach(async () => {
      host = new FakeHost();
      stopped = false;
      sut = await make();
      await sut.channel.start(host.handlers);
      user = await sut.connect();
    });
    afterEach(async () => {
      await user?.close();
      if (!stopped) await sut?.channel.stop();
    });

    it('hands a message to onMessage and tells the user it was stored', async () => {
      const told = await user.say('hello there');

      expect(told).toEqual({ stored: true });
      expect(host.messages).toEqual([
        expect.objectContaining({
          channel: sut.channel.name,
          chatId: sut.chatId,
          text: 'hello there',
        }),
      ]);
      expect(host.messages[0]!.sender).toMatch(/\S/);
    });

    it('tells the user the reason when the host refuses a message', async () => {
      host.refuseWith = 'chat x is not bound to any group';

      const told = await user.say('anyone there?');

      expect(told).toEqual({
        refused: expect.stringContaining('chat x is not bound to any group'),
      });
      expect(host.messages).toEqual([]);
    });

    it('says nothing back to a message the host ignores (a chat bound to no group)', async () => {
      host.ignoreAll = true;

      await user.post('who is this?');
      await vi.waitFor(() => expect(host.ignored).toHaveLength(1), { timeout: 10_000 });
      // A wrong answer would be on its way by now; what the user sees next must be ours.
      await new Promise((resolve) => setTimeout(resolve, 150));
      await sut.channel.send(sut.chatId, { text: 'the next message' });

      expect((await user.nextShown()).text).toContain('the next message');
      expect(host.messages).toEqual([]);
    });

    it('shows what send() delivers and returns a distinct handle per message', async () => {
      const first = await sut.channel.send(sut.chatId, { text: 'dinner at 7' });
      expect((await user.nextShown()).text).toContain('dinner at 7');
      const second = await sut.channel.send(sut.chatId, { text: 'line one\nline two' });
      expect((await user.nextShown()).text).toContain('line one\nline two');

      expect(typeof first.id).toBe('string');
      expect(second.id).not.toBe(first.id);
    });

    it('edits a sent message in place, or declares it cannot', async () => {
      const sent = await sut.channel.send(sut.chatId, { text: 'thinking' });
      await user.nextShown();

      if (!sut.channel.capabilities.edit) {
        await expect(sut.channel.edit(sut.chatId, sent, 'done')).rejects.toBeInstanceOf(
          ChannelUnsupportedError,
        );
        return;
      }
      await sut.channel.edit(sut.chatId, sent, 'thinking... done');
      expect(await user.nextEdit()).toEqual({ id: sent.id, text: 'thinking... done' });
    });

    it('round-trips an action id from a button, or shows the reply to type instead', async () => {
      const message = fitToChannel(sut.channel.capabilities, {
        text: 'May I run bash?',
        actions: BUTTONS,
      });
      await sut.channel.send(sut.chatId, message);
      const shown = await user.nextShown();

      if (!sut.channel.capabilities.actions) {
        expect(message.actions).toBeUndefined();
        expect(shown.text).toContain('reply "yes K3F9" (Approve) or "no K3F9" (Deny)');
        return;
      }
      expect(shown.actions).toEqual(BUTTONS);
      expect(await user.click('no K3F9')).toEqual({ stored: true });
      expect(host.actions).toEqual([
        expect.objectContaining({
          channel: sut.channel.name,
          chatId: sut.chatId,
          actionId: 'no K3F9',
        }),
      ]);
    });

    it('refuses a click on a button it never showed', async () => {
      if (!sut.channel.capabilities.actions) return;
      await sut.channel.send(sut.chatId, { text: 'pick one', actions: BUTTONS });
      await user.nextShown();

      const told = await user.click('yes FORGED');

      expect(told).toMatchObject({ refused: expect.any(String) });
      expect(host.actions).toEqual([]);
    });

    it('delivers an attachment byte for byte, or names it in the text', async () => {
      const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0x0a, 0x0d]);
      const made = makeAttachment('chart.png', 'image/png', bytes);
      if (!made.ok) throw new Error(made.reason);
      const message = fitToChannel(sut.channel.capabilities, {
        text: 'here is the chart',
        attachments: [made.attachment],
      });
      await sut.channel.send(sut.chatId, message);
      const shown = await user.nextShown();

      if (!sut.channel.capabilities.attachments) {
        expect(shown.text).toContain('chart.png (image/png, 8 B)');
        return;
      }
      expect(shown.attachments).toEqual([{ name: 'chart.png', mime: 'image/png', bytes }]);
    });

    it('shows a typing indicator, or declares it cannot', async () => {
      if (!sut.channel.capabilities.typing) {
        await expect(sut.channel.typing(sut.chatId)).rejects.toBeInstanceOf(
          ChannelUnsupportedError,
        );
        return;
      }
      await sut.channel.typing(sut.chatId);
      await expect(user.nextTyping()).resolves.toBeUndefined();
    });

    it('stops cleanly: nothing left open, and a second stop is harmless', async () => {
      await user.close();
      await sut.channel.stop();
      stopped = true;

      expect(await sut.isClosed()).toBe(true);
      await expect(sut.channel.stop()).resolves.toBeUndefined();
    });
  });
}
