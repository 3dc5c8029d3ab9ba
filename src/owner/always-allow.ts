import { decide, isExactAllow } from '../policy/decide.js';
import { normaliseCellPath } from '../policy/match-rule.js';
import { parsePolicy } from '../policy/policy-file.js';
import { MATCHER_KEYS } from '../policy/rules.js';

/** The comment above each rule "Always allow" writes: how the Policy view finds (and undoes) it. */
const MARKER = /^# always allowed from the dashboard \(approval ([A-Z0-9]{1,12}), (\S+)\)$/;

export function markerLine(code: string, at: Date): string {
  return `# always allowed from the dashboard (approval ${code}, ${at.toISOString()})`;
}

const SHELL_SYNTAX = /[;&|`$()<>\n\r]/;
const quote = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * The exact allow that answers this call's ask for good (src/policy/decide.ts isExactAllow),
 * or why no rule can name just this call.
 */
export function exactAllowFor(
  tool: string,
  input: Record<string, unknown>,
): { ok: true; rule: string } | { ok: false; reason: string } {
  const keys = MATCHER_KEYS[tool] ?? [];
  if (tool === 'http' || keys.length === 0) {
    return {
      ok: false,
      reason: `a rule for ${tool} cannot name this one call (it takes no command or path), so it is approved call by call; to allow more, edit the group's policy in Policy`,
    };
  }
  const parts = [`allow ${tool}`];
  for (const key of keys) {
    const raw = input[key];
    if (typeof raw !== 'string' || raw.trim() === '') {
      return { ok: false, reason: `the call has no ${key} to name in a rule; approve it once` };
    }
    const value = key === 'path' ? normaliseCellPath(raw) : raw.trim();
    if (/[*?]/.test(value)) {
      return {
        ok: false,
        reason: `its ${key} contains * or ?, which a rule reads as a wildcard (allowing more than this call); approve it once`,
      };
    }
    if (key === 'command' && SHELL_SYNTAX.test(value)) {
      return {
        ok: false,
        reason:
          'the command uses shell syntax (; & | $ ` ( ) < >), which an allow rule never matches; approve it once',
      };
    }
    parts.push(`${key}=${quote(value)}`);
  }
  const rule = parts.join(' ');
  // Proof before writing: the rule parses, is exact, and answers an ask of exactly this call.
  const parsed = parsePolicy(`ask ${tool}\n${rule}`, 'check');
  const written = parsed.rules[1];
  if (parsed.errors.length > 0 || !written || !isExactAllow(written)) {
    return { ok: false, reason: 'no exact rule can name this call; approve it once' };
  }
  const check = decide(
    { groupName: 'g', isAdmin: false, tool, toolClass: 'cell', input },
    { defaults: [], group: parsed.rules },
  );
  if (check.effect !== 'allow') {
    return { ok: false, reason: 'no exact rule can name this call; approve it once' };
  }
  return { ok: true, rule };
}

export interface AlwaysRule {
  /** The rule's line (1-based) in `text`. */
  line: number;
  rule: string;
  code: string;
  addedAt: string;
}

/** The rules "Always allow" wrote into a policy file's text (a marker line, then the rule). */
export function alwaysRulesIn(text: string): AlwaysRule[] {
  const lines = text.split('\n');
  const found: AlwaysRule[] = [];
  lines.forEach((l, i) => {
    const m = MARKER.exec(l);
    const next = lines[i + 1];
    if (m && next !== undefined && next.startsWith('allow ')) {
      found.push({ line: i + 2, rule: next, code: m[1]!, addedAt: m[2]! });
    }
  });
  return found;
}

/** `text` without that one rule and its marker, or undefined when it is not there as listed. */
export function withoutAlwaysRule(text: string, line: number, rule: string): string | undefined {
  if (!alwaysRulesIn(text).some((r) => r.line === line && r.rule === rule)) return undefined;
  const lines = text.split('\n');
  lines.splice(line - 2, 2);
  return lines.join('\n');
}

/** `text` with the rule added at the end, under its marker. */
export function withAlwaysRule(text: string, rule: string, code: string, at: Date): string {
  const base = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  return `${base}${markerLine(code, at)}\n${rule}\n`;
}
