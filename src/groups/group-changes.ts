import type { AuditSink } from '../audit/audit-event.js';
import { parseChatAddress } from '../channels/registry.js';
import type { Config } from '../config.js';
import type { Group } from '../store/groups.js';
import { checkModelChoice, type ModelChoice } from '../store/model-choices.js';
import type { Store } from '../store/store.js';
import { ensureGroupFolder } from './group-folder.js';
import { checkGroupMounts } from './group-mounts.js';

export interface GroupChangeDeps {
  store: Store;
  config: Config;
  audit: AuditSink;
}

/**
 * A refused change: `reason` is written for the owner; `field` names the input that is wrong
 * (the dashboard shows the reason beside it); `usage` marks a malformed request (the CLI's
 * exit 2) rather than one the current state refuses.
 */
export interface GroupChangeRefusal {
  ok: false;
  reason: string;
  field?: 'name' | 'chat' | 'trigger' | 'model' | 'provider' | 'hostPath';
  usage?: true;
}
export type GroupChange<T = Group> = { ok: true; group: T; text: string } | GroupChangeRefusal;

const refuse = (
  reason: string,
  field?: GroupChangeRefusal['field'],
  usage?: true,
): GroupChangeRefusal => ({
  ok: false,
  reason,
  ...(field ? { field } : {}),
  ...(usage ? { usage } : {}),
});

function triggerText(g: Group, assistantName: string): string {
  if (g.isAdmin) return 'admin, no trigger';
  return g.requiresTrigger ? `trigger ${g.trigger ?? `@${assistantName}`}` : 'no trigger';
}

/**
 * The owner's changes to groups, from the CLI (`groups ...`) or the dashboard: each checks
 * its input, changes the store and writes one `group_change` audit record. `by` says from
 * where (`owner (cli)`, `owner (dashboard)`).
 */
export function createGroup(
  deps: GroupChangeDeps,
  input: {
    name: string;
    chat?: string | undefined;
    trigger?: string | undefined;
    noTrigger?: boolean | undefined;
  },
  by: string,
): GroupChange {
  const { store, config } = deps;
  const { name } = input;
  if (store.groups.byName(name)) return refuse(`a group named "${name}" already exists`, 'name');
  let chat: { channel: string; chatId: string } | undefined;
  if (input.chat) {
    const address = parseChatAddress(input.chat);
    if (!address.ok) return refuse(`--chat: ${address.reason}`, 'chat', true);
    chat = { channel: address.channel, chatId: address.chatId };
    const bound = store.groups.forChat(chat.channel, chat.chatId);
    if (bound) return refuse(`chat ${input.chat} already belongs to group "${bound.name}"`, 'chat');
  }
  let group: Group;
  try {
    group = store.transaction(() => {
      const g = store.groups.create({
        name,
        isAdmin: false,
        requiresTrigger: !input.noTrigger,
        trigger: input.trigger ?? null,
      });
      if (chat) store.groups.bindChat(chat.channel, chat.chatId, g.id);
      store.groups.bindChat('terminal', g.name, g.id);
      return g;
    });
  } catch (e) {
    return refuse((e as Error).message, 'name');
  }
  ensureGroupFolder(config.home, group.folder, config.assistantName);
  deps.audit.append({
    type: 'group_change',
    group: group.name,
    action: 'created',
    by,
    summary: input.chat ?? '',
  });
  const text = `added group ${group.name} (${triggerText(group, config.assistantName)})${chat ? ` for ${input.chat}` : ''}\n`;
  return { ok: true, group, text };
}

/** One more chat for a group (the admin group too). */
export function bindGroupChat(
  deps: GroupChangeDeps,
  name: string,
  chatArg: string,
  by: string,
): GroupChange {
  const { store } = deps;
  const group = store.groups.byName(name);
  if (!group) return refuse(`no group named "${name}"`, 'name');
  const address = parseChatAddress(chatArg);
  if (!address.ok) return refuse(`--chat: ${address.reason}`, 'chat', true);
  const bound = store.groups.forChat(address.channel, address.chatId);
  if (bound) return refuse(`chat ${chatArg} already belongs to group "${bound.name}"`, 'chat');
  store.groups.bindChat(address.channel, address.chatId, group.id);
  deps.audit.append({
    type: 'group_change',
    group: group.name,
    action: 'updated',
    by,
    summary: `bound ${chatArg}`,
  });
  return { ok: true, group, text: `${group.name} now answers ${chatArg}\n` };
}

/** The chat is a stranger again; an owner account paired there is unpaired. */
export function unbindGroupChat(deps: GroupChangeDeps, chatArg: string, by: string): GroupChange {
  const { store } = deps;
  const address = parseChatAddress(chatArg);
  if (!address.ok) return refuse(address.reason, 'chat', true);
  const group = store.groups.forChat(address.channel, address.chatId);
  if (!group) return refuse(`chat ${chatArg} is not bound to any group`, 'chat');
  if (address.channel === 'terminal' || (address.channel === 'web' && address.chatId === 'owner')) {
    return refuse(`${chatArg} is the owner's own chat and stays bound`, 'chat');
  }
  const unpaired = store.transaction(() => {
    store.groups.unbindChat(address.channel, address.chatId);
    return store.owners.forgetChat(address.channel, address.chatId);
  });
  deps.audit.append({
    type: 'group_change',
    group: group.name,
    action: 'updated',
    by,
    summary: `unbound ${chatArg}${unpaired ? `; unpaired ${unpaired} owner account(s)` : ''}`,
  });
  const text = `${chatArg} is no longer answered by ${group.name}${unpaired ? `; its owner account is unpaired` : ''}\n`;
  return { ok: true, group, text };
}

const TRIGGER = /^\S{1,64}$/;

/** Whether a shared chat must name the assistant (and with which word) to be answered. */
export function setGroupTrigger(
  deps: GroupChangeDeps,
  name: string,
  trigger: { requiresTrigger: boolean; word: string | null },
  by: string,
): GroupChange {
  const { store, config } = deps;
  const group = store.groups.byName(name);
  if (!group) return refuse(`no group named "${name}"`, 'name');
  if (group.isAdmin) {
    return refuse(
      'the admin group answers every message of its chats; it has no trigger',
      'trigger',
    );
  }
  const word = trigger.word?.trim() || null;
  if (word !== null && !TRIGGER.test(word)) {
    return refuse(
      'a trigger is one word of 1 to 64 characters without spaces, e.g. @Andy',
      'trigger',
    );
  }
  store.groups.setTrigger(group.id, trigger.requiresTrigger, trigger.requiresTrigger ? word : null);
  const changed = store.groups.byId(group.id)!;
  const shown = triggerText(changed, config.assistantName);
  deps.audit.append({
    type: 'group_change',
    group: group.name,
    action: 'updated',
    by,
    summary: shown,
  });
  return { ok: true, group: changed, text: `${group.name}: ${shown}\n` };
}

/** An extra mount, checked against the owner's mount allowlist; a refusal says exactly why. */
export function addGroupMount(
  deps: GroupChangeDeps,
  name: string,
  request: { hostPath: string; containerPath?: string; readOnly: boolean; untrusted?: boolean },
  by: string,
): GroupChange {
  const { store, config } = deps;
  const group = store.groups.byName(name);
  if (!group) return refuse(`no group named "${name}"`, 'name');
  const checked = checkGroupMounts(config, group, [request]);
  if ('error' in checked) return refuse(checked.error, 'hostPath');
  const refusal = checked.refusals[0];
  if (refusal) return refuse(`refused: ${refusal.reason}`, 'hostPath');
  const mount = checked.mounts[0]!;
  store.groups.addMountRequest(group.id, request);
  deps.audit.append({
    type: 'group_change',
    group: group.name,
    action: 'updated',
    by,
    summary: `mount ${mount.hostPath} at ${mount.cellPath} ${mount.readOnly ? 'ro' : 'rw'}${request.untrusted ? ' untrusted' : ''}`,
  });
  const text = `${name}: ${mount.hostPath} at ${mount.cellPath} (${mount.readOnly ? 'read-only' : 'read-write'}${request.untrusted ? ', untrusted: a run that can read it is labelled untrusted' : ''}) from its next cell on\n`;
  return { ok: true, group, text };
}

export function removeGroupMount(
  deps: GroupChangeDeps,
  name: string,
  hostPath: string,
  by: string,
): GroupChange {
  const { store } = deps;
  const group = store.groups.byName(name);
  if (!group) return refuse(`no group named "${name}"`, 'name');
  if (!store.groups.removeMountRequest(group.id, hostPath)) {
    return refuse(`group "${name}" has no mount of ${hostPath}`, 'hostPath');
  }
  deps.audit.append({
    type: 'group_change',
    group: group.name,
    action: 'updated',
    by,
    summary: `unmount ${hostPath}`,
  });
  return { ok: true, group, text: `removed ${hostPath} from ${name} (from its next cell on)\n` };
}

/** The group's runs use that model from now on; `default` goes back to the configured one. */
export function setGroupModel(
  deps: GroupChangeDeps,
  name: string,
  model: string,
  provider: string | undefined,
  by: string,
): GroupChange {
  const { store, config } = deps;
  const group = store.groups.byName(name);
  if (!group) return refuse(`no group named "${name}"`, 'name');
  const choice = model === 'default' ? undefined : { provider: provider ?? config.provider, model };
  const problem = choice && checkModelChoice(choice);
  if (problem)
    return refuse(problem, problem.startsWith('unknown provider') ? 'provider' : 'model');
  store.models.setForGroup(group.id, choice as ModelChoice | undefined);
  const shown = choice
    ? `${choice.provider} ${choice.model}`
    : `the configured model (${config.provider} ${config.model})`;
  deps.audit.append({
    type: 'group_change',
    group: group.name,
    action: 'updated',
    by,
    summary: `model ${shown}`,
  });
  return { ok: true, group, text: `${group.name}: runs use ${shown} from its next run on\n` };
}

/** The admin group is never removed: the owner's own chats and approvals live there. */
export function removeGroup(deps: GroupChangeDeps, name: string, by: string): GroupChange {
  const { store, config } = deps;
  const group = store.groups.byName(name);
  if (!group) return refuse(`no group named "${name}"`, 'name');
  if (group.isAdmin) return refuse('the admin group cannot be removed', 'name');
  store.groups.remove(group.id);
  deps.audit.append({ type: 'group_change', group: group.name, action: 'removed', by });
  return {
    ok: true,
    group,
    text: `removed group ${name} (its folder is kept under ${config.home}/groups/${group.folder})\n`,
  };
}
