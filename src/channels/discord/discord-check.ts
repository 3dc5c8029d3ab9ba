import { REST, Routes } from 'discord.js';
import type { ChannelCheck } from '../registry.js';

/**
 * Whether Discord takes the bot token (GET /users/@me), for `doctor`. Never throws: a
 * refused token and an unreachable platform are each one line the owner can act on.
 */
export async function checkDiscord(
  token: string,
  apiUrl: string,
  signal: AbortSignal,
): Promise<ChannelCheck> {
  const rest = new REST({ api: apiUrl, retries: 0 }).setToken(token);
  try {
    const me = (await rest.get(Routes.user(), { signal })) as { username?: unknown };
    const name = typeof me.username === 'string' ? me.username.slice(0, 64) : 'unknown';
    return { ok: true, detail: `token accepted (bot ${name})` };
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    if (status === 401) {
      return {
        ok: false,
        detail:
          'Discord refused DISCORD_BOT_TOKEN: copy a fresh token from the Developer Portal (Bot → Reset Token)',
      };
    }
    const detail = err instanceof Error ? err.message.slice(0, 200) : String(err).slice(0, 200);
    return { ok: false, detail: `Discord could not be reached at ${apiUrl} (${detail})` };
  } finally {
    rest.clearHashSweeper();
    rest.clearHandlerSweeper();
  }
}
