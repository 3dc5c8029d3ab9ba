import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureGroupFolder, writeArchive } from './group-folder.js';
import { GroupQuota, QuotaError } from './group-quota.js';

const canMount = GroupQuota.available();
if (!canMount.ok && !process.env.CI) console.warn(`skipping quota suite: ${canMount.reason}`);

describe.skipIf(!canMount.ok && !process.env.CI)('GroupQuota (real loop-mounted ext4)', () => {
  let home: string;
  let quota: GroupQuota;
  const owner = { uid: 10001, gid: 10001 };
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-quota-'));
    quota = new GroupQuota({ home, quotaMb: 8, owner });
  });
  afterEach(() => {
    for (const g of ['family', 'work']) quota.release(g);
    fs.rmSync(home, { recursive: true, force: true });
  });
  const folder = (g = 'family') => path.join(home, 'groups', g);
  const fill = (file: string, mb: number): NodeJS.ErrnoException | undefined => {
    const fd = fs.openSync(file, 'w');
    try {
      const chunk = Buffer.alloc(4096, 1);
      for (let i = 0; i < mb * 256; i++) fs.writeSync(fd, chunk);
      fs.fsyncSync(fd);
      return undefined;
    } catch (err) {
      return err as NodeJS.ErrnoException;
    } finally {
      fs.closeSync(fd);
    }
  };

  it('makes the group folder its own filesystem, owned by the cell user, 0700', () => {
    quota.ensure('family');
    const st = fs.statSync(folder());
    expect(st.dev).not.toBe(fs.statSync(path.join(home, 'groups')).dev);
    expect(st.uid).toBe(owner.uid);
    expect(st.mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(folder())).toEqual([]);
    expect(fs.statSync(quota.imagePath('family')).mode & 0o777).toBe(0o600);
  });

  it('refuses writes past the quota with ENOSPC, and other groups keep their own room', () => {
    quota.ensure('family');
    quota.ensure('work');
    expect(fill(path.join(folder(), 'big.bin'), 20)?.code).toBe('ENOSPC');
    expect(fs.statSync(path.join(folder(), 'big.bin')).size).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(fill(path.join(folder('work'), 'ok.bin'), 4)).toBeUndefined();
  });

  it('a full folder leaves the host working: the template is best effort, an archive is refused whole', () => {
    quota.ensure('family');
    fill(path.join(folder(), 'big.bin'), 20);
    expect(() => ensureGroupFolder(home, 'family', 'Andy')).not.toThrow();
    expect(() => writeArchive(home, 'family', 'a.jsonl', 'x'.repeat(4 * 1024 * 1024))).toThrow(
      /no space left/,
    );
    expect(fs.readdirSync(path.join(folder(), 'archive'))).toEqual([]);
  });

  it('moves what the folder held before into the image, links as links', () => {
    ensureGroupFolder(home, 'family', 'Andy');
    fs.writeFileSync(path.join(folder(), 'notes.md'), 'keep me');
    fs.symlinkSync('/etc/passwd', path.join(folder(), 'planted'));
    quota.ensure('family');
    expect(fs.readFileSync(path.join(folder(), 'notes.md'), 'utf8')).toBe('keep me');
    expect(fs.readFileSync(path.join(folder(), 'MEMORY.md'), 'utf8')).toContain('Andy');
    expect(fs.readlinkSync(path.join(folder(), 'planted'))).toBe('/etc/passwd');
    expect(fs.readdirSync(path.join(home, 'quota'))).toEqual(['family.ext4']);
  });

  it('is idempotent, and grows the image when the quota is raised, keeping the files', () => {
    quota.ensure('family');
    fs.writeFileSync(path.join(folder(), 'a'), 'a');
    quota.ensure('family');
    quota.release('family');
    const bigger = new GroupQuota({ home, quotaMb: 16, owner });
    bigger.ensure('family');
    expect(fs.readFileSync(path.join(folder(), 'a'), 'utf8')).toBe('a');
    expect(fill(path.join(folder(), 'b.bin'), 12)).toBeUndefined();
  });

  it('says what failed and how to fix it when the image cannot be mounted', () => {
    const broken = new GroupQuota({
      home,
      quotaMb: 8,
      owner,
      run: (file) => {
        if (file === 'mount') throw new Error('mount: no loop device');
      },
    });
    ensureGroupFolder(home, 'family', 'Andy');
    expect(() => broken.ensure('family')).toThrow(QuotaError);
    expect(() => broken.ensure('family')).toThrow(/no loop device.*unset NANOCELL_GROUP_QUOTA_MB/);
    // The folder is put back as it was.
    expect(fs.readFileSync(path.join(folder(), 'MEMORY.md'), 'utf8')).toContain('Andy');
  });
});
