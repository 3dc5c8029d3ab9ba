import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DISCONNECT, FakeWhatsApp } from '../../test/support/fake-whatsapp.js';
import { checkWhatsApp } from '../channels/whatsapp/whatsapp-check.js';
import type { WhatsAppSocket } from '../channels/whatsapp/whatsapp-socket.js';
import { whatsappCommand, type LinkDeps } from './whatsapp-link.js';

function sink() {
  let text = '';
  return { write: (s: string) => void (text += s), text: () => text };
}

describe('nanocell whatsapp link', () => {
  let dir: string;
  let authDir: string;
  let fake: FakeWhatsApp;
  let out: ReturnType<typeof sink>;
  let err: ReturnType<typeof sink>;
  let dirsSeen: string[];
  let deps: LinkDeps;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-wa-link-'));
    authDir = path.join(dir, 'owner-config', 'whatsapp');
    fake = new FakeWhatsApp();
    out = sink();
    err = sink();
    dirsSeen = [];
    deps = {
      authDir,
      out,
      err,
      // As useMultiFileAuthState does: each key update is saved into the folder it was given.
      connect: async (into): Promise<WhatsAppSocket> => {
        dirsSeen.push(into);
        const socket = await fake.connect();
        socket.on('creds.update', (creds) =>
          fs.writeFileSync(path.join(into, 'creds.json'), JSON.stringify(creds)),
        );
        return socket;
      },
    };
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([
    [[], 'expected "whatsapp link"'],
    [['pair'], 'not "whatsapp pair"'],
    [['link', 'extra'], 'expected "whatsapp link"'],
    [['link', '--phone', 'my number'], '--phone is your number with its country code'],
    [['link', '--timeout', '5'], '--timeout is a whole number of seconds from 10 to 600'],
    [['link', '--bogus'], "Unknown option '--bogus'"],
  ])('refuses %j with usage, touching nothing', async (args, problem) => {
    const code = await whatsappCommand(args, deps);

    expect(code).toBe(2);
    expect(err.text()).toContain(problem);
    expect(err.text()).toContain('usage: nanocell whatsapp link');
    expect(fake.connects).toBe(0);
    expect(fs.existsSync(path.dirname(authDir))).toBe(false);
  });

  it('shows the code with the instructions, and keeps the keys (0700) once the phone scanned it', async () => {
    fake.refuseNext.push('qr');

    const linking = whatsappCommand(['link'], deps);
    await vi.waitFor(() => expect(out.text()).toContain('2@fakeQrRef,key=='));
    const staging = dirsSeen[0]!;
    expect(fs.statSync(staging).mode & 0o777).toBe(0o700);
    expect(fs.existsSync(authDir)).toBe(false);
    fake.scan();

    expect(await linking).toBe(0);
    expect(out.text()).toContain('WhatsApp → Settings → Linked devices → Link a device');
    expect(out.text()).toContain('WhatsApp is linked as +447700900123');
    expect(fake.connects).toBe(2);
    expect(fake.openSockets).toBe(0);
    expect(fs.statSync(authDir).mode & 0o777).toBe(0o700);
    expect(fs.existsSync(staging)).toBe(false);
    expect(checkWhatsApp(authDir)).toEqual({
      ok: true,
      detail: 'linked as +447700900123 (keys not tried until start)',
    });
  });

  it('prints an 8-character code to type with --phone, asked for once', async () => {
    fake.refuseNext.push('qr');

    const linking = whatsappCommand(['link', '--phone', '+44 7700 900123'], deps);
    await vi.waitFor(() => expect(out.text()).toContain('Pairing code: FAKE-1234'));
    fake.scan();

    expect(await linking).toBe(0);
    expect(out.text()).toContain('Link with phone number instead');
    expect(out.text()).not.toContain('2@fakeQrRef');
  });

  it('gives up after --timeout with what to do, leaving nothing behind', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      fake.refuseNext.push('qr');
      const linking = whatsappCommand(['link', '--timeout', '10'], deps);
      await vi.waitFor(() => expect(out.text()).toContain('2@fakeQrRef'));
      await vi.advanceTimersByTimeAsync(10_000);

      expect(await linking).toBe(1);
    } finally {
      vi.useRealTimers();
    }
    expect(err.text()).toContain('no phone linked within 10 s: run nanocell whatsapp link again');
    expect(fs.existsSync(authDir)).toBe(false);
    expect(fs.existsSync(`${authDir}.linking`)).toBe(false);
    expect(fake.openSockets).toBe(0);
  });

  it('says so when WhatsApp refuses the link', async () => {
    fake.refuseNext.push({ code: DISCONNECT.loggedOut });

    expect(await whatsappCommand(['link'], deps)).toBe(1);
    expect(err.text()).toContain('WhatsApp refused the link');
    expect(fs.existsSync(authDir)).toBe(false);
  });

  it('does not link over an existing link', async () => {
    fs.mkdirSync(authDir, { recursive: true });
    fs.writeFileSync(
      path.join(authDir, 'creds.json'),
      JSON.stringify({ me: { id: '447700900777:2@s.whatsapp.net' } }),
    );

    expect(await whatsappCommand(['link'], deps)).toBe(1);
    expect(err.text()).toContain('already linked as +447700900777');
    expect(fake.connects).toBe(0);
  });
});

describe('the offline WhatsApp check', () => {
  it('says what is wrong with the saved keys', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-wa-check-'));
    try {
      expect(checkWhatsApp(dir)).toMatchObject({
        ok: false,
        detail: expect.stringContaining('run nanocell whatsapp link'),
      });
      fs.writeFileSync(path.join(dir, 'creds.json'), '{not json');
      expect(checkWhatsApp(dir)).toMatchObject({
        ok: false,
        detail: expect.stringContaining('is not JSON'),
      });
      fs.writeFileSync(path.join(dir, 'creds.json'), '{"noiseKey":{}}');
      expect(checkWhatsApp(dir)).toMatchObject({
        ok: false,
        detail: expect.stringContaining('names no linked phone'),
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
