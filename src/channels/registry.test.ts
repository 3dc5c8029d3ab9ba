import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { KNOWN_CHANNELS, knownChannel, parseChatAddress } from './registry.js';

const TOKEN = '123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ_abc-def';

describe('parseChatAddress', () => {
  it.each([
    ['telegram:123456789', 'telegram', '123456789'],
    ['telegram:-1001234567890', 'telegram', '-1001234567890'],
    ['web:family', 'web', 'family'],
    ['slack:C0123456789', 'slack', 'C0123456789'],
    ['discord:1234567890123456789', 'discord', '1234567890123456789'],
  ])('accepts %s', (text, channel, chatId) => {
    expect(parseChatAddress(text)).toEqual({ ok: true, channel, chatId });
  });

  it('refuses an unknown channel and lists the known ones', () => {
    const result = parseChatAddress('telegarm:123');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toContain('unknown channel "telegarm"');
    for (const c of KNOWN_CHANNELS) expect(result.reason).toContain(c.name);
  });

  it.each([
    ['telegram:@family', 'telegram:<chat id'],
    ['telegram:12ab', 'telegram:<chat id'],
    ['slack:general', 'slack:<channel id'],
    ['discord:42', 'discord:<channel id'],
    ['web:', 'web:<chat name'],
  ])('refuses the malformed chat id in %s with the expected form', (text, form) => {
    const result = parseChatAddress(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(`expected ${form}`);
  });

  it('refuses text without a channel and shows the form', () => {
    const result = parseChatAddress('123456');
    expect(result).toMatchObject({ ok: false });
    if (!result.ok) expect(result.reason).toContain('CHANNEL:CHAT_ID');
  });

  it('echoes hostile input as one printable line', () => {
    const result = parseChatAddress(`telegram:1\u001b[2J\n${'x'.repeat(500)}`);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect([...result.reason].every((ch) => ch >= ' ' && ch <= '~')).toBe(true);
    expect(result.reason.length).toBeLessThan(200);
  });
});

describe('channel states', () => {
  it('turns a platform channel off while its credentials are absent, naming what to set', () => {
    const config = loadConfig({});
    for (const name of ['telegram', 'slack', 'discord']) {
      const state = knownChannel(name)!.state(config);
      expect(state.on).toBe(false);
    }
    expect(knownChannel('telegram')!.state(config).detail).toContain('TELEGRAM_BOT_TOKEN');
    expect(knownChannel('slack')!.state(config).detail).toContain('SLACK_APP_TOKEN');
  });

  it('turns Telegram on with a token, naming the API it talks to', () => {
    const config = loadConfig({
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: 'http://127.0.0.1:9/',
    });
    expect(knownChannel('telegram')!.state(config)).toEqual({
      on: true,
      detail: 'bot API at http://127.0.0.1:9',
    });
  });

  it('knows a Telegram private chat (positive id, the sender itself) from a group', () => {
    const telegram = knownChannel('telegram')!;
    expect(telegram.isDirectChat('42', '42')).toBe(true);
    expect(telegram.isDirectChat('-100042', '42')).toBe(false);
    expect(telegram.isDirectChat('43', '42')).toBe(false);
  });
});
