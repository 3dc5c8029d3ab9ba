import type { GroupFolderView } from '../channels/web/dashboard-types-groups.js';
import { SafeDir, splitInside } from '../fs/safe-dir.js';
import { asText, readOrRefuse } from '../run/folder-snapshot.js';

export const MAX_LISTED_ENTRIES = 500;
export const MAX_SHOWN_FILE_BYTES = 256 * 1024;

/**
 * A read-only look into a group folder, for the owner: a folder's entries or a file's text,
 * bounded. Everything goes through SafeDir: a link the agent planted is listed as a link and
 * never followed, and a path with `..` or an absolute path is refused.
 */
export function viewGroupFolder(
  folder: string,
  rel: string,
): { ok: true; view: GroupFolderView } | { ok: false; reason: string } {
  const clean = rel.replace(/^\/+|\/+$/g, '');
  const parts = clean === '' ? [] : splitInside(clean);
  if (!parts) return { ok: false, reason: `"${rel}" is not a path inside the group folder` };
  const path = parts.join('/');
  return SafeDir.with(folder, (root) => {
    if (parts.length === 0) return { ok: true, view: listing(root, '') };
    const sub = root.openDir(path);
    if (sub.ok) {
      try {
        return { ok: true, view: listing(sub.dir, path) };
      } finally {
        sub.dir.close();
      }
    }
    const read = readOrRefuse(root, path, MAX_SHOWN_FILE_BYTES);
    if (!read.ok) return { ok: false, reason: read.reason };
    const text = asText(read.bytes);
    return {
      ok: true,
      view: {
        kind: 'file',
        path,
        size: read.size,
        text,
        truncated: read.truncated,
        note: text === null ? 'a binary file: not shown' : null,
      },
    };
  });
}

function listing(dir: SafeDir, path: string): GroupFolderView {
  const all = dir.list().sort((a, b) => (a.name < b.name ? -1 : 1));
  const entries = all.slice(0, MAX_LISTED_ENTRIES).map((e) => {
    if (e.isDirectory()) return { name: e.name, kind: 'dir' as const, size: null };
    if (e.isSymbolicLink()) return { name: e.name, kind: 'link' as const, size: null };
    if (!e.isFile()) return { name: e.name, kind: 'other' as const, size: null };
    const read = readOrRefuse(dir, e.name, 0);
    return { name: e.name, kind: 'file' as const, size: read.ok ? read.size : null };
  });
  return { kind: 'dir', path, entries, truncated: all.length > MAX_LISTED_ENTRIES };
}
