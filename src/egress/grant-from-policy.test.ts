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
  const texts = (r: ReturnType<typeof setup>) =>
    r.ok && r.setup
      ? [...r.setup.grant.policy.defaults, ...r.setup.grant.policy.group].map((x) => x.text)
      : [];

  beforeEach(() => {
    home = tempHome();
  });
  afterEach(() => home.cleanup());

  it('grants nothing without an allow http rule: the cell has no way out', () => {
    write('policy/groups/family.policy', 'deny bash command="rm *"\n');
    expect(setup()).toEqual({ ok: true, setup: undefined });
  });

  it('hands the proxy every http and * rule of the default and group files, deny and ask included', () => {
    write('policy/default.policy', 'deny http domain="*.evil.example"\ndeny bash command="rm *"\n');
    write(
      'policy/groups/family.policy',
      'allow http domain="*.example.org" port=80,8080\nask http domain="mail.example.org"\ndeny *\n',
    );
    expect(texts(setup())).toEqual([
      'deny http domain="*.evil.example"',
      'allow http domain="*.example.org" port=80,8080',
      'ask http domain="mail.example.org"',
      'deny *',
    ]);
  });

  it("carries the task's own rules as the level that can only narrow", () => {
    write('policy/groups/family.policy', 'allow http domain="api.github.com"\n');
    write('policy/tasks/8.policy', 'deny http domain="api.github.com" method=POST\n');
    const eight = setup(8);
    expect(eight.ok && eight.setup?.grant.policy.task?.map((r) => r.text)).toEqual([
      'deny http domain="api.github.com" method=POST',
    ]);
    const none = setup();
    expect(none.ok && none.setup?.grant.policy.task).toBeUndefined();
  });

  it('refuses a credential whose host only plain-HTTP rules allow, saying how to fix it', () => {
    write('policy/groups/family.policy', 'allow http domain="Mail.Example."\n');
    write(
      'credentials/family.json',
      JSON.stringify([{ name: 'mail', host: 'mail.example', secret: 'Bearer s3cr3t' }]),
    );
    const r = setup();
    expect(r.ok).toBe(false);
    const errors = !r.ok ? r.errors.join('\n') : '';
    expect(errors).toContain('credential "mail" for mail.example would be sent in plain HTTP');
    expect(errors).toContain('groups/family.policy:1');
    expect(errors).toContain('method=GET path="/**"');
    expect(errors).not.toContain('s3cr3t');
  });

  it('gives the cell placeholders, never secrets, for the group credentials', () => {
    write('policy/groups/family.policy', 'allow http domain="mail.example" path="/**"\n');
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
