import { describe, expect, it } from 'vitest';
import { parseEgressGrant } from './egress-grant.js';

const valid = {
  taskId: 't1',
  groupName: 'main',
  rules: [{ domain: 'API.Example.com.', methods: ['get'], paths: ['/v1/**'] }],
  credentials: [
    {
      placeholder: 'nanocell-cred-api-0123456789abcdef0123',
      secret: 'sk-1',
      host: 'api.example.com',
      header: 'X-Api-Key',
    },
  ],
  budget: { maxRequests: 10, maxBytes: 1000 },
};

describe('parseEgressGrant', () => {
  it('normalizes domains, methods and header names', () => {
    const r = parseEgressGrant(valid);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.grant.rules[0]).toEqual({
      domain: 'api.example.com',
      methods: ['GET'],
      paths: ['/v1/**'],
    });
    expect(r.grant.credentials[0]?.header).toBe('x-api-key');
  });

  it.each([
    [{ rules: [{ domain: 'https://api.example.com' }] }, 'rules.0.domain: must be an exact host'],
    [{ rules: [{ domain: '*.*.example.com' }] }, 'rules.0.domain'],
    [{ rules: [{ domain: 'a.com', ports: [0] }] }, 'rules.0.ports.0'],
    [{ rules: [{ domain: 'a.com', paths: ['v1'] }] }, 'rules.0.paths.0: must start with /'],
    [{ rules: [{ domain: 'a.com', methods: [] }] }, 'rules.0.methods: must list at least one'],
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
