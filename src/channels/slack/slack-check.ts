import pino from 'pino';
import type { ChannelCheck } from '../registry.js';
import {
  APP_TOKEN_FIX,
  BOT_TOKEN_FIX,
  describeError,
  isRefusedToken,
  webClient,
} from './slack-web.js';

/**
 * Whether Slack takes both tokens (auth.test with the bot token, apps.connections.open with
 * the app token), for `doctor`. Never throws: a refused
 * token and an unreachable platform are each one line the owner can act on.
 */
export async function checkSlack(
  tokens: { botToken: string; appToken: string },
  apiUrl: string,
  signal: AbortSignal,
): Promise<ChannelCheck> {
  const silent = pino({ level: 'silent' });
  const client = webClient(tokens.botToken, apiUrl, silent, 10_000);
  const app = webClient(tokens.appToken, apiUrl, silent, 10_000);
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(new Error('the check was cut short'));
    signal.addEventListener('abort', () => reject(new Error('the check was cut short')), {
      once: true,
    });
  });
  try {
    const me = await Promise.race([client.auth.test(), aborted]);
    const bot = typeof me.user === 'string' ? me.user.slice(0, 64) : 'unknown';
    const team = typeof me.team === 'string' ? me.team.slice(0, 64) : 'unknown team';
    // A connection URL is only handed out, not used: it expires unopened.
    const opened = await Promise.race([app.apps.connections.open({}), aborted]).catch(
      (err: unknown) => err,
    );
    if (opened instanceof Error) {
      return {
        ok: false,
        detail: isRefusedToken(opened)
          ? `bot @${bot} in ${team}, but Slack refused SLACK_APP_TOKEN (${describeError(opened)}): ${APP_TOKEN_FIX}`
          : `bot @${bot} in ${team}, but Socket Mode did not open (${describeError(opened)}): turn on Socket Mode in the app's settings`,
      };
    }
    return { ok: true, detail: `token accepted (bot @${bot} in ${team})` };
  } catch (err) {
    if (isRefusedToken(err)) {
      return {
        ok: false,
        detail: `Slack refused SLACK_BOT_TOKEN (${describeError(err)}): ${BOT_TOKEN_FIX}`,
      };
    }
    return {
      ok: false,
      detail: `Slack could not be reached at ${apiUrl} (${describeError(err)})`,
    };
  }
}
