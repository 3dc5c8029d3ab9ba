import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempHome } from '../../test/support/temp-home.js';
import { egressSetupFor } from './grant-from-policy.js';

describe('egressSetupFor: the proxy grant from the owner policy', () => {
  let home: ReturnType<typeof tempHome>;
  const write = (rel: string, text: string) => {
    const file = path.join(home.dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  };
  const setup = (taskId?: number) =>
    egressSetupFor({
      policyDir: path.join(home.dir, 'policy'),
      configDir: home.dir,
      groupName: 'family',
      taskId,
      hostTools: ['send_message'],
      budget: { maxRequests: 10, maxBytes: 1000 },
    });
  const domains = (r: ReturnType<typeof setup>) =>
    r.ok && r.setup ? r.setup.grant.rules.map((x) => x.domain).sort() : [];

  beforeEach(() => {
    home = tempHome();
  });
  afterEach(() => home.cleanup());

  it('grants nothing without an allow http rule: the cell has no way out', () => {
    write('policy/groups/family.policy', 'deny bash command="rm *"\n');
    expect(setup()).toEqual({ ok: true, setup: undefined });
  });

  it('turns allow rules into proxy rules; method/path rules are brokered over TLS', () => {
    write(
      'policy/groups/family.policy',
      'allow http domain="api.github.com" method=GET path="/repos/**"\nallow http domain="*.example.org" port=8080\n',
    );
    const r = setup();
    expect(r.ok && r.setup?.grant.rules).toEqual([
      { domain: 'api.github.com', methods: ['GET'], paths: ['/repos/**'], upgradeTls: true },
      { domain: '*.example.org', ports: [8080] },
    ]);
  });

  it('drops a domain a deny or ask http rule covers, in the group or default policy', () => {
    write('policy/default.policy', 'deny http domain="*.evil.example"\n');
    write(
      'policy/groups/family.policy',
      'allow http domain="a.evil.example"\nallow http domain="api.github.com"\nallow http domain="mail.example"\nask http domain="mail.example"\n',
    );
    expect(domains(setup())).toEqual(['api.github.com']);
  });

  it("lets a task's policy only narrow the group's egress, never widen it", () => {
    write(
      'policy/groups/family.policy',
      'allow http domain="api.github.com"\nallow http domain="mail.example"\n',
    );
    write(
      'policy/tasks/7.policy',
      'allow http domain="mail.example"\nallow http domain="new.example"\n',
    );
    write('policy/tasks/8.policy', 'deny http domain="mail.example"\n');
    expect(domains(setup())).toEqual(['api.github.com', 'mail.example']);
    expect(domains(setup(7))).toEqual(['mail.example']);
    expect(domains(setup(8))).toEqual(['api.github.com']);
    expect(domains(setup(9))).toEqual(['api.github.com', 'mail.example']);
    const seven = setup(7);
    expect(seven.ok && seven.setup?.grant.taskId).toBe('task-7');
  });

  it('gives the cell placeholders, never secrets, for the group credentials', () => {
    write('policy/groups/family.policy', 'allow http domain="mail.example"\n');
    write(
      'credentials/family.json',
      JSON.stringify([
        { name: 'mail', host: 'mail.example', header: 'authorization', secret: 'Bearer s3cr3t' },
      ]),
    );
    const r = setup();
    if (!r.ok || !r.setup) throw new Error('no grant');
    expect(r.setup.env.NANOCELL_CRED_MAIL).toMatch(/^nanocell-cred-mail-[0-9a-f]{32}$/);
    expect(JSON.stringify(r.setup.env)).not.toContain('s3cr3t');
    expect(r.setup.grant.credentials[0]).toMatchObject({
      host: 'mail.example',
      secret: 'Bearer s3cr3t',
    });
  });

  it('reports a malformed credentials file and a broken policy, saying where', () => {
    write('policy/groups/family.policy', 'allow http domain="mail.example"\n');
    write('credentials/family.json', '[{"name": "bad name", "host": 1}]');
    const bad = setup();
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.errors.join('\n')).toMatch(/family\.json: entry 0: "name" must be/);
    write('policy/groups/family.policy', 'perhaps http domain="x"\n');
    const broken = setup();
    expect(!broken.ok && broken.errors[0]).toMatch(/groups\/family\.policy:1:/);
  });
});
