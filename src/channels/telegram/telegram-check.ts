import http from 'node:http';
import https from 'node:https';
import { Api, GrammyError } from 'grammy';
import type { ChannelCheck } from '../registry.js';
import { safeProblem } from './telegram-problem.js';
import { apiSignal } from './telegram-signal.js';

/**
 * Whether Telegram takes the bot token (getMe), for `doctor`. Never throws: a refused token
 * and an unreachable API are each one line the owner can act on, without the token in it.
 */
export async function checkTelegram(
  token: string,
  apiRoot: string,
  signal: AbortSignal,
): Promise<ChannelCheck> {
  const agent = apiRoot.startsWith('https:') ? new https.Agent() : new http.Agent();
  const api = new Api(token, { apiRoot, baseFetchConfig: { agent } });
  try {
    const me = await api.getMe(apiSignal(signal));
    const name = typeof me.username === 'string' ? me.username.slice(0, 64) : 'unknown';
    return { ok: true, detail: `token accepted (bot @${name})` };
  } catch (err) {
    if (err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404)) {
      return {
        ok: false,
        detail: 'Telegram refused TELEGRAM_BOT_TOKEN: ask @BotFather for a fresh one (/token)',
      };
    }
    return {
      ok: false,
      detail: `Telegram could not be reached at ${apiRoot} (${safeProblem(err, token)})`,
    };
  } finally {
    agent.destroy();
  }
}
