import type { Config } from '../config.js';
import { KNOWN_CHANNELS, type KnownChannel } from '../channels/registry.js';

/** A platform that does not answer its check in this time is reported as down. */
const CHECK_TIMEOUT_MS = 10_000;

/**
 * One `doctor` line per known channel: off (and what to set), on, or on but failing its live
 * check (token rejected, platform down). A channel that is off is not a failure.
 */
export async function channelLines(
  config: Config,
  channels: readonly KnownChannel[] = KNOWN_CHANNELS,
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<Array<[boolean, string, string]>> {
  return Promise.all(
    channels.map(async (c): Promise<[boolean, string, string]> => {
      const what = `channel ${c.name}`;
      const state = c.state(config);
      if (!state.on) return [true, what, `off (${state.detail})`];
      if (!c.check) return [true, what, `on, ${state.detail}`];
      const check = await c.check(config, AbortSignal.timeout(timeoutMs));
      return [check.ok, what, `on, ${state.detail}: ${check.detail}`];
    }),
  );
}
