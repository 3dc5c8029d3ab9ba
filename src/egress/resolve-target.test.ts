import { describe, expect, it } from 'vitest';
import { resolveTarget, type Resolver } from './resolve-target.js';

const names: Record<string, string[]> = {
  'public.test': ['2606:4700::1', '93.184.216.34'],
  'mixed.test': ['93.184.216.34', '10.0.0.5'],
  'mapped.test': ['::ffff:169.254.169.254'],
  'empty.test': [],
  'garbage.test': ['not-an-ip'],
};
const resolver: Resolver = async (host) => {
  const found = names[host];
  if (!found) throw Object.assign(new Error('nope'), { code: 'ENOTFOUND' });
  return found;
};
const none = new Set<string>();

describe('resolveTarget', () => {
  it('picks an IPv4 address when the name has public ones of both families', async () => {
    expect(await resolveTarget('public.test', resolver, none)).toEqual({
      ok: true,
      address: '93.184.216.34',
    });
  });

  it('takes a literal address as it is, without asking the resolver', async () => {
    const never: Resolver = async () => {
      throw new Error('resolver called for a literal');
    };
    expect(await resolveTarget('93.184.216.34', never, none)).toEqual({
      ok: true,
      address: '93.184.216.34',
    });
  });

  it.each([
    ['mixed.test', 403, 'mixed.test resolves to 10.0.0.5 is private'],
    ['mapped.test', 403, 'link-local / cloud metadata'],
    ['127.0.0.1', 403, '127.0.0.1 is loopback'],
    ['empty.test', 502, 'cannot resolve empty.test: no addresses'],
    ['garbage.test', 502, 'not an IP address'],
    ['missing.test', 502, 'cannot resolve missing.test: ENOTFOUND'],
  ])('refuses %s with %s: %s', async (host, status, words) => {
    const r = await resolveTarget(host, resolver, none);
    expect(r).toMatchObject({ ok: false, status });
    if (!r.ok) expect(r.reason).toContain(words);
  });

  it('connects to an address a test allows, in its normalized form', async () => {
    expect(await resolveTarget('::ffff:127.0.0.1', resolver, new Set(['127.0.0.1']))).toEqual({
      ok: true,
      address: '127.0.0.1',
    });
  });
});
