import path from 'node:path';
import { z } from 'zod';
import { GROUP_NAME_PATTERN } from '../store/groups.js';

/**
 * A group's own cell root and image: the base plus the Debian packages the owner listed in
 * NANOCELL_CONFIG_DIR/cell-packages/GROUP, built by scripts/build-cell-image.sh (never by an
 * agent at run time).
 */
export interface GroupCellImage {
  /** bwrap's root for the group's cells: the base rootfs with the group's layer merged in. */
  rootfs: string;
  /** docker/podman image, imported from that rootfs: nanocell-cell:<hash>-<group>. */
  image: string;
}

const GROUP_IMAGE_PATTERN = /^nanocell-cell:[0-9a-f]{12}-[a-z0-9][a-z0-9_-]{0,62}$/;

const manifestSchema = z.object({
  groups: z.record(
    z.string().regex(GROUP_NAME_PATTERN, 'a group name ([a-z0-9_-], at most 63)'),
    z.object({
      rootfs: z.string().refine((p) => path.isAbsolute(p), 'an absolute path'),
      image: z.string().regex(GROUP_IMAGE_PATTERN, 'nanocell-cell:<12 hex>-<group>'),
    }),
  ),
});

export type GroupCellImages =
  { ok: true; groups: Record<string, GroupCellImage> } | { ok: false; problem: string };

/**
 * Parse build/cell-groups.json (written by scripts/build-cell-image.sh). A missing file means
 * no group has extra packages; a damaged one is a problem to report, never a guess.
 */
export function parseGroupCellImages(text: string | undefined, file: string): GroupCellImages {
  if (text === undefined) return { ok: true, groups: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      problem: `${file}: not JSON (${(err as Error).message}); rebuild it with scripts/build-cell-image.sh`,
    };
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      ok: false,
      problem: `${file}: ${issue.path.join('.') || '(top)'}: ${issue.message}; rebuild it with scripts/build-cell-image.sh`,
    };
  }
  for (const [name, g] of Object.entries(parsed.data.groups)) {
    if (!g.image.endsWith(`-${name}`)) {
      return {
        ok: false,
        problem: `${file}: groups.${name}.image ${g.image} is not this group's; rebuild it with scripts/build-cell-image.sh`,
      };
    }
  }
  return { ok: true, groups: parsed.data.groups };
}
