import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ensureGlobalFolder,
  ensureGroupFolder,
  globalFolderPath,
  groupFolderPath,
  MEMORY_FILE,
  readGlobalMemory,
  readMemory,
  writeArchive,
} from './group-folder.js';

const MAX_MEMORY_BYTES = 64 * 1024;

describe('group folder', () => {
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-home-'));
  });
  afterEach(() => {
    fs.rmSync(home, { recursive: true, force: true });
  });

  const memoryPath = (folder = 'family') => path.join(home, 'groups', folder, MEMORY_FILE);

  describe('ensureGroupFolder', () => {
    it('creates the folder under home/groups with a MEMORY.md naming the assistant', () => {
      const dir = ensureGroupFolder(home, 'family', 'Andy');
      expect(dir).toBe(path.join(home, 'groups', 'family'));
      expect(fs.statSync(dir).isDirectory()).toBe(true);
      expect(fs.readFileSync(memoryPath(), 'utf8')).toContain('Notes Andy keeps for this group');
    });

    it('does not overwrite a MEMORY.md that already exists', () => {
      ensureGroupFolder(home, 'family', 'Andy');
      fs.writeFileSync(memoryPath(), 'Grandma visits on Sundays.\n');
      ensureGroupFolder(home, 'family', 'Bob');
      expect(fs.readFileSync(memoryPath(), 'utf8')).toBe('Grandma visits on Sundays.\n');
    });
  });

  describe('privacy and planted links', () => {
    const mode = (p: string) => fs.statSync(p).mode & 0o777;

    it('makes the group folder 0700 and MEMORY.md 0600, also for a folder made before', () => {
      fs.mkdirSync(path.join(home, 'groups', 'family'), { recursive: true, mode: 0o755 });
      const dir = ensureGroupFolder(home, 'family', 'Andy');
      expect(mode(dir)).toBe(0o700);
      expect(mode(memoryPath())).toBe(0o600);
      // Only the cell user may pass through groups/: nobody else reaches a folder a cell
      // loosened during a run.
      const groups = fs.statSync(path.join(home, 'groups'));
      if (process.getuid?.() === 0) {
        expect(groups.mode & 0o777).toBe(0o710);
        expect(groups.gid).toBe(10001);
      } else {
        expect(groups.mode & 0o777).toBe(0o700);
      }
    });

    it('makes the global folder 0700 with its MEMORY.md 0600', () => {
      const dir = ensureGlobalFolder(home);
      expect(mode(dir)).toBe(0o700);
      expect(mode(path.join(dir, MEMORY_FILE))).toBe(0o600);
    });

    it.skipIf(process.getuid?.() !== 0)(
      'hands the global folder to the cell user so every cell can read it',
      () => {
        const dir = ensureGlobalFolder(home, { uid: 10001, gid: 10001 });
        expect(fs.statSync(dir).uid).toBe(10001);
        expect(fs.statSync(path.join(dir, MEMORY_FILE)).uid).toBe(10001);
      },
    );

    it.each([
      ['group', (h: string) => path.join(groupFolderPath(h, 'family'), MEMORY_FILE)],
      ['global', (h: string) => path.join(globalFolderPath(h), MEMORY_FILE)],
    ])(
      'never creates or overwrites the target of a %s MEMORY.md planted as a link',
      (_, memory) => {
        ensureGroupFolder(home, 'family', 'Andy');
        ensureGlobalFolder(home);
        const existing = path.join(home, 'host-file');
        fs.writeFileSync(existing, 'host content\n');
        const dangling = path.join(home, 'created-by-host');
        for (const target of [existing, dangling]) {
          fs.rmSync(memory(home));
          fs.symlinkSync(target, memory(home));
          ensureGroupFolder(home, 'family', 'Andy');
          ensureGlobalFolder(home);
          expect(readMemory(home, 'family').text).not.toContain('host content');
          expect(readGlobalMemory(home).text).not.toContain('host content');
        }
        expect(fs.readFileSync(existing, 'utf8')).toBe('host content\n');
        expect(fs.existsSync(dangling)).toBe(false);
      },
    );

    it('archives into a 0700 folder as 0600 files, and refuses an archive folder planted as a link', () => {
      ensureGroupFolder(home, 'family', 'Andy');
      const file = writeArchive(home, 'family', 'a.jsonl', '{}\n');
      expect(mode(path.dirname(file))).toBe(0o700);
      expect(mode(file)).toBe(0o600);
      const archive = path.dirname(file);
      fs.rmSync(archive, { recursive: true });
      const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-outside-'));
      try {
        fs.symlinkSync(outside, archive);
        expect(() => writeArchive(home, 'family', 'b.jsonl', '{}\n')).toThrow(/not a plain folder/);
        expect(fs.readdirSync(outside)).toEqual([]);
      } finally {
        fs.rmSync(outside, { recursive: true, force: true });
      }
    });
  });

  describe('readMemory', () => {
    it('returns the text of MEMORY.md with no note', () => {
      ensureGroupFolder(home, 'family', 'Andy');
      fs.writeFileSync(memoryPath(), 'The dog is called Rex.\n');
      expect(readMemory(home, 'family')).toEqual({ text: 'The dog is called Rex.\n' });
    });

    it('returns empty text when there is no MEMORY.md', () => {
      fs.mkdirSync(path.join(home, 'groups', 'family'), { recursive: true });
      expect(readMemory(home, 'family')).toEqual({ text: '' });
    });

    it('does not follow a MEMORY.md that is a symbolic link to a secret outside the folder', () => {
      ensureGroupFolder(home, 'family', 'Andy');
      const secret = path.join(home, 'secret.env');
      fs.writeFileSync(secret, 'ANTHROPIC_API_KEY=sk-ant-secret\n');
      fs.rmSync(memoryPath());
      fs.symlinkSync(secret, memoryPath());

      const memory = readMemory(home, 'family');
      expect(memory.text).toBe('');
      expect(memory.note).toMatch(/symbolic link/);
      expect(JSON.stringify(memory)).not.toContain('sk-ant-secret');
    });

    it('does not read a directory named MEMORY.md', () => {
      fs.mkdirSync(memoryPath(), { recursive: true });
      const memory = readMemory(home, 'family');
      expect(memory.text).toBe('');
      expect(memory.note).toMatch(/not a regular file/);
    });

    it('does not hang on a FIFO named MEMORY.md', () => {
      fs.mkdirSync(path.dirname(memoryPath()), { recursive: true });
      execFileSync('mkfifo', [memoryPath()]);
      const memory = readMemory(home, 'family');
      expect(memory.text).toBe('');
      expect(memory.note).toMatch(/not a regular file/);
    });

    it('cuts an oversized memory to the limit and says so', () => {
      ensureGroupFolder(home, 'family', 'Andy');
      fs.writeFileSync(memoryPath(), 'x'.repeat(MAX_MEMORY_BYTES + 100));
      const memory = readMemory(home, 'family');
      expect(memory.text).toBe('x'.repeat(MAX_MEMORY_BYTES));
      expect(memory.note).toMatch(/larger than 65536 bytes; only the start is shown/);
    });

    it('reads a memory of exactly the limit whole, with no note', () => {
      ensureGroupFolder(home, 'family', 'Andy');
      fs.writeFileSync(memoryPath(), 'y'.repeat(MAX_MEMORY_BYTES));
      expect(readMemory(home, 'family')).toEqual({ text: 'y'.repeat(MAX_MEMORY_BYTES) });
    });
  });

  describe('folder names', () => {
    it.each([
      '',
      '..',
      '../escape',
      'a/b',
      'Family',
      '-x',
      '.hidden',
      'with space',
      'a'.repeat(64),
    ])('refuses the folder name %j everywhere', (folder) => {
      expect(() => groupFolderPath(home, folder)).toThrow(/invalid group folder name/);
      expect(() => ensureGroupFolder(home, folder, 'Andy')).toThrow(/invalid group folder name/);
      expect(() => readMemory(home, folder)).toThrow(/invalid group folder name/);
    });

    it('creates nothing for a refused name', () => {
      expect(() => ensureGroupFolder(home, '../escape', 'Andy')).toThrow();
      expect(fs.readdirSync(home)).toEqual([]);
    });

    it.each(['main', 'family-2', 'a_b', '0'])('accepts the folder name %j', (folder) => {
      expect(groupFolderPath(home, folder)).toBe(path.join(home, 'groups', folder));
    });
  });
});
