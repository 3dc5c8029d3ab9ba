import { parseArgs } from 'node:util';
import type { Base } from '../app.js';
import { ensureGroupFolder } from '../groups/group-folder.js';
import { escapeForTerminal } from '../channels/terminal-escape.js';
import { checkGroupMounts } from '../groups/group-mounts.js';
import { linkCommand } from './groups-link.js';
import { describeBudget, type BudgetArgs } from './groups-budget.js';
import { groupsSet } from './groups-set.js';
import { parseChatAddress } from '../channels/registry.js';
import type { CliCommand, TextOut } from './command.js';

export interface GroupsArgs extends BudgetArgs {
  positionals: string[];
  rw?: boolean | undefined;
  untrusted?: boolean | undefined;
  at?: string | undefined;
  chat?: string | undefined;
  trigger?: string | undefined;
  noTrigger?: boolean | undefined;
  model?: string | undefined;
  provider?: string | undefined;
}

const USAGE = `usage: nanocell groups list
       nanocell groups add NAME [--chat CHANNEL:CHAT_ID] [--trigger WORD | --no-trigger]
       nanocell groups remove NAME
       nanocell groups bind NAME --chat CHANNEL:CHAT_ID   another chat for an existing group
       nanocell groups unbind CHANNEL:CHAT_ID   the chat is answered no more (a paired owner account in it is unpaired)
       nanocell groups mount NAME HOST_PATH [--rw] [--at NAME_IN_CELL] [--untrusted]
       nanocell groups unmount NAME HOST_PATH
       nanocell groups link NAME      a web link to the group's chat for its members
       nanocell groups unlink NAME    revoke every web link of the group
       nanocell groups set NAME --model MODEL [--provider anthropic|openai]   (--model default: back to NANOCELL_MODEL)
       nanocell groups set NAME [--budget-tokens N|none] [--budget-usd X|none]   a daily limit (UTC); over it runs pause`;

/** `groups list|add|remove`: the owner manages groups from the terminal. */
export function groupsCommand(base: Base, args: GroupsArgs, out: TextOut, err: TextOut): number {
  const { store, config } = base;
  const [sub, name] = args.positionals;
  const trig = (g: { isAdmin: boolean; requiresTrigger: boolean; trigger: string | null }) =>
    g.isAdmin
      ? 'admin, no trigger'
      : g.requiresTrigger
        ? `trigger ${g.trigger ?? `@${config.assistantName}`}`
        : 'no trigger';
  switch (sub) {
    case 'list': {
      for (const g of store.groups.list()) {
        const chats = store.groups.chatsOf(g.id).map((c) => `${c.channel}:${c.chatId}`);
        const tasks = store.tasks.listForGroup(g.id).filter((t) => t.status === 'active').length;
        // The trigger and chat ids may come from the model (register_group): one line, escaped.
        const shown = (text: string) => escapeForTerminal(text, { singleLine: true });
        out.write(
          `${g.name}\t${shown(trig(g))}\tchats: ${shown(chats.join(', ') || '-')}\tactive tasks: ${tasks}\t${describeBudget(store.groupBudgets.get(g.id))}\n`,
        );
      }
      return 0;
    }
    case 'add': {
      if (!name) return usage(err, 'groups add needs a NAME');
      if (store.groups.byName(name)) return usage(err, `a group named "${name}" already exists`, 1);
      let chat: { channel: string; chatId: string } | undefined;
      if (args.chat) {
        const address = parseChatAddress(args.chat);
        if (!address.ok) return usage(err, `--chat: ${address.reason}`);
        chat = { channel: address.channel, chatId: address.chatId };
        const bound = store.groups.forChat(chat.channel, chat.chatId);
        if (bound)
          return usage(err, `chat ${args.chat} already belongs to group "${bound.name}"`, 1);
      }
      let group;
      try {
        group = store.transaction(() => {
          const g = store.groups.create({
            name,
            isAdmin: false,
            requiresTrigger: !args.noTrigger,
            trigger: args.trigger ?? null,
          });
          if (chat) store.groups.bindChat(chat.channel, chat.chatId, g.id);
          store.groups.bindChat('terminal', g.name, g.id);
          return g;
        });
      } catch (e) {
        return usage(err, (e as Error).message, 1);
      }
      ensureGroupFolder(config.home, group.folder, config.assistantName);
      base.audit.append({
        type: 'group_change',
        group: group.name,
        action: 'created',
        by: 'owner (cli)',
        summary: args.chat ?? '',
      });
      out.write(`added group ${group.name} (${trig(group)})${chat ? ` for ${args.chat}` : ''}\n`);
      return 0;
    }
    case 'remove': {
      if (!name) return usage(err, 'groups remove needs a NAME');
      const group = store.groups.byName(name);
      if (!group) return usage(err, `no group named "${name}"`, 1);
      if (group.isAdmin) return usage(err, 'the admin group cannot be removed', 1);
      store.groups.remove(group.id);
      base.audit.append({
        type: 'group_change',
        group: group.name,
        action: 'removed',
        by: 'owner (cli)',
      });
      out.write(
        `removed group ${name} (its folder is kept under ${config.home}/groups/${group.folder})\n`,
      );
      return 0;
    }
    case 'bind':
      return bindChat(base, name, args.chat, out, err);
    case 'unbind':
      return unbindChat(base, name, out, err);
    case 'mount':
    case 'unmount': {
      const hostPath = args.positionals[2];
      if (!name || !hostPath) return usage(err, `groups ${sub} needs a group NAME and a HOST_PATH`);
      const group = store.groups.byName(name);
      if (!group) return usage(err, `no group named "${name}"`, 1);
      if (sub === 'unmount') {
        if (!store.groups.removeMountRequest(group.id, hostPath)) {
          return usage(err, `group "${name}" has no mount of ${hostPath}`, 1);
        }
        base.audit.append({
          type: 'group_change',
          group: group.name,
          action: 'updated',
          by: 'owner (cli)',
          summary: `unmount ${hostPath}`,
        });
        out.write(`removed ${hostPath} from ${name} (from its next cell on)\n`);
        return 0;
      }
      const request = {
        hostPath,
        readOnly: !args.rw,
        ...(args.at ? { containerPath: `/workspace/extra/${args.at}` } : {}),
        ...(args.untrusted ? { untrusted: true } : {}),
      };
      const checked = checkGroupMounts(config, group, [request]);
      if ('error' in checked) return usage(err, checked.error, 1);
      const refusal = checked.refusals[0];
      if (refusal) return usage(err, `refused: ${refusal.reason}`, 1);
      const mount = checked.mounts[0]!;
      store.groups.addMountRequest(group.id, request);
      base.audit.append({
        type: 'group_change',
        group: group.name,
        action: 'updated',
        by: 'owner (cli)',
        summary: `mount ${mount.hostPath} at ${mount.cellPath} ${mount.readOnly ? 'ro' : 'rw'}${args.untrusted ? ' untrusted' : ''}`,
      });
      out.write(
        `${name}: ${mount.hostPath} at ${mount.cellPath} (${mount.readOnly ? 'read-only' : 'read-write'}${args.untrusted ? ', untrusted: a run that can read it is labelled untrusted' : ''}) from its next cell on\n`,
      );
      return 0;
    }
    case 'link':
    case 'unlink': {
      if (!name) return usage(err, `groups ${sub} needs a group NAME`);
      const result = linkCommand(base, sub, name);
      if (!result.ok) return usage(err, result.problem, 1);
      out.write(result.text);
      return 0;
    }
    case 'set':
      return groupsSet(base, name, args, out, (problem, code) => usage(err, problem, code));
    default:
      return usage(err, sub ? `unknown groups command "${sub}"` : 'groups needs a command');
  }
}

/** `groups bind NAME --chat CH:ID`: one more chat for a group (the admin group too). */
function bindChat(
  base: Base,
  name: string | undefined,
  chatArg: string | undefined,
  out: TextOut,
  err: TextOut,
): number {
  if (!name || !chatArg)
    return usage(err, 'groups bind needs a group NAME and --chat CHANNEL:CHAT_ID');
  const group = base.store.groups.byName(name);
  if (!group) return usage(err, `no group named "${name}"`, 1);
  const address = parseChatAddress(chatArg);
  if (!address.ok) return usage(err, `--chat: ${address.reason}`);
  const bound = base.store.groups.forChat(address.channel, address.chatId);
  if (bound) return usage(err, `chat ${chatArg} already belongs to group "${bound.name}"`, 1);
  base.store.groups.bindChat(address.channel, address.chatId, group.id);
  base.audit.append({
    type: 'group_change',
    group: group.name,
    action: 'updated',
    by: 'owner (cli)',
    summary: `bound ${chatArg}`,
  });
  out.write(`${group.name} now answers ${chatArg}\n`);
  return 0;
}

/** `groups unbind CH:ID`: the chat is a stranger again; an owner account paired there is unpaired. */
function unbindChat(base: Base, chatArg: string | undefined, out: TextOut, err: TextOut): number {
  if (!chatArg) return usage(err, 'groups unbind needs CHANNEL:CHAT_ID');
  const address = parseChatAddress(chatArg);
  if (!address.ok) return usage(err, address.reason);
  const { store } = base;
  const group = store.groups.forChat(address.channel, address.chatId);
  if (!group) return usage(err, `chat ${chatArg} is not bound to any group`, 1);
  if (address.channel === 'terminal' || (address.channel === 'web' && address.chatId === 'owner')) {
    return usage(err, `${chatArg} is the owner's own chat and stays bound`, 1);
  }
  const unpaired = store.transaction(() => {
    store.groups.unbindChat(address.channel, address.chatId);
    return store.owners.forgetChat(address.channel, address.chatId);
  });
  base.audit.append({
    type: 'group_change',
    group: group.name,
    action: 'updated',
    by: 'owner (cli)',
    summary: `unbound ${chatArg}${unpaired ? `; unpaired ${unpaired} owner account(s)` : ''}`,
  });
  out.write(
    `${chatArg} is no longer answered by ${group.name}${unpaired ? `; its owner account is unpaired` : ''}\n`,
  );
  return 0;
}

function usage(err: TextOut, problem: string, code = 2): number {
  err.write(`nanocell: ${problem}\n${code === 2 ? `${USAGE}\n` : ''}`);
  return code;
}

export const groupsCli: CliCommand = {
  name: 'groups',
  summary: 'manage groups: list, add, remove, bind, unbind, mount, unmount, link, unlink, set',
  usage: `${USAGE}\n`,
  needs: 'store',
  run(args, { base, out, err }) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        options: {
          chat: { type: 'string' },
          trigger: { type: 'string' },
          'no-trigger': { type: 'boolean' },
          rw: { type: 'boolean' },
          untrusted: { type: 'boolean' },
          at: { type: 'string' },
          model: { type: 'string' },
          provider: { type: 'string' },
          'budget-tokens': { type: 'string' },
          'budget-usd': { type: 'string' },
        },
        allowPositionals: true,
      });
    } catch (e) {
      return usage(err, (e as Error).message);
    }
    const { values, positionals } = parsed;
    return groupsCommand(
      base,
      {
        positionals,
        chat: values.chat,
        trigger: values.trigger,
        noTrigger: values['no-trigger'],
        rw: values.rw,
        untrusted: values.untrusted,
        at: values.at,
        model: values.model,
        provider: values.provider,
        budgetTokens: values['budget-tokens'],
        budgetUsd: values['budget-usd'],
      },
      out,
      err,
    );
  },
};
