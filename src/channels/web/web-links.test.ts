import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebLinks } from './web-links.js';

describe('WebLinks', () => {
  let home: string;
  let file: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-links-'));
    file = path.join(home, 'web-links.json');
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  const mint = (links: WebLinks, chatId: string) => {
    const r = links.mint(chatId);
    if (!r.ok) throw new Error(r.reason);
    return r;
  };

  it('finds the chat of a minted token, and nothing for any other token', () => {
    const links = new WebLinks(home);
    const family = mint(links, 'family');
    const school = mint(links, 'school');

    expect(links.find(family.token)).toMatchObject({ chatId: 'family', id: family.link.id });
    expect(links.find(school.token)).toMatchObject({ chatId: 'school' });
    expect(links.find(`${family.token}x`)).toBeUndefined();
    expect(links.find('')).toBeUndefined();
  });

  it('keeps only a hash of the token, in an owner-only file', () => {
    const { token } = mint(new WebLinks(home), 'family');

    expect(fs.readFileSync(file, 'utf8')).not.toContain(token);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('sees a link minted by another instance (the CLI) at once, and its revocation', () => {
    const host = new WebLinks(home);
    const { token } = mint(new WebLinks(home), 'family');
    expect(host.find(token)?.chatId).toBe('family');

    expect(new WebLinks(home).revoke('family')).toEqual({ ok: true, revoked: 1 });
    expect(host.find(token)).toBeUndefined();
    expect(host.list()).toEqual([]);
  });

  it('refuses to read through a symlink planted in place of the file', () => {
    const target = path.join(home, 'elsewhere.json');
    const { token } = mint(new WebLinks(home), 'family');
    fs.renameSync(file, target);
    fs.symlinkSync(target, file);
    const links = new WebLinks(home);

    expect(links.find(token)).toBeUndefined();
    const minted = links.mint('school');
    expect(minted).toMatchObject({ ok: false, reason: expect.stringContaining('cannot read') });
  });

  it('refuses to mint over a malformed file, saying how to fix it; finds nothing in it', () => {
    fs.writeFileSync(file, '{"links": [{"id": 1}]}');
    const links = new WebLinks(home);

    expect(links.mint('family')).toEqual({
      ok: false,
      reason: `${file} is malformed; move it away (every chat link is then revoked)`,
    });
    expect(links.find('anything')).toBeUndefined();
  });
});
