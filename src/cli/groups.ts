import { parseArgs } from 'node:util';
import type { Base } from '../app.js';
import { escapeForTerminal } from '../channels/terminal-escape.js';
import {
  addGroupMount,
  bindGroupChat,
  createGroup,
  removeGroup,
  removeGroupMount,
  unbindGroupChat,
  type GroupChange,
} from '../groups/group-changes.js';
import { linkCommand } from './groups-link.js';
import { describeBudget, type BudgetArgs } from './groups-budget.js';
import { groupsSet } from './groups-set.js';
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

const BY = 'owner (cli)';

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
      return report(
        createGroup(
          base,
          { name, chat: args.chat, trigger: args.trigger, noTrigger: args.noTrigger },
          BY,
        ),
        out,
        err,
      );
    }
    case 'remove': {
      if (!name) return usage(err, 'groups remove needs a NAME');
      return report(removeGroup(base, name, BY), out, err);
    }
    case 'bind':
      if (!name || !args.chat)
        return usage(err, 'groups bind needs a group NAME and --chat CHANNEL:CHAT_ID');
      return report(bindGroupChat(base, name, args.chat, BY), out, err);
    case 'unbind':
      if (!name) return usage(err, 'groups unbind needs CHANNEL:CHAT_ID');
      return report(unbindGroupChat(base, name, BY), out, err);
    case 'mount':
    case 'unmount': {
      const hostPath = args.positionals[2];
      if (!name || !hostPath) return usage(err, `groups ${sub} needs a group NAME and a HOST_PATH`);
      if (sub === 'unmount') return report(removeGroupMount(base, name, hostPath, BY), out, err);
      const request = {
        hostPath,
        readOnly: !args.rw,
        ...(args.at ? { containerPath: `/workspace/extra/${args.at}` } : {}),
        ...(args.untrusted ? { untrusted: true } : {}),
      };
      return report(addGroupMount(base, name, request, BY), out, err);
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

/** A change's text on stdout (exit 0), or its refusal on stderr (exit 1, or 2 for bad usage). */
function report(change: GroupChange, out: TextOut, err: TextOut): number {
  if (!change.ok) return usage(err, change.reason, change.usage ? 2 : 1);
  out.write(change.text);
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
