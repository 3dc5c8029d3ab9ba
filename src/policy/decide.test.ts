import { describe, expect, it } from 'vitest';
import { decide } from './decide.js';
import { parsePolicy } from './policy-file.js';
import type { Effect, PolicyCall, PolicyLayers, Rule, ToolClass } from './rules.js';

const rules = (text: string, source = 'groups/g.policy'): Rule[] => {
  const parsed = parsePolicy(text, source);
  expect(parsed.errors).toEqual([]);
  return parsed.rules;
};

const classOf = (tool: string): ToolClass =>
  tool === 'http'
    ? 'network'
    : ['bash', 'read_file', 'write_file', 'edit_file', 'list_files', 'grep'].includes(tool)
      ? 'cell'
      : 'host';

const call = (
  tool: string,
  input: Record<string, unknown> = {},
  extra: Partial<PolicyCall> = {},
): PolicyCall => ({
  groupName: 'family',
  isAdmin: false,
  tool,
  toolClass: classOf(tool),
  input,
  ...extra,
});

const groupOnly = (text: string): PolicyLayers => ({ defaults: [], group: rules(text) });

describe('decide', () => {
  describe('defaults per tool class', () => {
    it.each<[string, PolicyCall, Effect, string]>([
      ['cell tools are allowed', call('bash', { command: 'ls' }), 'allow', 'cell tools'],
      ['host tools are allowed', call('send_message', { text: 'hi' }), 'allow', 'host tools'],
      ['network is denied', call('http', { domain: 'example.com' }), 'deny', 'network access'],
      [
        'admin-only tools are denied to other groups',
        call('register_group', { name: 'x' }),
        'deny',
        'only for the admin group',
      ],
      [
        'admin-only tools are allowed to the admin group',
        call('list_groups', {}, { isAdmin: true }),
        'allow',
        'host tools',
      ],
      [
        'a host tool marked admin-only on the call is denied to other groups',
        call('manage_tasks', {}, { adminOnly: true }),
        'deny',
        'only for the admin group',
      ],
    ])('%s', (_name, c, effect, reason) => {
      const decision = decide(c, { defaults: [], group: [] });
      expect(decision.effect).toBe(effect);
      expect(decision.rule).toBeUndefined();
      expect(decision.reason).toContain(reason);
    });

    it('no rule can open an admin-only tool to another group', () => {
      const layers = { defaults: [], group: rules('allow register_group') };
      expect(decide(call('register_group'), layers).effect).toBe('deny');
    });
  });

  describe('precedence: deny, then ask, then allow, whatever the order of lines', () => {
    it.each<[string, string, Effect, number]>([
      ['deny beats allow', 'allow http domain="a.com"\ndeny http domain="*"', 'deny', 2],
      ['deny beats ask', 'ask http domain="a.com"\ndeny http domain="a.com"', 'deny', 2],
      ['ask beats allow', 'allow http domain="a.com"\nask http domain="*"', 'ask', 2],
      ['deny first still wins', 'deny http domain="*"\nallow http domain="a.com"', 'deny', 1],
      ['allow opens the network', 'allow http domain="a.com"', 'allow', 1],
      ['a rule for another tool is ignored', 'deny bash\nallow http domain="a.com"', 'allow', 2],
      ['* covers egress too', 'allow http domain="a.com"\ndeny *', 'deny', 2],
    ])('%s', (_name, text, effect, line) => {
      const decision = decide(call('http', { domain: 'a.com' }), groupOnly(text));
      expect(decision.effect).toBe(effect);
      expect(decision.rule).toMatchObject({ source: 'groups/g.policy', line });
      expect(decision.reason).toContain(`groups/g.policy:${line}`);
    });

    it("pools default.policy with the group: neither can undo the other's deny", () => {
      const layers: PolicyLayers = {
        defaults: rules('deny http domain="*.evil.com"', 'default.policy'),
        group: rules('allow http domain="*"'),
      };
      const evil = decide(call('http', { domain: 'x.evil.com' }), layers);
      expect(evil).toMatchObject({ effect: 'deny', rule: { source: 'default.policy', line: 1 } });
      expect(decide(call('http', { domain: 'good.com' }), layers).effect).toBe('allow');
    });
  });

  describe('an exact allow answers an ask, nothing else', () => {
    it.each<[string, string, Record<string, unknown>, Effect]>([
      [
        'exact path answers the ask',
        'ask write_file path="/workspace/group/shared/**"\nallow write_file path="/workspace/group/shared/plan.txt"',
        { path: 'shared/plan.txt', content: 'x' },
        'allow',
      ],
      [
        'another path is still asked',
        'ask write_file path="/workspace/group/shared/**"\nallow write_file path="/workspace/group/shared/plan.txt"',
        { path: 'shared/other.txt' },
        'ask',
      ],
      [
        'a glob allow does not answer an ask',
        'ask write_file path="/workspace/group/shared/**"\nallow write_file path="/workspace/group/shared/*.txt"',
        { path: 'shared/plan.txt' },
        'ask',
      ],
      [
        'an exact allow never answers a deny',
        'deny bash command="rm *"\nallow bash command="rm -rf build"',
        { command: 'rm -rf build' },
        'deny',
      ],
      [
        'an exact command answers the ask',
        'ask bash command="git push*"\nallow bash command="git push origin main"',
        { command: 'git push origin main' },
        'allow',
      ],
      [
        'an exact plain command does not cover a chained one',
        'ask bash command="*rm *"\nallow bash command="ls"',
        { command: 'ls && rm -rf x' },
        'ask',
      ],
      [
        'a when= allow does not answer an ask',
        'ask bash command="ls*"\nallow bash command="ls" when=trusted',
        { command: 'ls' },
        'ask',
      ],
    ])('%s', (_name, text, input, effect) => {
      const tool = text.split('\n')[1]!.split(/\s+/)[1]!;
      expect(decide(call(tool, input), groupOnly(text)).effect).toBe(effect);
    });

    it('says which ask the exact allow answered', () => {
      const decision = decide(
        call('bash', { command: 'git push origin main' }),
        groupOnly('ask bash command="git push*"\nallow bash command="git push origin main"'),
      );
      expect(decision).toMatchObject({ effect: 'allow', rule: { line: 2 } });
      expect(decision.reason).toBe(
        'allowed by policy rule groups/g.policy:2, an exact allow that answers the ask of groups/g.policy:1',
      );
    });

    it('a task ask still narrows an exact allow of its group', () => {
      const layers: PolicyLayers = {
        defaults: [],
        group: rules('allow bash command="ls"'),
        task: rules('ask bash command="*"', 'tasks/7.policy'),
      };
      expect(decide(call('bash', { command: 'ls' }), layers).effect).toBe('ask');
    });
  });

  describe('command globs', () => {
    it.each<[string, string, Effect]>([
      ['rm -rf build', 'rm *', 'ask'],
      ['  rm -rf build  ', 'rm *', 'ask'],
      ['cd build && rm -rf x', 'rm *', 'ask'],
      ['ls; rm x', 'rm *', 'ask'],
      ['echo $(rm x)', 'rm *', 'ask'],
      ['true | rm x', 'rm *', 'ask'],
      ['/bin/rm x', 'rm *', 'ask'],
      ['ls -la', 'rm *', 'allow'],
      ['echo rm', 'rm *', 'allow'],
      ['git push origin main', 'git push*', 'ask'],
      ['git pull', 'git push*', 'allow'],
      ['curl http://x', '*curl*', 'ask'],
    ])('%j against ask bash command=%j → %s', (command, pattern, effect) => {
      const layers = groupOnly(`ask bash command="${pattern}"`);
      expect(decide(call('bash', { command }), layers).effect).toBe(effect);
    });

    it('a command that cannot be read meets deny rules', () => {
      const layers = groupOnly('deny bash command="rm *"');
      expect(decide(call('bash', { command: 42 }), layers).effect).toBe('deny');
      expect(decide(call('bash', {}), layers).effect).toBe('deny');
    });
  });

  describe('file paths', () => {
    const layers = groupOnly(
      [
        'deny read_file path="private/**"',
        'deny list_files path="/workspace/group/private/**"',
        'deny grep path="private/**"',
        'ask write_file path="*.sh"',
        'deny write_file path="/etc/**"',
      ].join('\n'),
    );
    it.each<[string, Record<string, unknown>, Effect]>([
      ['read_file', { path: 'private/key.pem' }, 'deny'],
      ['read_file', { path: '/workspace/group/private/a/b.txt' }, 'deny'],
      ['read_file', { path: 'private' }, 'deny'],
      ['read_file', { path: 'notes/../private/key.pem' }, 'deny'],
      ['read_file', { path: './private//key.pem' }, 'deny'],
      ['read_file', { path: '/workspace/group/public/../../group/private/x' }, 'deny'],
      ['read_file', { path: 'public/notes.md' }, 'allow'],
      ['read_file', { path: 'privateer.txt' }, 'allow'],
      ['read_file', { path: '' }, 'deny'],
      ['read_file', {}, 'deny'],
      ['list_files', { path: 'private/sub' }, 'deny'],
      // Walking the tree above private/ would reach into it.
      ['list_files', {}, 'deny'],
      ['list_files', { path: '.' }, 'deny'],
      ['list_files', { path: '/workspace' }, 'deny'],
      ['list_files', { path: 'public' }, 'allow'],
      ['grep', { pattern: 'x', path: '/' }, 'deny'],
      ['grep', { pattern: 'x', path: 'public' }, 'allow'],
      ['write_file', { path: 'run.sh', content: '' }, 'ask'],
      ['write_file', { path: 'bin/run.sh', content: '' }, 'allow'],
      ['write_file', { path: '../../../etc/passwd', content: '' }, 'deny'],
      ['write_file', { path: '/workspace/group/../../etc/cron.d/x', content: '' }, 'deny'],
    ])('%s %j → %s', (tool, input, effect) => {
      expect(decide(call(tool, input), layers).effect).toBe(effect);
    });
  });

  describe('http', () => {
    const layers = groupOnly(
      [
        'allow http domain="api.github.com" method=GET path="/repos/**"',
        'allow http domain="*.example.com" method="GET,HEAD" port=443',
        'ask http domain="mail.example.com" method=POST',
      ].join('\n'),
    );
    it.each<[Record<string, unknown>, Effect]>([
      [{ domain: 'api.github.com', method: 'GET', path: '/repos/a/b' }, 'allow'],
      [{ domain: 'API.GitHub.com.', method: 'get', path: '/repos/a?x=1' }, 'allow'],
      [{ domain: 'api.github.com', method: 'POST', path: '/repos/a/b' }, 'deny'],
      [{ domain: 'api.github.com', method: 'GET', path: '/user' }, 'deny'],
      [{ domain: 'api.github.com', method: 'GET', path: '/repos/../user' }, 'deny'],
      [{ domain: 'api.github.com', method: 'GET', path: '/repos/%2e%2e/user' }, 'deny'],
      [{ domain: 'api.github.com', method: 'GET', path: '/repos/%zz' }, 'deny'],
      [{ domain: 'api.github.com', method: 'CONNECT' }, 'deny'],
      [{ domain: 'github.com', method: 'GET', path: '/repos/a' }, 'deny'],
      [{ domain: 'a.example.com', method: 'HEAD', port: 443 }, 'allow'],
      [{ domain: 'a.b.example.com', method: 'GET', port: '443' }, 'allow'],
      [{ domain: 'a.example.com', method: 'GET', port: 80 }, 'deny'],
      [{ domain: 'a.example.com', method: 'GET' }, 'deny'],
      [{ domain: 'example.com', method: 'GET', port: 443 }, 'deny'],
      [{ domain: 'evil-example.com', method: 'GET', port: 443 }, 'deny'],
      [{ domain: 'mail.example.com', method: 'POST', port: 443 }, 'ask'],
      [{ domain: 'mail.example.com', port: 443 }, 'ask'],
    ])('%j → %s', (input, effect) => {
      expect(decide(call('http', input), layers).effect).toBe(effect);
    });
  });

  describe('a task can only narrow its group', () => {
    const group = rules(
      'allow http domain="api.github.com"\nask http domain="mail.example.com"',
      'groups/g.policy',
    );
    const layersWith = (task: string): PolicyLayers => ({
      defaults: [],
      group,
      task: rules(task, 'tasks/7.policy'),
    });
    it.each<[string, string, Record<string, unknown>, Effect, string | undefined]>([
      [
        'a task allow does not open a default deny',
        'allow http domain="other.com"',
        { domain: 'other.com' },
        'deny',
        undefined,
      ],
      [
        'a task allow does not lift a group ask',
        'allow http domain="*"',
        { domain: 'mail.example.com' },
        'ask',
        'groups/g.policy',
      ],
      [
        'a task deny closes a group allow',
        'deny http domain="*"',
        { domain: 'api.github.com' },
        'deny',
        'tasks/7.policy',
      ],
      [
        'a task ask tightens a group allow',
        'ask http',
        { domain: 'api.github.com' },
        'ask',
        'tasks/7.policy',
      ],
      [
        'a task allow keeps a group allow',
        'allow http domain="api.github.com"',
        { domain: 'api.github.com' },
        'allow',
        'groups/g.policy',
      ],
      [
        'a task with no matching rule leaves the group decision',
        'deny bash',
        { domain: 'api.github.com' },
        'allow',
        'groups/g.policy',
      ],
    ])('%s', (_name, task, input, effect, source) => {
      const decision = decide(call('http', input), layersWith(task));
      expect(decision.effect).toBe(effect);
      expect(decision.rule?.source).toBe(source);
    });

    it('a task deny on a cell tool overrides the cell default', () => {
      const layers: PolicyLayers = { defaults: [], group: [], task: rules('deny write_file', 't') };
      expect(decide(call('write_file', { path: 'a', content: '' }), layers).effect).toBe('deny');
      expect(decide(call('read_file', { path: 'a' }), layers).effect).toBe('allow');
    });
  });
});
