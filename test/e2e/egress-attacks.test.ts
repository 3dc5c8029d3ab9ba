import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply } from '../support/fake-model-server.js';
import { canRunNetns, startEgressNetns, type EgressNetns } from '../support/egress-netns.js';

/**
 * A hostile agent against the real proxy, from a real bwrap cell (see egress-netns.ts): every
 * way around what `policy explain` says — another letter case, a trailing dot, a tunnel, a
 * port or method outside a list, a credential over plain HTTP, a burst past the run's budget
 * inside one tool call — is refused, and only what the policy allows reaches the upstream.
 */
const POLICY = [
  'allow http domain="*.mail.example" method=GET,HEAD path="/v1/**"',
  'deny  http domain="secret.mail.example"',
  'allow http domain="plain.example" port=80,8080',
  'allow http domain="plain.example" method=GET path="/api/**"',
].join('\n');
const PLAIN_SECRET = 'Bearer plain-secret-e2e-9120';
type Block = { type: string; content?: string };

describe.skipIf(!canRunNetns && !process.env.CI)('egress attacks through the real proxy', () => {
  let world: EgressNetns;

  beforeAll(async () => {
    world = await startEgressNetns(['api.mail.example', 'secret.mail.example', 'plain.example']);
    fs.writeFileSync(path.join(world.configDir, 'policy', 'groups', 'main.policy'), `${POLICY}\n`);
    fs.writeFileSync(
      path.join(world.configDir, 'credentials', 'main.json'),
      JSON.stringify([
        { name: 'plain', host: 'plain.example', header: 'authorization', secret: PLAIN_SECRET },
      ]),
    );
  });

  afterAll(async () => {
    await world?.close();
  });

  /** The output of the run's one bash call, as the model saw it. */
  const toolOutput = (request: number): string => {
    const content = world.model.requests[request]!.body!.messages!.at(-1)!.content as Block[];
    return content.find((b) => b.type === 'tool_result')?.content ?? '';
  };

  it('enforces deny under a wildcard in any case and with a trailing dot, port and method lists, and TLS-only credentials', async () => {
    const before = world.model.requests.length;
    const probes = [
      'c get http://api.mail.example/v1/x',
      'c head -I http://api.mail.example/v1/x',
      'c post -X POST -d x http://api.mail.example/v1/x',
      'c upper http://SECRET.MAIL.EXAMPLE/v1/x',
      'c dot http://secret.mail.example./v1/x',
      'c tunnel https://Secret.Mail.Example./',
      'c p80 http://plain.example/',
      'c p8080 http://plain.example:8080/',
      'c p8081 http://plain.example:8081/',
      'c cred -H "authorization: $NANOCELL_CRED_PLAIN" http://plain.example:8080/',
    ];
    world.model.enqueue(
      reply().tool('bash', {
        command: [
          'c() { curl -s -o /dev/null --max-time 10 -w "$1=%{http_code}/%{http_connect}\\n" "${@:2}"; }',
          ...probes,
        ].join('\n'),
      }),
      reply().text('probed'),
    );
    const r = await world.ask('probe the network');
    expect(r.code, r.stderr).toBe(0);
    const out = toolOutput(before + 1);
    const codes = Object.fromEntries(
      [...out.matchAll(/^(\w+)=(\d{3})\/(\d{3})$/gm)].map((m) => [m[1], `${m[2]}/${m[3]}`]),
    );
    expect(codes).toEqual({
      get: '200/000',
      head: '200/000',
      post: '403/000',
      upper: '403/000',
      dot: '403/000',
      tunnel: '000/403',
      p80: '200/000',
      p8080: '200/000',
      p8081: '403/000',
      cred: '403/000',
    });
    // Only what the policy allows arrived, the brokered API over TLS (443), nothing secret.
    expect(world.seen().map((s) => `${s.port} ${s.method} ${s.host} ${s.url} ${s.auth}`)).toEqual([
      '443 GET api.mail.example /v1/x null',
      '443 HEAD api.mail.example /v1/x null',
      '80 GET plain.example / null',
      '8080 GET plain.example:8080 / null',
    ]);
    const denied = world.egressAudit().filter((e) => e.decision === 'denied');
    const reasons = denied.map((e) => String(e.reason));
    expect(
      reasons.filter((x) => x.includes('denied by policy rule groups/main.policy:2')),
    ).toHaveLength(3);
    expect(reasons.some((x) => x.includes('would be sent to plain.example in plain HTTP'))).toBe(
      true,
    );
    expect(
      denied.every((e) => e.host !== 'SECRET.MAIL.EXAMPLE' && e.host !== 'secret.mail.example.'),
    ).toBe(true);
  });

  it('stops a single bash call making 1000 requests at the run budget, while it runs', async () => {
    const before = world.model.requests.length;
    const seenBefore = world.seen().length;
    world.model.enqueue(
      reply().tool('bash', {
        command:
          'curl -s -o /dev/null -w "%{http_code}\\n" "http://plain.example/n[1-1000]" | sort | uniq -c',
      }),
      reply().text('done'),
    );
    const r = await world.ask('fetch a thousand pages', { NANOCELL_BUDGET_EGRESS_REQUESTS: '5' });
    const out = toolOutput(before + 1);
    expect(out).toMatch(/^\s*5 200$/m);
    expect(out).toMatch(/^\s*995 429$/m);
    expect(world.seen().length - seenBefore).toBe(5);
    // Going over stops the run with the budget's reason.
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('made its 5 network requests; stopped');
    // Every request is audited under this run, which is not the earlier run.
    const egress = world.egressAudit();
    const runs = [...new Set(egress.map((e) => e.run))];
    expect(runs).toHaveLength(2);
    expect(egress.filter((e) => e.run === runs[1] && e.stage === 'decided')).toHaveLength(1000);
  });
});
