import { describe, expect, it } from 'vitest';
import { parseEgressGrant } from './egress-grant.js';
import { egressPolicy } from './egress-test-kit.js';

const valid = {
  groupName: 'main',
  policy: egressPolicy('allow http domain=api.example.com method=GET path="/v1/**"'),
  credentials: [
    {
      placeholder: 'nanocell-cred-api-0123456789abcdef0123',
      secret: 'sk-1',
      host: 'API.Example.com.',
      header: 'X-Api-Key',
    },
  ],
  budget: { maxRequests: 10, maxBytes: 1000 },
};

describe('parseEgressGrant', () => {
  it("keeps the policy's rules and canonicalises credential hosts and header names", () => {
    const r = parseEgressGrant(valid);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.grant.policy.group[0]).toMatchObject({ effect: 'allow', tool: 'http', line: 1 });
    expect(r.grant.credentials[0]?.host).toBe('api.example.com');
    expect(r.grant.credentials[0]?.header).toBe('x-api-key');
  });

  it.each([
    [
      { policy: { defaults: [], group: egressPolicy('deny bash command="rm *"').group } },
      'policy.group.0: must be an http or * rule',
    ],
    [
      {
        credentials: [
          { placeholder: 'nanocell-cred-x-0123456789abcdef', secret: 's', host: 'https://a.com' },
        ],
      },
      'credentials.0.host: must be a host name',
    ],
    [
      { credentials: [{ placeholder: 'short', secret: 's', host: 'a.com' }] },
      'credentials.0.placeholder',
    ],
    [
      {
        credentials: [
          { placeholder: 'nanocell-cred-x-0123456789abcdef', secret: 'a\r\nX: y', host: 'a.com' },
        ],
      },
      'credentials.0.secret: must be printable ASCII',
    ],
    [
      {
        credentials: [
          { placeholder: 'nanocell-cred-x-0123456789abcdef', secret: 's', host: 'a.com' },
          { placeholder: 'nanocell-cred-x-0123456789abcdef00', secret: 't', host: 'b.com' },
        ],
      },
      'credentials.1.placeholder: contains the placeholder of credentials.0',
    ],
    [{ budget: { maxRequests: -1, maxBytes: 0 } }, 'budget.maxRequests'],
  ])('refuses %j, saying %s', (patch, words) => {
    const r = parseEgressGrant({ ...valid, ...patch });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(words);
  });
});
