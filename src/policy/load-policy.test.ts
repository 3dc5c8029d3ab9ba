import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPolicy, policyDirProblem } from './load-policy.js';

describe('loadPolicy', () => {
  let dir: string;
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-policy-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads default.policy, the group file and the task file into their layers', () => {
    write('default.policy', 'deny http domain="*.evil.com"\n');
    write('groups/family.policy', '# family\nallow http domain="api.github.com"\n');
    write('groups/work.policy', 'deny bash\n');
    write('tasks/7.policy', 'ask http\n');
    const loaded = loadPolicy(dir, { groupName: 'family', taskId: '7' });
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    const where = (rules: Array<{ source: string; line: number }>) =>
      rules.map((r) => `${r.source}:${r.line}`);
    expect(where(loaded.layers.defaults)).toEqual(['default.policy:1']);
    expect(where(loaded.layers.group)).toEqual(['groups/family.policy:2']);
    expect(where(loaded.layers.task ?? [])).toEqual(['tasks/7.policy:1']);
  });

  it('treats missing files as having no rules', () => {
    expect(loadPolicy(dir, { groupName: 'family' })).toEqual({
      ok: true,
      layers: { defaults: [], group: [] },
      warnings: [],
    });
    const withTask = loadPolicy(path.join(dir, 'absent'), { groupName: 'family', taskId: 'x' });
    expect(withTask).toMatchObject({ ok: true, layers: { task: [] } });
  });

  it('fails as a whole when any file has an error, naming file and line', () => {
    write('default.policy', 'deny bash\n');
    write('groups/family.policy', 'allow http domain="a.com"\nalow bash\n');
    expect(loadPolicy(dir, { groupName: 'family' })).toEqual({
      ok: false,
      errors: [
        {
          source: 'groups/family.policy',
          line: 2,
          message: expect.stringMatching(/unknown effect/),
        },
      ],
    });
  });

  it('passes warnings on and checks tool names against the known list', () => {
    write('groups/family.policy', 'allow bash command="git *"\n');
    expect(loadPolicy(dir, { groupName: 'family' })).toMatchObject({
      ok: true,
      warnings: [{ source: 'groups/family.policy', line: 1 }],
    });
    write('groups/family.policy', 'deny bassh\n');
    expect(loadPolicy(dir, { groupName: 'family' }, { knownTools: ['bash'] }).ok).toBe(false);
  });

  it('reports a policy file it cannot read', () => {
    fs.mkdirSync(path.join(dir, 'default.policy'));
    expect(loadPolicy(dir, { groupName: 'family' })).toEqual({
      ok: false,
      errors: [
        { source: 'default.policy', line: 0, message: expect.stringMatching(/cannot read/) },
      ],
    });
  });

  it.each([
    ['a group name that climbs out', { groupName: '../default' }, /not a group name/],
    ['a task id that climbs out', { groupName: 'family', taskId: '../../x' }, /not a task id/],
    ['an empty task id', { groupName: 'family', taskId: '' }, /not a task id/],
  ])('refuses %s', (_name, target, message) => {
    const loaded = loadPolicy(dir, target);
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.errors[0]?.message).toMatch(message);
  });
});

describe('policyDirProblem', () => {
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-home-'));
    fs.mkdirSync(path.join(home, 'data', 'groups', 'family'), { recursive: true });
    fs.mkdirSync(path.join(home, 'config', 'policy'), { recursive: true });
  });
  afterEach(() => {
    fs.rmSync(home, { recursive: true, force: true });
  });

  it.each([
    ['a separate config dir', 'config/policy', false],
    ['a dir inside a group folder', 'data/groups/family/policy', true],
    ['the groups root itself', 'data/groups', true],
    ['a dir that contains the groups root', 'data', true],
  ])('%s → problem: %s', (_name, rel, problem) => {
    const groups = path.join(home, 'data', 'groups');
    const result = policyDirProblem(path.join(home, rel), [groups]);
    expect(result !== undefined).toBe(problem);
    if (problem) expect(result).toMatch(/cells can mount/);
  });

  it('sees through a symlink into a group folder', () => {
    const link = path.join(home, 'config', 'linked');
    fs.symlinkSync(path.join(home, 'data', 'groups', 'family'), link);
    expect(policyDirProblem(link, [path.join(home, 'data', 'groups')])).toMatch(/overlaps/);
  });
});
