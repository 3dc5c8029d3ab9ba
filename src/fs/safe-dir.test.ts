import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SafeDir, UnsafeFolderError, splitInside } from './safe-dir.js';

const SECRET = 'HOST-SECRET-3b9e\n';

describe('SafeDir', () => {
  let tmp: string;
  let folder: string;
  let secret: string;
  let dir: SafeDir;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-safe-dir-'));
    folder = path.join(tmp, 'group');
    fs.mkdirSync(folder);
    secret = path.join(tmp, 'host-secret');
    fs.writeFileSync(secret, SECRET);
    dir = SafeDir.open(folder);
  });
  afterEach(() => {
    dir.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const inFolder = (rel: string) => path.join(folder, rel);

  describe('names', () => {
    it.each(['', '/etc/passwd', '..', 'a/../../x', './x', 'a\0b'])('refuses %j', (rel) => {
      expect(splitInside(rel)).toBeUndefined();
      const r = dir.readFile(rel, 10);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.reason).toMatch(/not a plain path inside the folder/);
    });

    it('accepts nested plain names and collapses repeated slashes', () => {
      expect(splitInside('a//b/c')).toEqual(['a', 'b', 'c']);
    });
  });

  describe('the folder itself', () => {
    it('is refused when it is a symbolic link', () => {
      const link = path.join(tmp, 'link');
      fs.symlinkSync(folder, link);
      expect(() => SafeDir.open(link)).toThrow(UnsafeFolderError);
      expect(() => SafeDir.open(link)).toThrow(/not a symbolic link/);
    });
  });

  describe('readFile', () => {
    it('reads a regular file, capped, saying when it was longer', () => {
      fs.writeFileSync(inFolder('notes.md'), 'abcdef');
      const r = dir.readFile('notes.md', 4);
      expect(r).toMatchObject({ ok: true, size: 6, truncated: true });
      expect(r.ok && r.bytes.toString()).toBe('abcd');
    });

    it('does not follow a link in the last component', () => {
      fs.symlinkSync(secret, inFolder('MEMORY.md'));
      const r = dir.readFile('MEMORY.md', 1000);
      expect(r).toMatchObject({ ok: false, code: 'ELOOP' });
      expect(!r.ok && r.reason).toMatch(/symbolic link/);
    });

    it('does not follow a link in a middle component', () => {
      fs.symlinkSync(tmp, inFolder('archive'));
      const r = dir.readFile('archive/host-secret', 1000);
      expect(r.ok).toBe(false);
      expect(JSON.stringify(r)).not.toContain('HOST-SECRET');
    });

    it('refuses a FIFO without blocking, and a folder', () => {
      fs.mkdirSync(inFolder('sub'));
      expect(dir.readFile('sub', 10)).toMatchObject({ ok: false });
      const fifo = inFolder('pipe');
      spawnSyncMkfifo(fifo);
      const r = dir.readFile('pipe', 10);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.reason).toMatch(/not a regular file/);
    });
  });

  describe('createFile', () => {
    it('creates a file with the exact mode, whatever the umask', () => {
      const r = dir.createFile('MEMORY.md', 'hi', 0o600);
      expect(r).toEqual({ ok: true, created: true });
      expect(fs.statSync(inFolder('MEMORY.md')).mode & 0o777).toBe(0o600);
    });

    it.skipIf(process.getuid?.() !== 0)(
      "gives what it creates to the folder's owner, so the cell can read it",
      () => {
        fs.chownSync(folder, 10001, 10001);
        dir.createFile('MEMORY.md', 'hi', 0o600);
        dir.replaceFile('notes.md', 'n', 0o600);
        const sub = dir.ensureDir('archive', 0o700);
        if (sub.ok) sub.dir.close();
        for (const name of ['MEMORY.md', 'notes.md', 'archive']) {
          expect(fs.statSync(inFolder(name)).uid).toBe(10001);
          expect(fs.statSync(inFolder(name)).gid).toBe(10001);
        }
      },
    );

    it('leaves an existing file alone', () => {
      fs.writeFileSync(inFolder('MEMORY.md'), 'mine');
      expect(dir.createFile('MEMORY.md', 'template', 0o600)).toEqual({ ok: true, created: false });
      expect(fs.readFileSync(inFolder('MEMORY.md'), 'utf8')).toBe('mine');
    });

    it('never creates the target of a dangling link', () => {
      const target = path.join(tmp, 'created-by-host');
      fs.symlinkSync(target, inFolder('MEMORY.md'));
      expect(dir.createFile('MEMORY.md', 'x', 0o600)).toEqual({ ok: true, created: false });
      expect(fs.existsSync(target)).toBe(false);
    });

    it('never writes through a link to an existing host file', () => {
      fs.symlinkSync(secret, inFolder('MEMORY.md'));
      dir.createFile('MEMORY.md', 'pwned', 0o600);
      expect(fs.readFileSync(secret, 'utf8')).toBe(SECRET);
    });
  });

  describe('replaceFile', () => {
    it('replaces a planted link with a file, leaving its target alone', () => {
      fs.symlinkSync(secret, inFolder('MEMORY.md'));
      expect(dir.replaceFile('MEMORY.md', 'fresh', 0o600)).toEqual({ ok: true });
      expect(fs.lstatSync(inFolder('MEMORY.md')).isFile()).toBe(true);
      expect(fs.readFileSync(inFolder('MEMORY.md'), 'utf8')).toBe('fresh');
      expect(fs.readFileSync(secret, 'utf8')).toBe(SECRET);
    });

    it('refuses to replace a folder and leaves no temporary file', () => {
      fs.mkdirSync(inFolder('MEMORY.md'));
      const r = dir.replaceFile('MEMORY.md', 'x', 0o600);
      expect(r.ok).toBe(false);
      expect(fs.readdirSync(folder)).toEqual(['MEMORY.md']);
    });
  });

  describe('ensureDir', () => {
    it('creates nested folders with the exact mode', () => {
      const r = dir.ensureDir('archive/2026', 0o700);
      expect(r.ok).toBe(true);
      if (r.ok) r.dir.close();
      expect(fs.statSync(inFolder('archive')).mode & 0o777).toBe(0o700);
      expect(fs.statSync(inFolder('archive/2026')).mode & 0o777).toBe(0o700);
    });

    it('refuses a component that is a link, and creates nothing at its target', () => {
      const outside = path.join(tmp, 'outside');
      fs.symlinkSync(outside, inFolder('archive'));
      const r = dir.ensureDir('archive/x', 0o700);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.reason).toMatch(/archive is not a folder|symbolic link/);
      expect(fs.existsSync(outside)).toBe(false);
    });

    it('a file written through an opened folder stays in it when the folder is swapped', () => {
      const r = dir.ensureDir('archive', 0o700);
      if (!r.ok) throw new Error(r.reason);
      // The cell moves the real folder away and plants a link under its name.
      fs.renameSync(inFolder('archive'), inFolder('moved'));
      fs.symlinkSync(tmp, inFolder('archive'));
      expect(r.dir.createFile('host-secret', 'pwned', 0o600)).toEqual({ ok: true, created: true });
      r.dir.close();
      expect(fs.readFileSync(secret, 'utf8')).toBe(SECRET);
      expect(fs.readFileSync(inFolder('moved/host-secret'), 'utf8')).toBe('pwned');
    });
  });

  describe('chmodAt and chownTree', () => {
    it('chmodAt refuses a link instead of changing its target', () => {
      fs.chmodSync(secret, 0o640);
      fs.symlinkSync(secret, inFolder('MEMORY.md'));
      expect(dir.chmodAt('MEMORY.md', 0o666).ok).toBe(false);
      expect(fs.statSync(secret).mode & 0o777).toBe(0o640);
    });

    it.skipIf(process.getuid?.() !== 0)(
      'chownTree changes links themselves, never what they point to',
      () => {
        fs.mkdirSync(inFolder('sub'));
        fs.writeFileSync(inFolder('sub/a'), 'a');
        fs.symlinkSync(secret, inFolder('sub/link'));
        fs.symlinkSync(tmp, inFolder('dirlink'));
        dir.chownTree(10001, 10001);
        expect(fs.statSync(inFolder('sub/a')).uid).toBe(10001);
        expect(fs.lstatSync(inFolder('sub/link')).uid).toBe(10001);
        expect(fs.lstatSync(inFolder('dirlink')).uid).toBe(10001);
        expect(fs.statSync(secret).uid).toBe(0);
        expect(fs.statSync(tmp).uid).toBe(0);
      },
    );
  });

  describe('against a racer flipping links in another process', () => {
    let racer: ChildProcess | undefined;
    afterEach(() => {
      if (racer?.pid && racer.exitCode === null && racer.signalCode === null) racer.kill('SIGKILL');
      racer = undefined;
    });

    /** Start a process that swaps `names` between a link to `target`, a file and nothing. */
    async function startRacer(names: string[], target: string): Promise<ChildProcess> {
      const script = `
        const fs = require('fs');
        const [folder, target, ...names] = process.argv.slice(1);
        let flips = 0;
        fs.writeSync(1, 'ready\\n');
        for (;;) {
          for (const n of names) {
            const p = folder + '/' + n;
            try { fs.rmSync(p, { recursive: true, force: true }); } catch {}
            try { fs.symlinkSync(target, p); } catch {}
            try { fs.rmSync(p, { force: true }); } catch {}
            try { fs.mkdirSync(p); } catch {}
            try { fs.rmSync(p, { recursive: true, force: true }); } catch {}
            try { fs.symlinkSync(target, p); } catch {}
            if (++flips % 100 === 0) fs.writeSync(1, 'flips ' + flips + '\\n');
          }
        }`;
      const child = spawn(process.execPath, ['-e', script, folder, target, ...names], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.stdout!.once('data', () => resolve());
      });
      return child;
    }

    /** Stop the racer; how many rounds of flips it made while the host worked. */
    async function stopRacer(child: ChildProcess): Promise<number> {
      let text = '';
      child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
      const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
      child.kill('SIGKILL');
      await exited;
      const counts = [...text.matchAll(/flips (\d+)/g)].map((m) => Number(m[1]));
      return counts.at(-1) ?? 0;
    }

    it('never creates, overwrites, reads or changes a host file', async () => {
      const dangling = path.join(tmp, 'must-not-exist');
      fs.chmodSync(secret, 0o640);
      racer = await startRacer(['MEMORY.md', 'archive'], secret);
      const racerDangling = spawnRacerTarget(dangling);
      let created = 0;
      for (let i = 0; i < 800; i++) {
        const c = dir.createFile('MEMORY.md', 'template', 0o600);
        if (c.ok && c.created) created++;
        dir.replaceFile('MEMORY.md', 'replaced', 0o600);
        const r = dir.readFile('MEMORY.md', 1000);
        if (r.ok) expect(r.bytes.toString()).not.toContain('HOST-SECRET');
        dir.chmodAt('MEMORY.md', 0o666);
        const a = dir.ensureDir('archive', 0o700);
        if (a.ok) {
          a.dir.createFile(`entry-${i}.jsonl`, 'x', 0o600);
          a.dir.close();
        }
        if (i % 100 === 0) dir.chownTree(process.getuid?.() ?? 0, process.getgid?.() ?? 0);
      }
      const flips = await stopRacer(racer);
      racerDangling.stop();
      expect(flips).toBeGreaterThan(100);
      expect(created).toBeGreaterThan(0);
      expect(fs.readFileSync(secret, 'utf8')).toBe(SECRET);
      expect(fs.statSync(secret).mode & 0o777).toBe(0o640);
      expect(fs.existsSync(dangling)).toBe(false);
      expect(fs.readdirSync(tmp).sort()).toEqual(['group', 'host-secret']);
    }, 60_000);

    /** A second racer pointing `MEMORY.md` at a name that does not exist yet. */
    function spawnRacerTarget(target: string): { stop: () => void } {
      const child = spawn(
        process.execPath,
        [
          '-e',
          `const fs=require('fs');const p=process.argv[1]+'/MEMORY.md';for(;;){try{fs.rmSync(p,{force:true,recursive:true})}catch{};try{fs.symlinkSync(process.argv[2],p)}catch{}}`,
          folder,
          target,
        ],
        { stdio: 'ignore' },
      );
      return { stop: () => void child.kill('SIGKILL') };
    }
  });
});

function spawnSyncMkfifo(p: string): void {
  execFileSync('mkfifo', [p]);
}
