import fs from 'node:fs';
import type { Base } from '../app.js';
import { WebLinks } from '../channels/web/web-links.js';
import { hostFile } from './start.js';

const WEB_CHAT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Where members open the chat: the running host's address, else the configured one. */
function webBase(base: Base): string {
  const { config } = base;
  if (config.webPublicUrl) return config.webPublicUrl.replace(/\/$/, '');
  try {
    const info = JSON.parse(fs.readFileSync(hostFile(config.home), 'utf8')) as { url?: unknown };
    if (typeof info.url === 'string' && /^http:\/\/127\.0\.0\.1:\d+\/$/.test(info.url)) {
      return info.url.replace(/\/$/, '');
    }
  } catch {
    // No running host: the configured port.
  }
  return `http://127.0.0.1:${config.webPort}`;
}

/**
 * `groups link NAME` mints a web link that opens the group's web chat only (binding
 * `web:NAME` when the group has no web chat yet); `groups unlink NAME` revokes them all.
 * The admin group gets none: its chat carries approvals, which only the owner may see.
 */
export function linkCommand(
  base: Base,
  sub: 'link' | 'unlink',
  name: string,
): { ok: true; text: string } | { ok: false; problem: string } {
  const { store, config } = base;
  const group = store.groups.byName(name);
  if (!group) return { ok: false, problem: `no group named "${name}"` };
  if (group.isAdmin) {
    return {
      ok: false,
      problem: `the admin group "${name}" gets no shared link: its chat carries approvals (open it with the owner's link that start prints)`,
    };
  }
  const links = new WebLinks(config.home);
  let chatId = store.groups.chatsOf(group.id).find((c) => c.channel === 'web')?.chatId;
  if (sub === 'unlink') {
    if (!chatId) return { ok: true, text: `group ${name} has no web chat; nothing to revoke\n` };
    const revoked = links.revoke(chatId);
    if (!revoked.ok) return { ok: false, problem: revoked.reason };
    base.audit.append({
      type: 'group_change',
      group: group.name,
      action: 'updated',
      by: 'owner (cli)',
      summary: `web links revoked: ${revoked.revoked}`,
    });
    return {
      ok: true,
      text: `revoked ${revoked.revoked} web link(s) of ${name} (chat web:${chatId})\n`,
    };
  }
  if (!chatId) {
    if (!WEB_CHAT_ID.test(name) || store.groups.forChat('web', name)) {
      return {
        ok: false,
        problem: `group "${name}" has no web chat; bind one first: nanocell groups add ... --chat web:ID (ID: letters, digits, - or _)`,
      };
    }
    store.groups.bindChat('web', name, group.id);
    chatId = name;
  }
  const minted = links.mint(chatId);
  if (!minted.ok) return { ok: false, problem: minted.reason };
  base.audit.append({
    type: 'group_change',
    group: group.name,
    action: 'updated',
    by: 'owner (cli)',
    summary: `web link ${minted.link.id} minted for web:${chatId}`,
  });
  const url = `${webBase(base)}/?chat=${encodeURIComponent(chatId)}&token=${minted.token}`;
  return {
    ok: true,
    text:
      `web link for group ${name} (chat web:${chatId}); whoever has it reads and writes this chat only:\n` +
      `${url}\n` +
      `revoke with: nanocell groups unlink ${name}\n`,
  };
}
