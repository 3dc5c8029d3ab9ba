import { escapeForTerminal } from '../channels/terminal-escape.js';
import { acceptProposal, readProposal, rejectProposal } from '../guard/memory-guard.js';
import { readMemory } from '../groups/group-folder.js';
import type { CliCommand } from './command.js';

const USAGE = `usage: nanocell memory show GROUP [--proposed]
       nanocell memory accept GROUP    the proposed change becomes the group's memory
       nanocell memory reject GROUP    drop the proposed change
  A run that read someone else's words (a shared chat, mail, the web) cannot change a
  group's memory by itself: its change is kept aside as a proposal, shown and decided here.
`;

/** `nanocell memory`: a group's memory file, and the change the guard kept aside. */
export const memoryCli: CliCommand = {
  name: 'memory',
  summary: "a group's memory, and changes the guard kept aside (show, accept, reject)",
  usage: USAGE,
  needs: 'store',
  run(args, { base, out, err }) {
    const [sub, name, ...rest] = args;
    const flags = rest.filter((a) => a.startsWith('--'));
    if (
      !sub ||
      !name ||
      !['show', 'accept', 'reject'].includes(sub) ||
      rest.length > flags.length
    ) {
      err.write(USAGE);
      return 2;
    }
    const proposed = flags.includes('--proposed');
    if (flags.some((f) => f !== '--proposed') || (proposed && sub !== 'show')) {
      err.write(
        `nanocell memory: unknown option ${flags.find((f) => f !== '--proposed') ?? '--proposed'}\n${USAGE}`,
      );
      return 2;
    }
    const group = base.store.groups.byName(name);
    if (!group) {
      const names = base.store.groups
        .list()
        .map((g) => g.name)
        .join(', ');
      err.write(
        `nanocell memory: no group named "${escapeForTerminal(name, { singleLine: true })}"; groups: ${names}\n`,
      );
      return 1;
    }
    const home = base.config.home;
    if (sub === 'show') {
      const text = proposed
        ? readProposal(home, group.folder)
        : readMemory(home, group.folder).text;
      if (text === undefined) {
        out.write(`${group.name} has no proposed memory change\n`);
        return 0;
      }
      // The memory was written by the model: shown escaped.
      out.write(`${escapeForTerminal(text)}\n`);
      return 0;
    }
    const done =
      sub === 'accept' ? acceptProposal(home, group.folder) : rejectProposal(home, group.folder);
    if (!done) {
      err.write(`nanocell memory: ${group.name} has no proposed memory change\n`);
      return 1;
    }
    base.audit.append({
      type: 'group_change',
      group: group.name,
      action: 'updated',
      by: 'owner (cli)',
      summary: `memory proposal ${sub === 'accept' ? 'accepted' : 'rejected'}`,
    });
    out.write(
      `${group.name}: the proposed memory change is ${sub === 'accept' ? 'now its memory' : 'dropped'}\n`,
    );
    return 0;
  },
};
