import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureGroupFolder, groupFolderPath, MEMORY_FILE, readMemory } from './group-folder.js';

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
