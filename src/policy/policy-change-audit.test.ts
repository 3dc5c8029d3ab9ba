import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../audit/audit-event.js';
import { PolicyChangeAudit } from './policy-change-audit.js';

describe('PolicyChangeAudit', () => {
  let dir: string;
  let records: AuditEvent[];
  let audit: PolicyChangeAudit;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-policy-'));
    records = [];
    audit = new PolicyChangeAudit(dir, { append: (e: AuditEvent) => void records.push(e) });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  };
  const actions = () =>
    records.map((r) => (r.type === 'policy_change' ? `${r.action} ${r.file}` : r.type));

  it('audits every policy file once when first seen, then each change once', () => {
    write('default.policy', 'deny bash command="rm *"\n');
    write('groups/family.policy', 'ask write_file\n');
    write('groups/notes.txt', 'not a policy');
    expect(audit.scan()).toEqual(['default.policy', 'groups/family.policy']);
    expect(audit.scan()).toEqual([]);
    write('groups/family.policy', 'deny write_file\n');
    expect(audit.scan()).toEqual(['groups/family.policy']);
    expect(actions()).toEqual([
      'loaded default.policy',
      'loaded groups/family.policy',
      'changed groups/family.policy',
    ]);
  });

  it('does not audit again what the gate already saw', () => {
    write('groups/family.policy', 'ask bash\n');
    expect(audit.see('groups/family.policy', 'ask bash\n')).toBe(true);
    expect(audit.scan()).toEqual([]);
    expect(records).toHaveLength(1);
  });

  it('does not follow a policy file planted as a symlink', () => {
    write('elsewhere', 'allow http domain="*"\n');
    fs.mkdirSync(path.join(dir, 'groups'));
    fs.symlinkSync(path.join(dir, 'elsewhere'), path.join(dir, 'groups', 'family.policy'));
    expect(audit.scan()).toEqual([]);
  });
});
