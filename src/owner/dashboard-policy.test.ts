import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../audit/audit-log.js';
import { policyExplain } from '../cli/policy.js';
import { PolicyChangeAudit } from '../policy/policy-change-audit.js';
import { knownToolNames } from '../policy/rules.js';
import { Store } from '../store/store.js';
import { HOST_TOOL_NAMES } from '../tools/host-tools.js';
import { dashboardPolicy } from './dashboard-policy.js';

describe('dashboardPolicy', () => {
  let dir: string;
  let policyDir: string;
  let store: Store;
  let audit: AuditLog;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-dashpol-'));
    policyDir = path.join(dir, 'policy');
    fs.mkdirSync(path.join(policyDir, 'groups'), { recursive: true });
    store = Store.open(':memory:');
    audit = AuditLog.open(path.join(dir, 'audit.log'));
    store.groups.create({ name: 'family', isAdmin: false });
  });
  afterEach(() => {
    audit.close();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const pending = new Map<
    string,
    { group: string; tool: string; input: Record<string, unknown> }
  >();
  const policy = () =>
    dashboardPolicy({
      pendingApproval: (code) => pending.get(code),
      now: () => new Date('2026-03-01T12:00:00.000Z'),
      policyDir,
      store,
      knownTools: knownToolNames(HOST_TOOL_NAMES),
      policyAudit: new PolicyChangeAudit(policyDir, audit),
      explain: (args, out) =>
        policyExplain(args, {
          policyDir,
          hostTools: HOST_TOOL_NAMES,
          lookupGroup: (name) => store.groups.byName(name),
          out,
        }),
    });

  it("lists the defaults and every group's file, present or not", () => {
    fs.writeFileSync(path.join(policyDir, 'groups', 'old.policy'), 'deny bash\n');
    expect(policy().files()).toEqual([
      { file: 'default.policy', scope: 'every group', exists: false },
      { file: 'groups/family.policy', scope: 'group family', exists: false },
      { file: 'groups/old.policy', scope: 'group old', exists: true },
    ]);
  });

  it('saves a file without errors whole, audited as a policy change by the dashboard', () => {
    const saved = policy().save('groups/family.policy', 'deny bash command="rm *"\n');

    expect(saved).toEqual({ ok: true, check: { errors: [], warnings: [], rules: 1 } });
    expect(fs.readFileSync(path.join(policyDir, 'groups', 'family.policy'), 'utf8')).toBe(
      'deny bash command="rm *"\n',
    );
    expect(fs.readdirSync(path.join(policyDir, 'groups'))).toEqual(['family.policy']);
    expect(audit.tail(1)[0]?.event).toMatchObject({
      type: 'policy_change',
      file: 'groups/family.policy',
      by: 'owner (dashboard)',
    });
  });

  it('refuses to save a file with errors, naming the first line, and leaves the old one', () => {
    fs.writeFileSync(path.join(policyDir, 'groups', 'family.policy'), 'deny bash\n');
    const saved = policy().save('groups/family.policy', 'deny bash\nalow read_file\n');

    expect(saved.ok).toBe(false);
    expect(!saved.ok && saved.reason).toMatch(/^not saved: 1 error\(s\), first on line 2: /);
    expect(fs.readFileSync(path.join(policyDir, 'groups', 'family.policy'), 'utf8')).toBe(
      'deny bash\n',
    );
    expect(audit.tail(5)).toEqual([]);
  });

  it('neither reads nor writes a policy file through a symbolic link', () => {
    const outside = path.join(dir, 'outside.txt');
    fs.writeFileSync(outside, 'secret\n');
    fs.symlinkSync(outside, path.join(policyDir, 'groups', 'family.policy'));

    expect(policy().read('groups/family.policy')).toEqual({
      ok: false,
      reason: 'groups/family.policy is a symbolic link; the dashboard edits only plain files',
    });
    expect(policy().save('groups/family.policy', 'deny bash\n')).toMatchObject({ ok: false });
    expect(fs.readFileSync(outside, 'utf8')).toBe('secret\n');
  });

  it('explains a call with the deciding rule, as nanocell policy explain prints it', () => {
    fs.writeFileSync(path.join(policyDir, 'groups', 'family.policy'), 'deny bash command="rm *"\n');
    const explained = policy().explain({
      group: 'family',
      tool: 'bash',
      input: { command: 'rm -rf x' },
    });

    expect(explained.decision).toBe('deny');
    expect(explained.lines[1]).toBe(
      `rule: ${path.join(policyDir, 'groups/family.policy')}:1: deny bash command="rm *"`,
    );
    expect(policy().explain({ group: 'family', tool: 'bassh', input: {} })).toMatchObject({
      decision: null,
      lines: [expect.stringMatching(/unknown tool "bassh"/)],
    });
  });

  it('writes the exact allow for a pending approval into its group, lists it, and undoes exactly it', () => {
    const file = path.join(policyDir, 'groups', 'family.policy');
    fs.writeFileSync(file, 'ask write_file path="/workspace/group/shared/**"\n');
    pending.set('K3F9QX', {
      group: 'family',
      tool: 'write_file',
      input: { path: 'shared/plan.txt', content: 'picnic' },
    });

    const added = policy().always('K3F9QX');

    const rule = 'allow write_file path="/workspace/group/shared/plan.txt"';
    expect(added).toEqual({
      ok: true,
      rule: {
        file: 'groups/family.policy',
        group: 'family',
        line: 3,
        rule,
        code: 'K3F9QX',
        addedAt: '2026-03-01T12:00:00.000Z',
      },
    });
    expect(fs.readFileSync(file, 'utf8')).toBe(
      `ask write_file path="/workspace/group/shared/**"\n# always allowed from the dashboard (approval K3F9QX, 2026-03-01T12:00:00.000Z)\n${rule}\n`,
    );
    expect(audit.tail(1)[0]?.event).toMatchObject({
      type: 'policy_change',
      by: 'owner (dashboard)',
    });
    expect(policy().alwaysRules()).toEqual([
      {
        file: 'groups/family.policy',
        group: 'family',
        line: 3,
        rule,
        code: 'K3F9QX',
        addedAt: '2026-03-01T12:00:00.000Z',
      },
    ]);

    // Hand-edited since: a line above moved the rule; the stale undo is refused.
    fs.writeFileSync(file, `deny bash command="rm *"\n${fs.readFileSync(file, 'utf8')}`);
    expect(policy().undoAlways('groups/family.policy', 3, rule)).toMatchObject({ ok: false });
    expect(policy().undoAlways('groups/family.policy', 4, rule)).toEqual({ ok: true });
    expect(fs.readFileSync(file, 'utf8')).toBe(
      'deny bash command="rm *"\nask write_file path="/workspace/group/shared/**"\n',
    );
    expect(policy().alwaysRules()).toEqual([]);
  });

  it('writes nothing for an approval that is gone or a call no exact rule can name', () => {
    pending.set('HOSTTL', { group: 'family', tool: 'send_message', input: { text: 'hi' } });
    expect(policy().always('GONE00')).toEqual({
      ok: false,
      reason: 'no approval GONE00 is waiting (answered or expired already)',
    });
    expect(policy().always('HOSTTL')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(
        /^Not written: a rule for send_message cannot name this one call/,
      ),
    });
    expect(fs.existsSync(path.join(policyDir, 'groups', 'family.policy'))).toBe(false);
  });
});
