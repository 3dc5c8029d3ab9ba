import { KNOWN_CHANNELS, printable } from '../channels/registry.js';
import type { CliCommand } from './command.js';

const platforms = () => KNOWN_CHANNELS.filter((c) => !c.builtIn).map((c) => c.name);

const USAGE = `usage: nanocell pair CHANNEL
  Prints a one-time code (valid 10 minutes). Send "pair CODE" to the bot in a direct chat on
  CHANNEL: that account becomes you, the owner, on CHANNEL, and that chat joins the admin
  group (approvals and notices arrive there; only your account can use it). A new code
  replaces the last. CHANNEL is one of: ${platforms().join(', ')}.
`;

/** `nanocell pair telegram`: the owner's code for claiming the bot on a platform. */
export const pairCli: CliCommand = {
  name: 'pair',
  summary: 'a one-time code that makes your account the owner on a chat platform',
  usage: USAGE,
  needs: 'store',
  run(args, { base, out, err }) {
    const [channel, ...rest] = args;
    const known = platforms();
    if (!channel || rest.length > 0) {
      err.write(`nanocell pair: name one channel (${known.join(', ')})\n${USAGE}`);
      return 2;
    }
    if (!known.includes(channel)) {
      err.write(
        `nanocell pair: unknown channel "${printable(channel)}"; pair one of: ${known.join(', ')}\n`,
      );
      return 2;
    }
    const state = KNOWN_CHANNELS.find((c) => c.name === channel)!.state(base.config);
    const { code, expiresAt } = base.store.owners.newPairingCode(channel, new Date());
    base.audit.append({
      type: 'group_change',
      group: base.store.groups.list().find((g) => g.isAdmin)?.name ?? 'main',
      action: 'updated',
      by: 'owner (cli)',
      summary: `pairing code made for ${channel}`,
    });
    out.write(
      `Send this to the bot in a direct chat on ${channel} within 10 minutes (until ${expiresAt.toISOString().slice(11, 16)} UTC):\n\n    pair ${code}\n\n` +
        (state.on
          ? ''
          : `Note: ${channel} is off here: ${state.detail}; then (re)start nanocell.\n`),
    );
    return 0;
  },
};
