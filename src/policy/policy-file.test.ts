import { describe, expect, it } from 'vitest';
import { parsePolicy } from './policy-file.js';
import { knownToolNames } from './rules.js';

const knownTools = knownToolNames(['send_message', 'schedule_task', 'register_group']);

describe('parsePolicy', () => {
  it('reads rules with their source, line and text, skipping blanks and comments', () => {
    const text = [
      '# the family group',
      '',
      'allow send_message',
      '   deny  read_file path="/workspace/group/private/**"   # keep out',
      'ask bash command="rm *"',
      'allow http domain="api.github.com" method=GET path="/repos/**" port=443',
      'deny *',
    ].join('\n');
    const parsed = parsePolicy(text, 'groups/family.policy', { knownTools });
    expect(parsed.errors).toEqual([]);
    expect(parsed.rules).toEqual([
      {
        effect: 'allow',
        tool: 'send_message',
        matchers: {},
        source: 'groups/family.policy',
        line: 3,
        text: 'allow send_message',
      },
      {
        effect: 'deny',
        tool: 'read_file',
        matchers: { path: '/workspace/group/private/**' },
        source: 'groups/family.policy',
        line: 4,
        text: 'deny  read_file path="/workspace/group/private/**"',
      },
      {
        effect: 'ask',
        tool: 'bash',
        matchers: { command: 'rm *' },
        source: 'groups/family.policy',
        line: 5,
        text: 'ask bash command="rm *"',
      },
      {
        effect: 'allow',
        tool: 'http',
        matchers: { domain: 'api.github.com', method: 'GET', path: '/repos/**', port: '443' },
        source: 'groups/family.policy',
        line: 6,
        text: 'allow http domain="api.github.com" method=GET path="/repos/**" port=443',
      },
      {
        effect: 'deny',
        tool: '*',
        matchers: {},
        source: 'groups/family.policy',
        line: 7,
        text: 'deny *',
      },
    ]);
  });

  it.each([
    ['escaped quote', String.raw`deny bash command="echo \"hi\""`, 'echo "hi"'],
    ['escaped backslash', String.raw`deny bash command="a\\b"`, 'a\\b'],
    ['other backslashes kept', String.raw`deny bash command="grep \d"`, 'grep \\d'],
    ['# inside quotes', 'deny bash command="echo #1"', 'echo #1'],
    ['bare value', 'deny bash command=shutdown', 'shutdown'],
  ])('reads a quoted value: %s', (_name, line, command) => {
    const parsed = parsePolicy(line, 'p');
    expect(parsed.errors).toEqual([]);
    expect(parsed.rules[0]?.matchers.command).toBe(command);
  });

  it('accepts CRLF line endings and a byte-order mark', () => {
    const parsed = parsePolicy('\uFEFFdeny bash\r\nask grep\r\n', 'p');
    expect(parsed.errors).toEqual([]);
    expect(parsed.rules.map((r) => [r.line, r.effect, r.tool])).toEqual([
      [1, 'deny', 'bash'],
      [2, 'ask', 'grep'],
    ]);
  });

  // Each error sits on line 2 behind a valid first line, so the line number is checked too.
  it.each<[string, string, RegExp]>([
    [
      'unknown effect',
      'alow bash',
      /unknown effect "alow" \(did you mean "allow"\?\).*allow, deny or ask/,
    ],
    ['a matcher instead of an effect', 'command="ls"', /a rule starts with allow, deny or ask/],
    ['missing tool', 'deny', /deny needs a tool name/],
    [
      'matcher instead of a tool',
      'deny command="rm *"',
      /tool name is missing before command=; write e\.g\. deny bash command=\.\.\./,
    ],
    ['malformed tool name', 'deny Bash!', /"Bash!" is not a tool name/],
    [
      'unknown tool',
      'deny bassh',
      /unknown tool "bassh" \(did you mean "bash"\?\); known tools: bash/,
    ],
    ['allow *', 'allow *', /allow \* would open every tool/],
    ['unknown key', 'deny bash cmd="ls"', /unknown matcher "cmd"; bash takes command/],
    [
      'key of another tool',
      'deny bash path="x"',
      /path does not apply to bash; bash takes command/,
    ],
    [
      'matcher on a tool that takes none',
      'deny send_message path="x"',
      /path does not apply to send_message; send_message takes no matchers/,
    ],
    ['matcher on *', 'deny * path="x"', /\* takes no matchers; name one tool/],
    ['duplicate key', 'deny bash command="a" command="b"', /command is given twice/],
    [
      'empty value',
      'deny bash command=""',
      /command has no value; give a pattern, e.g. command="git \*"/,
    ],
    ['missing key', 'deny bash ="x"', /a matcher needs a name before "="/],
    [
      'bare word after the tool',
      'deny bash git *',
      /expected key=value after the tool, got "git"; quote a pattern with spaces/,
    ],
    ['unterminated quote', 'deny bash command="rm *', /unterminated quote: add the closing "/],
    [
      'single quotes',
      "deny bash command='rm *'",
      /single quotes are not supported; use double quotes/,
    ],
    ['quote inside a bare value', 'deny bash command=rm"x"', /a quote must open a whole value/],
    [
      'text after a closing quote',
      'deny bash command="rm"x',
      /unexpected text after the closing quote of a value; put a space between matchers/,
    ],
    [
      '.. in a file path',
      'deny read_file path="../etc/**"',
      /contains ".."; write the path it leads to/,
    ],
    ['** inside a segment', 'deny read_file path="priv**/x"', /\*\* must be a whole segment/],
    [
      'relative http path',
      'allow http domain="a.com" path="repos/**"',
      /an http path starts with \//,
    ],
    [
      'bad domain',
      'allow http domain="api.*.com"',
      /domain "api\.\*\.com" is not a pattern; use an exact name/,
    ],
    ['unknown method', 'allow http domain="a.com" method=FETCH', /unknown method "FETCH"; use GET/],
    [
      'a CONNECT method, which the proxy never sees',
      'allow http domain="a.com" method=GET,CONNECT',
      /method CONNECT cannot be matched: .* a rule without method or path opens it/,
    ],
    ['bad port', 'allow http domain="a.com" port=70000', /port "70000" is not a port/],
    ['non-numeric port', 'allow http domain="a.com" port=https', /port "https" is not a port/],
  ])('reports %s with its line number', (_name, line, message) => {
    const parsed = parsePolicy(`deny bash command="sudo *"\n${line}\n`, 'p', { knownTools });
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]?.line).toBe(2);
    expect(parsed.errors[0]?.message).toMatch(message);
    expect(parsed.rules).toHaveLength(1);
  });

  it('reads when=untrusted and when=trusted on any tool, refusing anything else', () => {
    const ok = parsePolicy('ask http method=POST when=untrusted\ndeny * when=untrusted\n', 'x');
    expect(ok.errors).toEqual([]);
    expect(ok.rules.map((r) => [r.tool, r.when])).toEqual([
      ['http', 'untrusted'],
      ['*', 'untrusted'],
    ]);
    const bad = parsePolicy('deny bash when=sometimes\nask bash when=trusted when=trusted\n', 'x');
    expect(bad.errors.map((e) => e.message)).toEqual([
      expect.stringContaining('when takes untrusted or trusted'),
      expect.stringContaining('when is given twice'),
    ]);
  });

  it('reports every bad line, not only the first', () => {
    const parsed = parsePolicy('alow bash\ndeny bash\nask bash cmd=x\n', 'p');
    expect(parsed.errors.map((e) => e.line)).toEqual([1, 3]);
  });

  it('accepts any well-formed tool name when no tool list is given', () => {
    expect(parsePolicy('deny future_tool', 'p').errors).toEqual([]);
  });

  it.each([
    [
      'allow on a cell tool',
      'allow bash command="git *"',
      /has no effect: bash is allowed by default/,
    ],
    ['allow http without a domain', 'allow http method=GET', /every domain/],
    ['ask on http', 'ask http domain="mail.example"', /proxy cannot wait for an approval/],
  ])('warns about %s, yet keeps the rule', (_name, line, message) => {
    const parsed = parsePolicy(line, 'p');
    expect(parsed.errors).toEqual([]);
    expect(parsed.rules).toHaveLength(1);
    expect(parsed.warnings).toEqual([{ line: 1, message: expect.stringMatching(message) }]);
  });

  it('does not warn about deny, ask on a tool, or a scoped http allow', () => {
    const parsed = parsePolicy(
      'deny bash\nask read_file path="x/**"\nallow http domain="*.github.com" method="GET,HEAD"',
      'p',
    );
    expect(parsed.errors).toEqual([]);
    expect(parsed.warnings).toEqual([]);
  });
});
