import { CELL_TOOL_NAMES } from '../cells/tool-protocol.js';
import { tokenizeLine, type Token } from './policy-tokens.js';
import {
  EFFECTS,
  HTTP_TOOL,
  MATCHER_KEYS,
  type Effect,
  type MatcherKey,
  type Rule,
} from './rules.js';

export interface PolicyProblem {
  /** 1-based line number. */
  line: number;
  message: string;
}

export interface ParsedPolicy {
  rules: Rule[];
  /** Lines that are not rules; a file with errors must not be used. */
  errors: PolicyProblem[];
  /** Valid rules that probably do not do what their author meant. */
  warnings: PolicyProblem[];
}

export interface ParseOptions {
  /** When given, a tool name outside this list is an error (catches typos like `bassh`). */
  knownTools?: readonly string[];
}

const ALL_KEYS: readonly MatcherKey[] = ['command', 'path', 'domain', 'method', 'port'];
// Not CONNECT: a tunnel's requests cannot be read, so the proxy judges it without a method
// (a rule with no method or path opens it); a method=CONNECT rule would never match.
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const TOOL_NAME = /^(\*|[a-z][a-z0-9_]*)$/;
/**
 * An MCP tool, `SERVER__tool` (src/mcp/offer-tools.ts): known only once its server has listed
 * it in a run, so a rule may name one that no list here holds.
 */
const MCP_TOOL_NAME = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*__[a-z0-9_]+$/;
// A trailing dot (a fully qualified name) is allowed: names compare without it.
const DOMAIN = /^(\*|(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*\.?)$/i;

/**
 * Parse a policy file: one rule a line, `effect tool key=value ...`; `#` starts a comment.
 *
 *     deny  read_file path="private/**"
 *     ask   bash command="rm *"
 *     allow http domain="api.github.com" method=GET path="/repos/**"
 *
 * `sourceName` is recorded on every rule, so decisions can say where they came from.
 */
export function parsePolicy(
  text: string,
  sourceName: string,
  options: ParseOptions = {},
): ParsedPolicy {
  const result: ParsedPolicy = { rules: [], errors: [], warnings: [] };
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const tokenized = tokenizeLine(raw);
    if (!tokenized.ok) {
      result.errors.push({ line, message: tokenized.message });
      return;
    }
    if (tokenized.tokens.length === 0) return;
    const parsed = parseRule(tokenized.tokens, options);
    if (!parsed.ok) {
      result.errors.push({ line, message: parsed.message });
      return;
    }
    const rule: Rule = { ...parsed.rule, source: sourceName, line, text: tokenized.text };
    result.rules.push(rule);
    const warning = warningFor(rule);
    if (warning) result.warnings.push({ line, message: warning });
  });
  return result;
}

type RuleBody = Pick<Rule, 'effect' | 'tool' | 'matchers' | 'when'>;

function parseRule(
  tokens: Token[],
  options: ParseOptions,
): { ok: true; rule: RuleBody } | { ok: false; message: string } {
  const fail = (message: string) => ({ ok: false as const, message });
  const [first, second, ...rest] = tokens;
  if (!first || first.kind !== 'word') {
    return fail('a rule starts with allow, deny or ask, e.g. deny bash command="rm *"');
  }
  if (!(EFFECTS as readonly string[]).includes(first.text)) {
    return fail(
      `unknown effect ${shown(first.text, EFFECTS, 'in the first word')}${didYouMean(first.text, EFFECTS)}; a rule starts with allow, deny or ask`,
    );
  }
  const effect = first.text as Effect;
  if (!second)
    return fail(`${effect} needs a tool name, e.g. ${effect} bash (or * for every tool)`);
  if (second.kind !== 'word') {
    return fail(
      `the tool name is missing before ${second.key}=; write e.g. ${effect} bash ${second.key}=...`,
    );
  }
  const tool = second.text;
  if (!TOOL_NAME.test(tool)) {
    return fail(
      `${shown(tool, vocabulary(options), 'the second word')} is not a tool name; use a tool such as bash, http, or * for every tool`,
    );
  }
  if (
    tool !== '*' &&
    options.knownTools &&
    !options.knownTools.includes(tool) &&
    !MCP_TOOL_NAME.test(tool)
  ) {
    return fail(
      `unknown tool ${shown(tool, options.knownTools, 'in the second word')}${didYouMean(tool, options.knownTools)}; known tools: ${options.knownTools.join(', ')}`,
    );
  }
  if (tool === '*' && effect === 'allow') {
    return fail('allow * would open every tool and all network access; name the tools to allow');
  }
  const matchers: RuleBody['matchers'] = {};
  let when: RuleBody['when'];
  for (const token of rest) {
    if (token.kind === 'word') {
      return fail(
        `expected key=value after the tool, got ${shown(token.text, ALL_KEYS, 'a bare word')}; quote a pattern with spaces, e.g. command="git *"`,
      );
    }
    if (token.key === 'when') {
      if (when) return fail('when is given twice; give it once (when=untrusted or when=trusted)');
      if (token.value !== 'untrusted' && token.value !== 'trusted') {
        return fail(
          `when takes untrusted or trusted (a run that has or has not read someone else's words), e.g. ${effect} ${tool} when=untrusted`,
        );
      }
      when = token.value;
      continue;
    }
    const problem = checkMatcher(tool, token.key, token.value, matchers);
    if (problem) return fail(problem);
    matchers[token.key as MatcherKey] = token.value;
  }
  return { ok: true, rule: { effect, tool, matchers, ...(when ? { when } : {}) } };
}

function checkMatcher(
  tool: string,
  key: string,
  value: string,
  seen: RuleBody['matchers'],
): string | undefined {
  const allowed = MATCHER_KEYS[tool] ?? [];
  const takes =
    allowed.length === 0 ? `${tool} takes no matchers` : `${tool} takes ${allowed.join(', ')}`;
  if (key === '') return `a matcher needs a name before "="; ${takes}`;
  if (!(ALL_KEYS as readonly string[]).includes(key)) {
    return `unknown matcher ${shown(key, ALL_KEYS, 'name')}${didYouMean(key, allowed)}; ${takes}`;
  }
  if (tool === '*') return `* takes no matchers; name one tool to match its arguments`;
  if (!(allowed as readonly string[]).includes(key))
    return `${key} does not apply to ${tool}; ${takes}`;
  if (Object.hasOwn(seen, key)) {
    return `${key} is given twice; a rule matches when all its matchers do, so give each once`;
  }
  if (value === '') return `${key} has no value; give a pattern, e.g. ${example(tool, key)}`;
  return checkValue(tool, key as MatcherKey, value);
}

function checkValue(tool: string, key: MatcherKey, value: string): string | undefined {
  switch (key) {
    case 'command':
      return undefined;
    case 'path':
      return checkPathPattern(tool, value);
    case 'domain':
      return DOMAIN.test(value)
        ? undefined
        : `domain ${/^[a-z0-9.*-]{1,253}$/i.test(value) ? `"${value}"` : 'value'} is not a pattern; use an exact name (api.github.com), *.suffix (*.github.com, which does not cover github.com) or *`;
    case 'method': {
      if (value === '*') return undefined;
      const methods = value.split(',').map((m) => m.trim().toUpperCase());
      if (methods.includes('CONNECT')) {
        return 'method CONNECT cannot be matched: the proxy judges an HTTPS tunnel by domain and port only, so a rule without method or path opens it (e.g. allow http domain="api.example.com")';
      }
      const bad = value.split(',').find((m) => !HTTP_METHODS.includes(m.trim().toUpperCase()));
      return bad === undefined
        ? undefined
        : `unknown method ${shown(bad, HTTP_METHODS, 'in the list')}; use ${HTTP_METHODS.join(', ')}, a comma list (GET,HEAD) or *`;
    }
    case 'port': {
      if (value === '*') return undefined;
      const bad = value.split(',').find((p) => {
        const n = Number(p.trim());
        return !/^\d+$/.test(p.trim()) || n < 1 || n > 65535;
      });
      return bad === undefined
        ? undefined
        : `port ${/^\s*\d{1,12}\s*$/.test(bad) ? `"${bad}"` : shown(bad, ['http', 'https'], 'value')} is not a port; use a number from 1 to 65535, a comma list (80,443) or *`;
    }
  }
}

function checkPathPattern(tool: string, value: string): string | undefined {
  const segments = value.split('/');
  if (segments.includes('..')) {
    return `the path contains ".."; write the path it leads to (paths are normalised before matching)`;
  }
  if (segments.some((s) => s.includes('**') && s !== '**')) {
    return `in the path, ** must be a whole segment, e.g. private/** or /repos/**/issues`;
  }
  if (tool === HTTP_TOOL && !value.startsWith('/')) {
    return `an http path starts with /, e.g. path="/repos/**"`;
  }
  return undefined;
}

function warningFor(rule: Rule): string | undefined {
  if (rule.effect === 'ask' && rule.tool === HTTP_TOOL) {
    return 'the egress proxy cannot wait for an approval in the middle of a request, so it refuses what this ask covers (as a deny would); write allow for what the cell may reach';
  }
  if (rule.effect !== 'allow') return undefined;
  if ((CELL_TOOL_NAMES as readonly string[]).includes(rule.tool)) {
    return `this allow has no effect: ${rule.tool} is allowed by default and deny/ask rules always win over allow; write deny or ask rules to restrict it`;
  }
  if (rule.tool === HTTP_TOOL && rule.matchers.domain === undefined) {
    return 'this allows network requests to every domain; add domain="..." to name the hosts';
  }
  return undefined;
}

function example(tool: string, key: string): string {
  if (key === 'command') return 'command="git *"';
  if (key === 'domain') return 'domain="api.github.com"';
  if (key === 'method') return 'method=GET';
  if (key === 'port') return 'port=443';
  return tool === HTTP_TOOL ? 'path="/repos/**"' : 'path="private/**"';
}

/**
 * A word of the file, quoted, when it is short or within two edits of a known word (a typo,
 * too close to known words to be a secret); else `instead`. The owner may paste a token into
 * the wrong file, and these errors reach the log, the chat and the model.
 */
function shown(word: string, known: readonly string[], instead: string): string {
  const typo = known.some((k) => editDistance(word.toLowerCase(), k.toLowerCase()) <= 2);
  const safe = word.length <= 4 || (typo && word.length <= 40);
  return safe ? `"${word}"` : instead;
}

function vocabulary(options: ParseOptions): readonly string[] {
  return options.knownTools ?? [...CELL_TOOL_NAMES, HTTP_TOOL];
}

/** `; did you mean "x"?` when one candidate is within two edits, else nothing. */
function didYouMean(word: string, candidates: readonly string[]): string {
  const close = candidates.find((c) => editDistance(word.toLowerCase(), c) <= 2);
  return close === undefined || close === word ? '' : ` (did you mean "${close}"?)`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
