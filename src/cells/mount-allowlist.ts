/**
 * The mount allowlist: the host folders the owner lets groups mount into their cells as extra
 * mounts, beyond each group's own folder.
 *
 * It lives at `<configDir>/mount-allowlist.json` (configDir is `~/.config/nanocell` by
 * default), outside the project and the data dir. validateMounts refuses the config dir, and
 * anything inside or containing it, as a mount source, so no cell can read or rewrite the list
 * that decides what cells may see.
 *
 * ```json
 * {
 *   "allowedRoots": [
 *     { "path": "~/projects", "allowReadWrite": true, "description": "code I work on" },
 *     { "path": "/srv/photos", "description": "read-only photo library" }
 *   ],
 *   "blockedPatterns": ["*.sqlite", "private"]
 * }
 * ```
 *
 * - `allowedRoots` (required, may be empty): a mount is granted only for a path that resolves,
 *   symlinks followed, to one of these folders or to something inside it.
 *   - `path`: absolute, or starting with `~/` for the owner's home dir.
 *   - `allowReadWrite` (default false): whether the admin group may mount paths under this root
 *     read-write. Other groups always get read-only mounts.
 *   - `description`: a note for the owner; not used by the code.
 *   When roots nest, the innermost root containing a path decides its read-write permission,
 *   so a read-only root inside a read-write one narrows it.
 * - `blockedPatterns` (optional): names refused in any component of a mount's path, on top of
 *   the built-in list (DEFAULT_BLOCKED_PATTERNS in blocked-patterns.ts: .ssh, .aws, *.pem, ...). A pattern
 *   matches one whole path component, case-insensitively; `*` matches any run of characters and
 *   `?` one character, so a pattern never contains `/`.
 *
 * A missing file allows no extra mounts and is not an error. Unknown keys are errors: a
 * misspelt key must not silently drop a restriction the owner meant to set.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { locateJsonSyntaxError } from './json-syntax-error.js';

export const MOUNT_ALLOWLIST_FILE = 'mount-allowlist.json';

export interface AllowedRoot {
  /** Absolute and normalised, `~` already expanded; symlinks are resolved when mounts are checked. */
  path: string;
  allowReadWrite: boolean;
  description?: string;
}

export interface MountAllowlist {
  allowedRoots: AllowedRoot[];
  /** The owner's own patterns; the built-in ones are added by validateMounts. */
  blockedPatterns: string[];
}

export type MountAllowlistResult =
  { ok: true; allowlist: MountAllowlist } | { ok: false; errors: string[] };

export function mountAllowlistPath(configDir: string): string {
  return path.join(configDir, MOUNT_ALLOWLIST_FILE);
}

/** No roots: what a missing allowlist file means. */
export function emptyMountAllowlist(): MountAllowlist {
  return { allowedRoots: [], blockedPatterns: [] };
}

/**
 * Expand a leading `~` to homeDir and normalise. Relative paths and `~user` forms are refused:
 * a relative path would depend on the host process's working directory.
 */
export function expandHomePath(
  raw: string,
  homeDir: string,
): { ok: true; path: string } | { ok: false; reason: string } {
  if (raw === '~' || raw.startsWith('~/')) {
    return { ok: true, path: path.resolve(homeDir, `.${raw.slice(1)}`) };
  }
  if (raw.startsWith('~')) {
    return {
      ok: false,
      reason: `only ~ and ~/ (your own home) are expanded; write the absolute path instead of "${raw}"`,
    };
  }
  if (!path.isAbsolute(raw)) {
    return {
      ok: false,
      reason: `"${raw}" is a relative path; write an absolute path such as "${path.join(homeDir, raw)}", or "~/${raw}"`,
    };
  }
  return { ok: true, path: path.resolve(raw) };
}

const PATTERN_CHARS = /^[^/\0]+$/;

function fileSchema(homeDir: string) {
  const rootPath = z
    .string({ error: 'must be a string: an absolute path or one starting with ~/' })
    .check((ctx) => {
      if (ctx.value === '') {
        ctx.issues.push({
          code: 'custom',
          input: ctx.value,
          message: 'is empty; write an absolute path or one starting with ~/',
        });
        return;
      }
      const expanded = expandHomePath(ctx.value, homeDir);
      if (!expanded.ok)
        ctx.issues.push({ code: 'custom', input: ctx.value, message: expanded.reason });
    });
  const root = z.strictObject(
    {
      path: rootPath,
      allowReadWrite: z.boolean({ error: 'must be true or false' }).optional(),
      description: z.string({ error: 'must be a string' }).optional(),
    },
    { error: (iss) => objectError(iss, 'an object like { "path": "~/projects" }', ROOT_KEYS) },
  );
  const pattern = z.string({ error: 'must be a string such as "*.sqlite"' }).check((ctx) => {
    if (!PATTERN_CHARS.test(ctx.value)) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: `"${ctx.value}" must be one non-empty path component without "/": patterns match single names such as "secrets" or "*.sqlite"`,
      });
    }
  });
  return z.strictObject(
    {
      allowedRoots: z.array(root, {
        error: (iss) =>
          iss.input === undefined
            ? 'is missing: add "allowedRoots": [] (no extra mounts) or a list of roots'
            : 'must be a list of roots like [{ "path": "~/projects" }]',
      }),
      blockedPatterns: z
        .array(pattern, { error: 'must be a list of strings such as ["*.sqlite"]' })
        .optional(),
    },
    { error: (iss) => objectError(iss, 'an object like { "allowedRoots": [] }', TOP_KEYS) },
  );
}

const TOP_KEYS = ['allowedRoots', 'blockedPatterns'];
const ROOT_KEYS = ['path', 'allowReadWrite', 'description'];

function objectError(
  iss: { code?: string; keys?: string[] },
  shape: string,
  known: string[],
): string {
  if (iss.code === 'unrecognized_keys') {
    const keys = (iss.keys ?? []).map((k) => `"${k}"`).join(', ');
    return `unknown key ${keys}: the keys allowed here are ${known.join(', ')}`;
  }
  return `must be ${shape}`;
}

function issuePath(keys: readonly PropertyKey[]): string {
  let out = '';
  for (const key of keys) {
    out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  }
  return out || '(top level)';
}

/**
 * Read and check the allowlist. Every problem in the file is reported, each naming its place
 * (`allowedRoots[1].path`, or line:column for broken JSON) and how to fix it.
 */
export function loadMountAllowlist(file: string, opts: { homeDir: string }): MountAllowlistResult {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: true, allowlist: emptyMountAllowlist() };
    const why =
      code === 'EISDIR'
        ? 'it is a directory; it must be a JSON file'
        : `${(err as Error).message}; check its permissions`;
    return { ok: false, errors: [`${file}: cannot be read: ${why}`] };
  }
  // Editors on some systems start a UTF-8 file with a byte-order mark JSON.parse rejects.
  if (text.startsWith('\uFEFF')) text = text.slice(1);

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const at = locateJsonSyntaxError(text);
    const where = at ? `${at.line}:${at.column}: ${at.problem}` : 'is not valid JSON';
    return {
      ok: false,
      errors: [
        `${file}:${where} (the file must be JSON such as { "allowedRoots": [{ "path": "~/projects" }] })`,
      ],
    };
  }

  const parsed = fileSchema(opts.homeDir).safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((iss) => `${file}: ${issuePath(iss.path)}: ${iss.message}`),
    };
  }
  return {
    ok: true,
    allowlist: {
      allowedRoots: parsed.data.allowedRoots.map((root) => {
        const expanded = expandHomePath(root.path, opts.homeDir);
        // The schema has already refused every path expandHomePath refuses.
        if (!expanded.ok) throw new Error(`unreachable: ${expanded.reason}`);
        return {
          path: expanded.path,
          allowReadWrite: root.allowReadWrite ?? false,
          ...(root.description !== undefined ? { description: root.description } : {}),
        };
      }),
      blockedPatterns: parsed.data.blockedPatterns ?? [],
    },
  };
}
