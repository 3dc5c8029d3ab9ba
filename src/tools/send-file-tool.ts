import path from 'node:path';
import { makeAttachment, describeSize } from '../channels/attachment.js';
import { SafeDir } from '../fs/safe-dir.js';
import { groupFolderPath } from '../groups/group-folder.js';
import type { Outbox } from '../router/outbox.js';
import { GROUP_MOUNT_PATH } from './cell-tools.js';
import { hostToolSpecs } from './host-tool-specs.js';
import { fail, hostTool, ok, type HostTool } from './host-tools.js';

export interface SendFileDeps {
  outbox: Outbox;
  home: string;
  assistantName: string;
  /** NANOCELL_MAX_ATTACHMENT_MB in bytes. */
  maxBytes: number;
}

const MIME_BY_EXTENSION: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.html': 'text/html',
  '.zip': 'application/zip',
  '.ogg': 'audio/ogg',
  '.mp3': 'audio/mpeg',
};

/**
 * `send_file`: a file of the group's own folder, to the chat the run answers. The path is
 * read through the safe folder module (relative to the folder, no `..`, no link followed at
 * any step, a regular file only, at most `maxBytes`) and the bytes go as an attachment, so
 * the channel never opens anything itself.
 */
export function sendFileTool(deps: SendFileDeps): HostTool {
  return hostTool(hostToolSpecs.send_file, (ctx, input) => {
    // The cell's own name for the folder is accepted too.
    const prefix = `${GROUP_MOUNT_PATH}/`;
    const given = input.path.startsWith(prefix) ? input.path.slice(prefix.length) : input.path;
    const rel = given.replace(/^(\.\/)+/, '');
    const read = SafeDir.with(groupFolderPath(deps.home, ctx.group.folder), (dir) =>
      dir.readFile(rel, deps.maxBytes),
    );
    if (!read.ok) return fail(`Cannot send ${input.path}: ${read.reason}.`);
    if (read.truncated) {
      return fail(
        `Cannot send ${input.path}: it is ${describeSize(read.size)}; files sent are at most ${describeSize(deps.maxBytes)} (NANOCELL_MAX_ATTACHMENT_MB).`,
      );
    }
    const name = path.posix.basename(rel);
    const mime =
      MIME_BY_EXTENSION[path.posix.extname(name).toLowerCase()] ?? 'application/octet-stream';
    const made = makeAttachment(name, mime, read.bytes, deps.maxBytes);
    if (!made.ok) return fail(`Cannot send ${input.path}: ${made.reason}.`);
    const id = deps.outbox.send(
      ctx.group.id,
      ctx.channel,
      ctx.chatId,
      input.caption ?? name,
      deps.assistantName,
      {
        attachments: [made.attachment],
      },
    );
    return ok(`File ${name} (${describeSize(read.bytes.length)}) queued as message ${id}.`);
  });
}
