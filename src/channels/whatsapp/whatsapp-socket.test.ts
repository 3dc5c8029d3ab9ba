import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * connectBaileys itself needs WhatsApp's servers, so no test runs it; this checks offline
 * that the Baileys it adapts has what it calls, and keeps keys where it is told.
 */
describe('the Baileys that connectBaileys adapts', () => {
  it('has the socket, the key store and the media download it calls', async () => {
    const baileys = await import('@whiskeysockets/baileys');

    expect(typeof baileys.makeWASocket).toBe('function');
    expect(typeof baileys.downloadMediaMessage).toBe('function');
    expect(baileys.DisconnectReason.loggedOut).toBe(401);
    expect(baileys.DisconnectReason.restartRequired).toBe(515);
  });

  it('keeps the keys in the folder it is given, as creds.json', async () => {
    const { useMultiFileAuthState } = await import('@whiskeysockets/baileys');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-wa-keys-'));
    try {
      const { state, saveCreds } = await useMultiFileAuthState(dir);
      await saveCreds();

      expect(fs.existsSync(path.join(dir, 'creds.json'))).toBe(true);
      expect(state.creds.registered).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
