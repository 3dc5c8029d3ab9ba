import path from 'node:path';
import { GROUP_MOUNT_PATH } from '../tools/cell-tools.js';
import { matchPathGlob, matchTextGlob, pathGlobReaches } from './glob.js';
import { canonicalHost } from './host-name.js';
import {
  HTTP_TOOL,
  RECURSIVE_FILE_TOOLS,
  type MatcherKey,
  type PolicyCall,
  type Rule,
} from './rules.js';

/** A matcher's verdict; `unreadable` when the input lacks the field or it has the wrong type. */
type Verdict = boolean | 'unreadable';

/**
 * Whether `rule` applies to `call`. Matching leans to safety both ways: where the input
 * cannot be read, or could be read two ways, deny and ask rules match and allow rules don't.
 */
export function ruleMatches(rule: Rule, call: PolicyCall): boolean {
  if (rule.tool !== '*' && rule.tool !== call.tool) return false;
  if (rule.when && (rule.when === 'untrusted') !== (call.untrusted === true)) return false;
  const strict = rule.effect !== 'allow';
  for (const [key, pattern] of Object.entries(rule.matchers) as Array<[MatcherKey, string]>) {
    const verdict = matchOne(key, pattern, call, strict);
    if (verdict === 'unreadable' ? !strict : !verdict) return false;
  }
  return true;
}

function matchOne(key: MatcherKey, pattern: string, call: PolicyCall, strict: boolean): Verdict {
  const { input } = call;
  if (call.tool === HTTP_TOOL) {
    switch (key) {
      case 'domain':
        return matchDomain(pattern, input.domain);
      case 'method':
        return matchMethod(pattern, input.method);
      case 'path':
        return matchHttpPath(pattern, input.path);
      case 'port':
        return matchPort(pattern, input.port);
      default:
        return 'unreadable';
    }
  }
  if (key === 'command') return matchCommand(pattern, input.command, strict);
  if (key === 'path') return matchFilePath(pattern, input.path, call.tool, strict);
  return 'unreadable';
}

// Shell syntax that chains, substitutes or redirects: a command containing any of it is
// more than the one program its first word names.
const SHELL_SPECIAL = /[;&|`$()<>\n\r]/;
const SHELL_SPLIT = /;|&|\||`|\$\(|\(|\)|\n|\r/;

/**
 * A deny/ask rule matches the whole command or any simple command inside it (`cd x && rm y`
 * meets `rm *`), also with the program's directory dropped (`/bin/rm` meets `rm *`). An
 * allow rule matches only a plain command with no shell syntax. This is a guard on what the
 * model asks for, not a boundary: the cell is the boundary.
 */
function matchCommand(pattern: string, command: unknown, strict: boolean): Verdict {
  if (typeof command !== 'string') return 'unreadable';
  const whole = command.trim();
  if (!strict) return !SHELL_SPECIAL.test(whole) && matchTextGlob(pattern, whole);
  const candidates = [whole];
  for (const part of whole.split(SHELL_SPLIT)) {
    const simple = part.trim();
    if (simple === '') continue;
    candidates.push(simple, simple.replace(/^\S*\//, ''));
  }
  return candidates.some((c) => matchTextGlob(pattern, c));
}

/** A cell path as the cell resolves it: relative to the group folder, `.` and `..` collapsed. */
export function normaliseCellPath(p: string): string {
  return path.posix.resolve(GROUP_MOUNT_PATH, p);
}

function matchFilePath(pattern: string, value: unknown, tool: string, strict: boolean): Verdict {
  const recursive = RECURSIVE_FILE_TOOLS.includes(tool);
  // list_files and grep without a path walk the whole group folder.
  const raw = value === undefined && recursive ? GROUP_MOUNT_PATH : value;
  if (typeof raw !== 'string' || raw === '') return 'unreadable';
  const target = normaliseCellPath(raw);
  const glob = normaliseCellPath(pattern);
  return recursive && strict ? pathGlobReaches(glob, target) : matchPathGlob(glob, target);
}

function matchDomain(pattern: string, value: unknown): Verdict {
  if (typeof value !== 'string' || value === '') return 'unreadable';
  const host = canonicalHost(value);
  const p = canonicalHost(pattern);
  if (p === '*') return true;
  if (p.startsWith('*.')) return host.endsWith(p.slice(1));
  return host === p;
}

function matchMethod(pattern: string, value: unknown): Verdict {
  if (typeof value !== 'string' || value === '') return 'unreadable';
  if (pattern === '*') return true;
  return pattern
    .split(',')
    .map((m) => m.trim().toUpperCase())
    .includes(value.toUpperCase());
}

function matchPort(pattern: string, value: unknown): Verdict {
  const port = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof port !== 'number' || !Number.isInteger(port)) return 'unreadable';
  if (pattern === '*') return true;
  return pattern.split(',').some((p) => Number(p.trim()) === port);
}

/**
 * The URL path as the server will likely read it: query and fragment dropped, percent-escapes
 * decoded, dot segments collapsed, so `/repos/%2e%2e/admin` meets rules on `/admin`.
 */
export function normaliseHttpPath(raw: string): string | undefined {
  const bare = raw.replace(/[?#].*$/s, '');
  if (!bare.startsWith('/')) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(bare);
  } catch {
    // A malformed escape cannot be read one way only.
    return undefined;
  }
  return path.posix.resolve('/', decoded);
}

function matchHttpPath(pattern: string, value: unknown): Verdict {
  if (typeof value !== 'string') return 'unreadable';
  const target = normaliseHttpPath(value);
  if (target === undefined) return 'unreadable';
  return matchPathGlob(path.posix.resolve('/', pattern), target);
}
