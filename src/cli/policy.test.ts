import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { policyCheck, policyCommand, policyExplain, type PolicyCliDeps } from './policy.js';

/** A stream that keeps what is written to it. */
class CollectingStream extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const HOST_TOOLS = ['send_message', 'register_group', 'list_groups'];

describe('nanocell policy', () => {
  let dir: string;
  let stdout: CollectingStream;
  let stderr: CollectingStream;
  let deps: PolicyCliDeps;
  const write = (rel: string, text: string): string => {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  };
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-policy-cli-'));
    stdout = new CollectingStream();
    stderr = new CollectingStream();
    deps = {
      policyDir: dir,
      hostTools: HOST_TOOLS,
      lookupGroup: (name) =>
        ({ main: { isAdmin: true }, family: { isAdmin: false } })[name as 'main' | 'family'],
      out: { stdout, stderr },
    };
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('check', () => {
    it('prints the rule count for a good file', () => {
      const file = write('groups/family.policy', 'deny bash command="rm *"\nallow send_message\n');
      expect(policyCheck(file, { out: { stdout, stderr } })).toBe(0);
      expect(stdout.text).toBe(`${file}: 2 rules, ok\n`);
    });

    it('prints each error as FILE:LINE: message and exits 1', () => {
      const file = write('bad.policy', '# x\nalow bash\ndeny bassh\nask bash cmd=x\n');
      const status = policyCheck(file, { knownTools: ['bash'], out: { stdout, stderr } });
      expect(status).toBe(1);
      expect(stdout.text.split('\n')).toEqual([
        expect.stringMatching(new RegExp(`^${file}:2: unknown effect "alow"`)),
        expect.stringMatching(new RegExp(`^${file}:3: unknown tool "bassh"`)),
        expect.stringMatching(new RegExp(`^${file}:4: unknown matcher "cmd"`)),
        `${file}: 3 errors`,
        '',
      ]);
    });

    it('prints warnings but still passes', () => {
      const file = write('w.policy', 'allow bash command="git *"\n');
      expect(policyCheck(file, { out: { stdout, stderr } })).toBe(0);
      expect(stdout.text).toMatch(new RegExp(`^${file}:1: warning: this allow has no effect`));
      expect(stdout.text).toContain(`${file}: 1 rule, ok`);
    });

    it('checks a credentials file by mistake without printing any of its secrets', () => {
      const secret = 'Bearer Zq8xR2pLm9Wv4Ty7Kd3';
      const file = write(
        'credentials.json',
        JSON.stringify(
          [{ name: 'mail', host: 'api.mail.example', header: 'authorization', secret }],
          null,
          2,
        ),
      );
      expect(policyCheck(file, { out: { stdout, stderr } })).toBe(1);
      const printed = stdout.text + stderr.text;
      expect(printed).toMatch(/credentials\.json:\d+: /);
      for (let i = 7; i + 4 <= secret.length; i++) {
        expect(printed).not.toContain(secret.slice(i, i + 4));
      }
    });

    it('exits 2 when the file cannot be read', () => {
      expect(policyCheck(path.join(dir, 'none.policy'), { out: { stdout, stderr } })).toBe(2);
      expect(stderr.text).toMatch(/cannot read .*none\.policy/);
    });
  });

  describe('explain', () => {
    it('names the deciding rule with its file and line', () => {
      write('default.policy', 'deny http domain="*.evil.com"\n');
      write('groups/family.policy', '# family\nallow http domain="api.github.com" method=GET\n');
      const status = policyExplain(
        {
          groupName: 'family',
          tool: 'http',
          inputJson: '{"domain":"api.github.com","method":"GET"}',
        },
        deps,
      );
      expect(status).toBe(0);
      expect(stdout.text).toBe(
        [
          'allow',
          `rule: ${path.join(dir, 'groups/family.policy')}:2: allow http domain="api.github.com" method=GET`,
          'reason: allowed by policy rule groups/family.policy:2',
          '',
        ].join('\n'),
      );
    });

    it.each<[string, string, string, string]>([
      ['family', 'http', '{"domain":"example.com"}', 'deny\nrule: default for network tools\n'],
      ['family', 'bash', '{"command":"ls"}', 'allow\nrule: default for cell tools\n'],
      ['family', 'register_group', '{"name":"x"}', 'deny\nrule: default for host tools\n'],
      ['main', 'register_group', '{"name":"x"}', 'allow\nrule: default for host tools\n'],
    ])('in %s, %s %s falls to the default', (groupName, tool, inputJson, expected) => {
      expect(policyExplain({ groupName, tool, inputJson }, deps)).toBe(0);
      expect(stdout.text.startsWith(expected)).toBe(true);
    });

    it('applies the task file, which can only narrow', () => {
      write('groups/family.policy', 'allow http domain="api.github.com"\n');
      write('tasks/42.policy', 'deny http method=POST\n');
      const input = '{"domain":"api.github.com","method":"POST"}';
      expect(
        policyExplain({ groupName: 'family', tool: 'http', inputJson: input, taskId: '42' }, deps),
      ).toBe(0);
      expect(stdout.text).toContain(
        `rule: ${path.join(dir, 'tasks/42.policy')}:1: deny http method=POST`,
      );
    });

    it('applies when= rules and the guard only as in an untrusted run', () => {
      write('groups/family.policy', 'deny bash command="curl *" when=untrusted\n');
      const curl = { groupName: 'family', tool: 'bash', inputJson: '{"command":"curl x"}' };
      expect(policyExplain(curl, deps)).toBe(0);
      expect(stdout.text).toMatch(/^allow\n/);
      stdout.text = '';
      expect(policyExplain({ ...curl, untrusted: true }, deps)).toBe(0);
      expect(stdout.text).toMatch(
        /^deny\nrule: .*family\.policy:1: deny bash command="curl \*" when=untrusted/,
      );
      stdout.text = '';
      // The main group may schedule tasks; in an untrusted run the guard asks the owner first.
      const task = { groupName: 'main', tool: 'register_group', inputJson: '{"name":"x"}' };
      expect(policyExplain({ ...task, untrusted: true }, deps)).toBe(0);
      expect(stdout.text).toMatch(
        /^ask\nrule: default for host tools \(allows it\), held by the guard/,
      );
    });

    it("holds a remote MCP server's tool in an untrusted run: its input leaves the host", () => {
      write('groups/family.policy', 'allow notes__lookup\nallow files__read\n');
      const remote = { ...deps, sendsOut: (tool: string) => tool.startsWith('notes__') };
      const call = (tool: string) => ({
        groupName: 'family',
        tool,
        inputJson: '{"word":"x"}',
        untrusted: true,
      });
      expect(policyExplain(call('notes__lookup'), remote)).toBe(0);
      expect(stdout.text).toMatch(
        /^ask\nrule: .*family\.policy:1: allow notes__lookup \(allows it\), held by the guard/,
      );
      stdout.text = '';
      expect(policyExplain(call('files__read'), remote)).toBe(0);
      expect(stdout.text).toMatch(/^allow\n/);
    });

    it("judges a path rule on where the group's own link leads, as the gate does", () => {
      write('groups/family.policy', 'deny read_file path="/workspace/group/private/**"\n');
      const folder = path.join(dir, 'groups-home', 'family');
      fs.mkdirSync(path.join(folder, 'private'), { recursive: true });
      fs.symlinkSync('private', path.join(folder, 'innocent'));
      const withMounts = {
        ...deps,
        mountsFor: () => [{ hostPath: folder, cellPath: '/workspace/group' }],
      };
      const call = { groupName: 'family', tool: 'read_file', inputJson: '{"path":"innocent/x"}' };
      expect(policyExplain(call, withMounts)).toBe(0);
      expect(stdout.text).toMatch(/^deny\n/);
      expect(stdout.text).toContain('innocent/x leads to /workspace/group/private/x');
    });

    it('explains a group that does not exist yet as a non-admin group', () => {
      expect(
        policyExplain({ groupName: 'newbie', tool: 'list_groups', inputJson: '{}' }, deps),
      ).toBe(0);
      expect(stdout.text).toMatch(
        /no group "newbie" yet; explained as a non-admin group\)\ndeny\n/,
      );
    });

    it('prints the errors of a broken policy and exits 1', () => {
      write('groups/family.policy', 'deny bash\nallow htp\n');
      expect(policyExplain({ groupName: 'family', tool: 'bash', inputJson: '{}' }, deps)).toBe(1);
      expect(stdout.text).toContain(
        `${path.join(dir, 'groups/family.policy')}:2: unknown tool "htp"`,
      );
      expect(stdout.text).toMatch(/every call is denied until they are fixed/);
    });

    it.each([
      ['input that is not JSON', 'bash', '{command:', /--input is not JSON/],
      ['input that is not an object', 'bash', '["ls"]', /--input must be a JSON object/],
      ['an unknown tool', 'bsh', '{}', /unknown tool "bsh"; known tools: bash/],
    ])('exits 2 on %s', (_name, tool, inputJson, message) => {
      expect(policyExplain({ groupName: 'family', tool, inputJson }, deps)).toBe(2);
      expect(stderr.text).toMatch(message);
    });
  });

  describe('policyCommand', () => {
    it('runs check and explain from command-line arguments', () => {
      const file = write('groups/family.policy', 'ask bash command="rm *"\n');
      expect(policyCommand(['check', file], deps)).toBe(0);
      expect(stdout.text).toBe(`${file}: 1 rule, ok\n`);
      const args = [
        'explain',
        '--group',
        'family',
        '--tool',
        'bash',
        '--input',
        '{"command":"rm x"}',
      ];
      expect(policyCommand(args, deps)).toBe(0);
      expect(stdout.text).toContain('ask\nrule: ');
    });

    it('knows the host tools when checking', () => {
      const file = write('p.policy', 'allow send_message\ndeny sendmessage\n');
      expect(policyCommand(['check', file], deps)).toBe(1);
      expect(stdout.text).toMatch(
        /:2: unknown tool "sendmessage" \(did you mean "send_message"\?\)/,
      );
    });

    it.each([
      [[], /expected "check FILE" or "explain/],
      [['check'], /expected "check FILE"/],
      [['explain', '--group', 'family'], /missing --tool, --input/],
      [['explain', '--colour'], /Unknown option '--colour'/],
      [['frobnicate'], /expected "check FILE"/],
    ])('exits 2 with usage for %j', (args, message) => {
      expect(policyCommand(args, deps)).toBe(2);
      expect(stderr.text).toMatch(message);
      expect(stderr.text).toContain('usage:');
    });
  });
});
