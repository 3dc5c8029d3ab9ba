import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply } from '../support/fake-model-server.js';
import { canRunNetns, startEgressNetns, type EgressNetns } from '../support/egress-netns.js';

/**
 * The allowed path through the real proxy, end to end (see egress-netns.ts): a brokered API
 * the cell calls over plain HTTP, which the proxy checks, adds the secret to and sends on
 * over HTTPS with the certificate verified.
 */
const MAIL_SECRET = 'Bearer mail-secret-e2e-4471';
type Block = { type: string; content?: string; is_error?: boolean };

describe.skipIf(!canRunNetns && !process.env.CI)(
  'egress that the policy allows, through the real proxy',
  () => {
    let world: EgressNetns;

    beforeAll(async () => {
      world = await startEgressNetns(['api.mail.example']);
      fs.writeFileSync(
        path.join(world.configDir, 'policy', 'groups', 'main.policy'),
        'allow http domain="api.mail.example" method=GET path="/v1/messages/**"\n',
      );
      fs.writeFileSync(
        path.join(world.configDir, 'credentials', 'main.json'),
        JSON.stringify([
          { name: 'mail', host: 'api.mail.example', header: 'authorization', secret: MAIL_SECRET },
        ]),
      );
    });

    afterAll(async () => {
      await world?.close();
    });

    it('reaches the allowed API over TLS, with the secret added by the proxy and never seen by the cell', async () => {
      world.model.enqueue(
        reply().tool('bash', {
          command:
            'echo "placeholder=$NANOCELL_CRED_MAIL"; curl -s --max-time 10 -H "authorization: $NANOCELL_CRED_MAIL" http://api.mail.example/v1/messages/inbox; echo; curl -s -o /dev/null -w "other=%{http_code}" --max-time 10 http://api.other.example/',
        }),
        reply().text('you have 3 messages'),
      );
      const r = await world.ask('how many mails?');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('you have 3 messages');
      const [result] = (world.model.requests[1]!.body!.messages!.at(-1)!.content as Block[]).filter(
        (b) => b.type === 'tool_result',
      );
      const out = result!.content!;
      expect(out).toMatch(/placeholder=nanocell-cred-mail-[0-9a-f]+/);
      // The upstream saw the secret on 443; the cell only ever saw its placeholder echoed back.
      expect(out).toContain(
        'upstream 443 answered GET /v1/messages/inbox; you sent nanocell-cred-mail-',
      );
      expect(out).not.toContain(MAIL_SECRET);
      expect(out).toContain('other=403');
      expect(world.seen()).toEqual([
        {
          port: 443,
          method: 'GET',
          url: '/v1/messages/inbox',
          host: 'api.mail.example',
          auth: MAIL_SECRET,
        },
      ]);
    });

    it('audits the allowed request and the refusal with the run that made them, without the secret', () => {
      const egress = world.egressAudit();
      expect(egress).toContainEqual(
        expect.objectContaining({ host: 'api.mail.example', decision: 'allowed', port: 443 }),
      );
      expect(egress).toContainEqual(
        expect.objectContaining({ host: 'api.other.example', decision: 'denied' }),
      );
      const runs = new Set(egress.map((e) => e.run));
      expect(runs.size).toBe(1);
      expect([...runs][0]).toMatch(/^[0-9a-f]{16}$/);
      const log = fs.readFileSync(path.join(world.dataDir, 'audit', 'audit.log'), 'utf8');
      expect(log).not.toContain(MAIL_SECRET);
    });
  },
);
