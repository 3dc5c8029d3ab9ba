import path from 'node:path';
import type { Mount } from '../cells/cell-runtime.js';
import { resolveCellPath } from '../fs/resolve-cell-path.js';
import { normaliseCellPath } from '../policy/match-rule.js';
import { GROUP_MOUNT_PATH } from '../tools/cell-tools.js';
import { isSink } from './sinks.js';

/** Where extra mounts appear in a cell (src/cells/mounts.ts). */
const EXTRA_MOUNTS = '/workspace/extra/';
/** Host tools that plant standing instructions or reach other chats. */
const STANDING = new Set(['schedule_task', 'update_task', 'register_group']);

/**
 * Whether a tool call is an outbound action (a sink) that a run labelled untrusted may not
 * take unseen: a message to another group, a scheduled or changed task, a new group, a write
 * into an extra mount (for `bash`: any call while one is mounted writable, since its writes
 * cannot be judged before they happen).
 */
export function isSinkCall(
  tool: string,
  input: Record<string, unknown>,
  mounts: readonly Mount[],
): boolean {
  if (STANDING.has(tool)) return true;
  if (tool === 'send_message' || tool === 'send_file') {
    const target = typeof input.group === 'string' ? input.group : undefined;
    return isSink({ tool, ...(target ? { targetChat: target } : {}), runChat: undefined });
  }
  if (tool === 'write_file' || tool === 'edit_file') {
    const given = typeof input.path === 'string' ? input.path : '';
    // As the cell tools read it (relative to the group folder), and where links lead.
    const named = path.posix.resolve(GROUP_MOUNT_PATH, given);
    const real = resolveCellPath(normaliseCellPath(named), mounts);
    const where = real.ok ? real.cellPath : named;
    const inExtra = [named, where].some((p) => `${p}/`.startsWith(EXTRA_MOUNTS));
    return isSink({ tool, inExtraMount: inExtra || !real.ok });
  }
  if (tool === 'bash') {
    return mounts.some((m) => !m.readOnly && m.cellPath.startsWith(EXTRA_MOUNTS));
  }
  return false;
}
