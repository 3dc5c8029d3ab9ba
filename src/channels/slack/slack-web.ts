import { webApi } from '@slack/bolt';
import type { Logger } from 'pino';

export type WebClient = InstanceType<typeof webApi.WebClient>;

export const BOT_TOKEN_FIX =
  "copy the Bot User OAuth Token (xoxb-...) from your app's OAuth & Permissions page";
export const APP_TOKEN_FIX =
  'make an app-level token with the connections:write scope (Basic Information → App-Level Tokens) and turn on Socket Mode';

/** Errors Slack gives for a token it does not take. */
const REFUSED = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'not_allowed_token_type',
]);

/**
 * A Web API client for one token: a few quick retries (the SDK's default is ten over half
 * an hour, which would hold a reply or the start-up that long), its log lines into ours.
 * Its debug lines carry request bodies (message text), so they are dropped.
 */
export function webClient(
  token: string,
  apiUrl: string,
  log: Logger,
  timeoutMs = 30_000,
): WebClient {
  return new webApi.WebClient(token, {
    slackApiUrl: apiUrl,
    retryConfig: { retries: 2, factor: 2, minTimeout: 250, maxTimeout: 2000 },
    timeout: timeoutMs,
    logger: sdkLogger(log),
  });
}

/** The platform's error code (`invalid_auth`, `channel_not_found`, ...) if Slack answered one. */
export function slackError(err: unknown): string | undefined {
  const data = (err as { data?: { error?: unknown } } | null)?.data;
  return typeof data?.error === 'string' ? data.error.slice(0, 80) : undefined;
}

export function isRefusedToken(err: unknown): boolean {
  return REFUSED.has(slackError(err) ?? '');
}

/** An error as one short line without secrets (the SDK's messages carry no token). */
export function describeError(err: unknown): string {
  const code = slackError(err);
  if (code) return code;
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+/g, '[token]').slice(0, 200);
}

function sdkLogger(log: Logger): webApi.Logger {
  const line = (msg: unknown[]) => msg.map(String).join(' ').slice(0, 300);
  let level = webApi.LogLevel.INFO;
  return {
    debug: () => undefined,
    info: (...msg: unknown[]) => log.info({ sdk: line(msg) }, 'slack sdk'),
    warn: (...msg: unknown[]) => log.warn({ sdk: line(msg) }, 'slack sdk'),
    error: (...msg: unknown[]) => log.error({ sdk: line(msg) }, 'slack sdk'),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
