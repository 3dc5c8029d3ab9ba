/**
 * Extra mounts: host folders or files a group asks to see in its cell, beyond its own group
 * folder (which is granted separately). Each request is judged against the owner's mount
 * allowlist (mount-allowlist.ts) and rules no allowlist can loosen:
 *
 * 1. The path is resolved, symlinks followed, and every check applies to where it really
 *    leads; a link planted inside an allowed root cannot point the cell at ~/.ssh
 *    (nanoclaw#2001). The mount uses the resolved path.
 * 2. It must exist and be a directory or a regular file: a socket such as docker.sock would
 *    hand the cell the host.
 * 3. No component of the requested or the resolved path may match a blocked pattern
 *    (DEFAULT_BLOCKED_PATTERNS in blocked-patterns.ts, plus the allowlist's own). The
 *    patterns judge the path, not what a mounted folder contains: a root should not hold
 *    secrets in the first place.
 * 4. The config dir (it holds the allowlist), the data dir (group folders are granted
 *    separately) and the project root (an agent must never patch the host's code:
 *    nanoclaw#392) are refused, and so is anything inside or containing one of them.
 * 5. The resolved path must lie in an allowed root, itself resolved. The innermost root
 *    containing it decides whether read-write is possible.
 * 6. Mounts are read-only unless the request sets `readOnly: false`. A read-write request is
 *    refused, not silently downgraded, when the group is not the admin group or the root does
 *    not allow read-write: an agent that expects to write and cannot would fail later with a
 *    less clear error.
 * 7. The cell path is `/workspace/extra/<name>`: by default the requested path's base name;
 *    an explicit containerPath must be normalised, below /workspace/extra/ and not equal to
 *    it. Two mounts may not share a cell path, nor may one lie inside another (a nested mount
 *    point would have to be created inside the outer mount, on the host).
 *
 * Paths and cell paths are limited to characters the runtimes' mount syntax carries safely
 * (docker's `--mount` is comma-separated key=value: a comma in a path would add options).
 */
import fs from 'node:fs';
import path from 'node:path';
import { BlockedPatterns, DEFAULT_BLOCKED_PATTERNS, type BlockedHit } from './blocked-patterns.js';
import type { Mount } from './cell-runtime.js';
import {
  expandHomePath,
  mountAllowlistPath,
  type AllowedRoot,
  type MountAllowlist,
} from './mount-allowlist.js';

export const EXTRA_MOUNT_ROOT = '/workspace/extra';

export interface MountRequest {
  /** Absolute, or starting with `~/`. */
  hostPath: string;
  /** Where the cell sees it; default `/workspace/extra/<base name of hostPath>`. */
  containerPath?: string;
  /** Default true; read-write needs the admin group and a root with allowReadWrite. */
  readOnly?: boolean;
}

export interface MountContext {
  isAdmin: boolean;
  homeDir: string;
  /** Holds the mount allowlist: never mountable. */
  configDir: string;
  /** NANOCELL_HOME: group folders are granted separately, never as extra mounts. */
  dataDir: string;
  /** The host's own code: never mountable. */
  projectRoot: string;
}

export interface MountRefusal {
  request: MountRequest;
  reason: string;
}

export interface MountValidation {
  mounts: Mount[];
  refusals: MountRefusal[];
}

/** Judge each request on its own; a refusal never stops the others from being granted. */
export function validateMounts(
  requests: readonly MountRequest[],
  allowlist: MountAllowlist,
  ctx: MountContext,
): MountValidation {
  const rules = prepareRules(allowlist, ctx);
  const mounts: Mount[] = [];
  const refusals: MountRefusal[] = [];
  for (const request of requests) {
    const verdict = judge(request, rules, ctx, mounts);
    if (verdict.ok) mounts.push(verdict.mount);
    else refusals.push({ request, reason: verdict.reason });
  }
  return { mounts, refusals };
}

interface Rules {
  blocked: BlockedPatterns;
  protectedDirs: Array<{ forms: string[]; label: string; why: string }>;
  roots: Array<{ root: AllowedRoot; resolved: string }>;
  allowlistFile: string;
}

type Verdict = { ok: true; mount: Mount } | { ok: false; reason: string };

function prepareRules(allowlist: MountAllowlist, ctx: MountContext): Rules {
  const protectedDir = (dir: string, label: string, why: string) => ({
    forms: unique([path.resolve(dir), realpathOr(dir)]),
    label,
    why,
  });
  const roots = allowlist.allowedRoots.flatMap((root) => {
    // A root that does not exist (yet) cannot contain anything that does.
    const resolved = realpathOrUndefined(root.path);
    return resolved === undefined ? [] : [{ root, resolved }];
  });
  return {
    blocked: new BlockedPatterns([...DEFAULT_BLOCKED_PATTERNS, ...allowlist.blockedPatterns]),
    protectedDirs: [
      protectedDir(
        ctx.configDir,
        'the nanocell config dir',
        'it holds the mount allowlist, which no cell may read or change',
      ),
      protectedDir(
        ctx.dataDir,
        'the nanocell data dir',
        "it holds every group's folder, history and database; a group's own folder is granted separately",
      ),
      protectedDir(
        ctx.projectRoot,
        "nanocell's own code",
        "an agent must never be able to change the host's code",
      ),
    ],
    roots,
    allowlistFile: mountAllowlistPath(ctx.configDir),
  };
}

function judge(
  request: MountRequest,
  rules: Rules,
  ctx: MountContext,
  granted: readonly Mount[],
): Verdict {
  const refuse = (reason: string): Verdict => ({ ok: false, reason });
  if (typeof request.hostPath !== 'string' || request.hostPath === '') {
    return refuse('hostPath is missing: give an absolute path or one starting with ~/');
  }
  if (request.readOnly !== undefined && typeof request.readOnly !== 'boolean') {
    return refuse('readOnly must be true or false');
  }
  if (hasControlChar(request.hostPath)) {
    return refuse('hostPath contains a control character; give a plain path');
  }
  const expanded = expandHomePath(request.hostPath, ctx.homeDir);
  if (!expanded.ok) return refuse(`hostPath: ${expanded.reason}`);
  const requested = expanded.path;

  const blockedRequested = rules.blocked.firstMatch(requested);
  if (blockedRequested) return refuse(blockedReason(`"${request.hostPath}"`, blockedRequested));

  let resolved: string;
  try {
    resolved = fs.realpathSync(requested);
  } catch (err) {
    return refuse(resolveFailure(request.hostPath, err));
  }
  const shown =
    resolved === requested
      ? `"${request.hostPath}"`
      : `"${request.hostPath}" (which resolves to "${resolved}")`;

  let stat: fs.Stats;
  try {
    stat = fs.statSync(resolved);
  } catch (err) {
    return refuse(resolveFailure(request.hostPath, err));
  }
  if (!stat.isDirectory() && !stat.isFile()) {
    return refuse(
      `${shown} is ${describeKind(stat)}; only folders and regular files can be mounted, because a socket or device would give the cell control of the host`,
    );
  }

  const blockedResolved = rules.blocked.firstMatch(resolved);
  if (blockedResolved) return refuse(blockedReason(shown, blockedResolved));

  if (/[,"]/.test(resolved) || hasControlChar(resolved)) {
    return refuse(
      `${shown} contains a comma, double quote or control character, which the container runtime's mount syntax cannot carry safely; rename the folder or mount a parent without one`,
    );
  }

  for (const dir of rules.protectedDirs) {
    for (const form of dir.forms) {
      const relation = relate(resolved, form);
      if (relation === 'unrelated') continue;
      const where =
        relation === 'same'
          ? `is ${dir.label} (${form})`
          : relation === 'inside'
            ? `is inside ${dir.label} (${form})`
            : `contains ${dir.label} (${form})`;
      const instead =
        relation === 'contains'
          ? '; mount a folder beside it instead, one that does not contain it'
          : '; it can never be mounted';
      return refuse(`${shown} ${where}: ${dir.why}${instead}`);
    }
  }

  const root = innermostRoot(resolved, rules);
  if (!root) {
    if (rules.roots.length === 0) {
      return refuse(
        `${shown} is not under an allowed root, and no extra mounts are allowed at all: the owner lists folders that may be mounted under "allowedRoots" in ${rules.allowlistFile}`,
      );
    }
    const allowed = rules.roots.map((r) => r.resolved).join(', ');
    return refuse(
      `${shown} is not under an allowed root; paths under ${allowed} may be mounted, and the owner can add roots in ${rules.allowlistFile}`,
    );
  }

  const readOnly = request.readOnly !== false;
  if (!readOnly && !ctx.isAdmin) {
    return refuse(
      `${shown} was asked read-write, but only the admin group may have read-write mounts; request it with readOnly: true`,
    );
  }
  if (!readOnly && !root.root.allowReadWrite) {
    return refuse(
      `${shown} was asked read-write, but its allowed root ${root.resolved} is read-only; request it with readOnly: true, or the owner sets "allowReadWrite": true on that root in ${rules.allowlistFile}`,
    );
  }

  const cellPath = chooseCellPath(request, requested);
  if (!cellPath.ok) return refuse(cellPath.reason);
  const clash = granted.find((m) => relate(cellPath.path, m.cellPath) !== 'unrelated');
  if (clash) {
    const how =
      clash.cellPath === cellPath.path
        ? 'is already used by the mount of'
        : relate(cellPath.path, clash.cellPath) === 'inside'
          ? 'is inside the mount of'
          : 'would contain the mount of';
    return refuse(
      `containerPath ${cellPath.path} ${how} ${clash.hostPath} at ${clash.cellPath}; give this mount a containerPath of its own under ${EXTRA_MOUNT_ROOT}/ that neither contains nor is inside another`,
    );
  }

  return { ok: true, mount: { hostPath: resolved, cellPath: cellPath.path, readOnly } };
}

const CELL_NAME = /^[A-Za-z0-9._@+-]+$/;

function chooseCellPath(
  request: MountRequest,
  requested: string,
): { ok: true; path: string } | { ok: false; reason: string } {
  const example = `${EXTRA_MOUNT_ROOT}/notes`;
  if (request.containerPath === undefined) {
    // Characters the mount syntax cannot carry become '_': "My Notes" is seen as My_Notes.
    const name = path.basename(requested).replace(/[^A-Za-z0-9._@+-]/g, '_');
    if (name === '' || /^\.+$/.test(name)) {
      return {
        ok: false,
        reason: `"${request.hostPath}" has no base name to mount it under; give a containerPath such as ${example}`,
      };
    }
    return { ok: true, path: `${EXTRA_MOUNT_ROOT}/${name}` };
  }
  const cp = request.containerPath;
  if (typeof cp !== 'string' || !cp.startsWith(`${EXTRA_MOUNT_ROOT}/`)) {
    return {
      ok: false,
      reason: `containerPath ${JSON.stringify(cp)} is not under ${EXTRA_MOUNT_ROOT}/; extra mounts may only appear there, e.g. ${example}`,
    };
  }
  const parts = cp.slice(EXTRA_MOUNT_ROOT.length + 1).split('/');
  if (parts.some((p) => p === '..')) {
    return {
      ok: false,
      reason: `containerPath "${cp}" contains "..", which is not allowed; write it as ${example}`,
    };
  }
  if (cp === `${EXTRA_MOUNT_ROOT}/` || path.posix.normalize(cp) !== cp || cp.endsWith('/')) {
    return {
      ok: false,
      reason: `containerPath "${cp}" must name a path below ${EXTRA_MOUNT_ROOT}/ in normal form (no empty, "." or ".." parts, no trailing "/"), e.g. ${example}`,
    };
  }
  const bad = parts.find((p) => !CELL_NAME.test(p));
  if (bad !== undefined) {
    return {
      ok: false,
      reason: `containerPath "${cp}" has the part "${bad}"; use only letters, digits and . _ @ + - in it`,
    };
  }
  return { ok: true, path: cp };
}

function innermostRoot(resolved: string, rules: Rules): Rules['roots'][number] | undefined {
  let best: Rules['roots'][number] | undefined;
  for (const r of rules.roots) {
    const relation = relate(resolved, r.resolved);
    if (relation !== 'same' && relation !== 'inside') continue;
    if (!best || r.resolved.length > best.resolved.length) best = r;
  }
  return best;
}

/** How path `a` relates to path `b`; both absolute and normalised. */
function relate(a: string, b: string): 'same' | 'inside' | 'contains' | 'unrelated' {
  if (a === b) return 'same';
  if (isBelow(a, b)) return 'inside';
  if (isBelow(b, a)) return 'contains';
  return 'unrelated';
}

function isBelow(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

function blockedReason(shown: string, hit: BlockedHit): string {
  return `${shown} has the part "${hit.component}", which matches the blocked pattern "${hit.pattern}": paths to credentials and keys are never mounted; mount a folder whose path has no such part`;
}

function resolveFailure(hostPath: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    return `"${hostPath}" does not exist (or is a symbolic link to nothing); create it first or fix the path`;
  }
  if (code === 'ELOOP')
    return `"${hostPath}" is a loop of symbolic links; point it at a real folder`;
  if (code === 'EACCES')
    return `"${hostPath}" cannot be reached: permission denied on the way to it`;
  if (code === 'ENOTDIR')
    return `"${hostPath}" goes through something that is not a folder; fix the path`;
  return `"${hostPath}" cannot be resolved (${(err as Error).message}); fix the path`;
}

function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function describeKind(stat: fs.Stats): string {
  if (stat.isSocket()) return 'a socket';
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'neither a folder nor a regular file';
}

function realpathOrUndefined(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined;
  }
}

function realpathOr(p: string): string {
  return realpathOrUndefined(p) ?? path.resolve(p);
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
