import fs from 'node:fs';
import path from 'node:path';
import { parseChatAddress } from '../channels/registry.js';
import { groupsCommand } from '../cli/groups.js';
import { GROUP_NAME_PATTERN } from '../store/groups.js';
import {
  checkPolicyTemplate,
  POLICY_TEMPLATE_INFO,
  POLICY_TEMPLATES,
  type PolicyTemplate,
} from './policy-templates.js';
import { tell, type StepContext, type StepResult } from './setup-context.js';

/**
 * Step 4: a first group besides the admin group, bound to a chat (`groups add NAME --chat
 * ADDRESS`). Run again, an existing group is kept and only gains the chat.
 */
export async function groupStep(ctx: StepContext): Promise<StepResult> {
  const { flags, prompts, base } = ctx;
  if (flags.noGroup) return undefined;
  let name = flags.group;
  let chat = flags.chat;
  if (name === undefined) {
    if (
      !(await prompts!.confirm('Add a first group (a chat the assistant answers besides yours)?'))
    ) {
      return undefined;
    }
    name = await prompts!.text('Group name', {
      placeholder: 'family',
      check: (v) =>
        GROUP_NAME_PATTERN.test(v)
          ? undefined
          : 'lower-case letters, digits, - and _ (e.g. family)',
    });
    chat = await prompts!.text('Its chat, as CHANNEL:CHAT_ID (Enter for a web chat)', {
      initial: `web:${name}`,
      check: (v) => {
        const address = parseChatAddress(v);
        return address.ok ? undefined : address.reason;
      },
    });
  }
  const existing = base.store.groups.byName(name);
  if (!existing) {
    const code = groupsCommand(base, { positionals: ['add', name], chat }, ctx.out, ctx.err);
    return code === 0 ? undefined : code;
  }
  if (chat === undefined) {
    tell(ctx, 'info', `group ${name} exists; kept as it is`);
    return undefined;
  }
  const address = parseChatAddress(chat);
  const bound = address.ok ? base.store.groups.forChat(address.channel, address.chatId) : undefined;
  if (bound?.id === existing.id) {
    tell(ctx, 'info', `group ${name} exists and answers ${chat}; kept as it is`);
    return undefined;
  }
  const code = groupsCommand(base, { positionals: ['bind', name], chat }, ctx.out, ctx.err);
  return code === 0 ? undefined : code;
}

/**
 * Step 5: the first policy, from a template, as `NANOCELL_CONFIG_DIR/policy/default.policy`.
 * A different file already there is replaced only when the owner says so (or `--yes`).
 */
export async function policyStep(ctx: StepContext): Promise<StepResult> {
  const { flags, prompts, base } = ctx;
  const template: PolicyTemplate =
    flags.policy ??
    (await prompts!.select(
      'A first policy for every group?',
      POLICY_TEMPLATES.map((t) => ({
        value: t,
        label: POLICY_TEMPLATE_INFO[t].label,
        hint: POLICY_TEMPLATE_INFO[t].hint,
      })),
      'ask-network',
    ));
  const parsed = checkPolicyTemplate(template);
  if (parsed.errors.length) {
    throw new Error(`policy template ${template} does not parse: ${parsed.errors[0]!.message}`);
  }
  const file = path.join(base.config.configDir, 'policy', 'default.policy');
  const text = POLICY_TEMPLATE_INFO[template].text;
  const current = readIfRegularFile(file);
  if (typeof current === 'object') {
    tell(ctx, 'error', current.problem);
    return 1;
  }
  if (current === text) {
    tell(ctx, 'info', `policy: ${file} already holds the ${template} template`);
    return undefined;
  }
  if (current !== undefined) {
    const replace = prompts
      ? await prompts.confirm(
          `${file} exists and differs. Replace it with the ${template} template?`,
          false,
        )
      : flags.yes;
    if (!replace) {
      tell(
        ctx,
        'warn',
        `policy: kept ${file} as it is${prompts ? '' : ' (pass --yes to replace it)'}`,
      );
      return undefined;
    }
  }
  ctx.writeConfigFile(file, text);
  tell(ctx, 'success', `policy: wrote ${file} (${POLICY_TEMPLATE_INFO[template].label})`);
  return undefined;
}

/** The file's text; undefined when absent. A symlink or other non-file is refused, not followed. */
function readIfRegularFile(file: string): string | undefined | { problem: string } {
  let stat;
  try {
    stat = fs.lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (!stat.isFile() || stat.size > 1024 * 1024) {
    return {
      problem: `${file} is not a regular file under 1 MiB; move it away and run setup again`,
    };
  }
  return fs.readFileSync(file, 'utf8');
}
