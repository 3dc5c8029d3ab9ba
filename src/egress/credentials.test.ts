import { describe, expect, it } from 'vitest';
import { CredentialBroker, makePlaceholder, scrubText, type HeaderPairs } from './credentials.js';
import type { EgressCredential } from './egress-grant.js';

const mail: EgressCredential = {
  placeholder: 'nanocell-cred-mail-00112233445566778899aabbccddeeff',
  secret: 'mail-secret-token',
  host: 'mail.example.com',
};
const api: EgressCredential = {
  placeholder: 'nanocell-cred-api-ffeeddccbbaa99887766554433221100',
  secret: 'sk live/key',
  host: 'api.example.com',
  header: 'x-api-key',
};
const broker = new CredentialBroker([mail, api]);

describe('makePlaceholder', () => {
  it('names the credential and adds 128 random bits', () => {
    const p = makePlaceholder('Gmail Token', (n) => Buffer.alloc(n, 0xab));
    expect(p).toBe(`nanocell-cred-gmail_token-${'ab'.repeat(16)}`);
  });

  it('differs every time', () => {
    expect(makePlaceholder('x')).not.toBe(makePlaceholder('x'));
  });
});

describe('CredentialBroker.inspectHead', () => {
  it('swaps the placeholder for the secret in headers and the target of its own host', () => {
    const headers: HeaderPairs = [['Authorization', `Bearer ${mail.placeholder}`]];
    const r = broker.inspectHead('mail.example.com', `/inbox?key=${mail.placeholder}`, headers);
    expect(r).toEqual({
      ok: true,
      target: '/inbox?key=mail-secret-token',
      headers: [['Authorization', 'Bearer mail-secret-token']],
      injected: [mail],
    });
  });

  it('URL-encodes a secret swapped into the target', () => {
    const own = new CredentialBroker([{ ...api, header: undefined }]);
    const t = own.inspectHead('api.example.com', `/q?k=${api.placeholder}`, []);
    expect(t.ok && t.target).toBe('/q?k=sk%20live%2Fkey');
  });

  it('leaves a request without placeholders alone', () => {
    const headers: HeaderPairs = [['Accept', '*/*']];
    expect(broker.inspectHead('other.example.org', '/', headers)).toEqual({
      ok: true,
      target: '/',
      headers,
      injected: [],
    });
  });

  it.each([
    [
      'a header value',
      'evil.example.net',
      '/',
      [['X-Data', mail.placeholder]],
      'only ever sent to mail.example.com',
    ],
    [
      'the target',
      'evil.example.net',
      `/?q=${mail.placeholder}`,
      [],
      'only ever sent to mail.example.com',
    ],
    [
      'the host',
      `${mail.placeholder}.evil.example.net`,
      '/',
      [],
      'only ever sent to mail.example.com',
    ],
    ['a header name', 'mail.example.com', '/', [[mail.placeholder, 'x']], 'header values'],
    [
      'the wrong header',
      'api.example.com',
      '/',
      [['Authorization', api.placeholder]],
      'only be sent in the x-api-key header',
    ],
    [
      'the target of a header-bound credential',
      'api.example.com',
      `/?k=${api.placeholder}`,
      [],
      'x-api-key header',
    ],
  ] as const)('refuses a placeholder in %s', (_where, host, target, headers, words) => {
    const r = broker.inspectHead(
      host,
      target,
      headers.map(([k, v]) => [k, v]),
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(words);
  });

  it('puts a header-bound secret into its header, whatever the case of the name', () => {
    const r = broker.inspectHead('api.example.com', '/v1', [['X-API-KEY', api.placeholder]]);
    expect(r.ok && r.headers).toEqual([['X-API-KEY', 'sk live/key']]);
  });
});

describe('CredentialBroker bodies', () => {
  it('refuses a body carrying a placeholder bound elsewhere, allows its own host', () => {
    const body = Buffer.from(`{"token":"${mail.placeholder}"}`);
    expect(broker.inspectBody('evil.example.net', body)).toContain('mail.example.com');
    expect(broker.inspectBody('mail.example.com', body)).toBeNull();
  });

  it('forbids in a streamed body exactly the placeholders bound elsewhere', () => {
    expect(broker.forbiddenNeedles('mail.example.com').map((n) => n.find.toString())).toEqual([
      api.placeholder,
    ]);
  });
});

describe('scrubText', () => {
  it('turns an echoed secret back into its placeholder, also URL-encoded', () => {
    expect(scrubText('bad key sk live/key (sk%20live%2Fkey)', [api])).toBe(
      `bad key ${api.placeholder} (${api.placeholder})`,
    );
  });
});
