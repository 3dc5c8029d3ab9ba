import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveCellPath, type PathMount } from '../fs/resolve-cell-path.js';
import { decideOnResolvedPath } from './path-decision.js';
import { parsePolicy } from './policy-file.js';
import type { PolicyCall, PolicyLayers } from './rules.js';

const layers = (text: string): PolicyLayers => {
  const parsed = parsePolicy(text, 'groups/family.policy');
  expect(parsed.errors).toEqual([]);
  return { defaults: [], group: parsed.rules };
};

const call = (tool: string, input: Record<string, unknown>): PolicyCall => ({
  groupName: 'family',
  isAdmin: false,
  tool,
  toolClass: 'cell',
  input,
});

describe('path rules on the resolved path', () => {
  let tmp: string;
  let group: string;
  let global: string;
  let mounts: PathMount[];
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-path-rules-'));
    group = path.join(tmp, 'group');
    global = path.join(tmp, 'global');
    fs.mkdirSync(path.join(group, 'secret'), { recursive: true });
    fs.writeFileSync(path.join(group, 'secret', 'pin.txt'), '1234');
    fs.mkdirSync(global);
    mounts = [
      { hostPath: group, cellPath: '/workspace/group' },
      { hostPath: global, cellPath: '/workspace/global' },
    ];
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const link = (target: string, at: string) => fs.symlinkSync(target, path.join(group, at));

  describe('resolveCellPath', () => {
    it('follows links that stay inside the mount, relative and absolute', () => {
      link('secret', 'ok');
      link('/workspace/group/secret/pin.txt', 'abs');
      expect(resolveCellPath('/workspace/group/ok/pin.txt', mounts)).toEqual({
        ok: true,
        cellPath: '/workspace/group/secret/pin.txt',
        inMount: true,
      });
      expect(resolveCellPath('/workspace/group/abs', mounts)).toMatchObject({
        cellPath: '/workspace/group/secret/pin.txt',
      });
    });

    it('follows a chain of links and a link with .. that stays inside', () => {
      fs.mkdirSync(path.join(group, 'a'));
      link('../secret', 'a/up');
      link('a/up', 'chain');
      expect(resolveCellPath('/workspace/group/chain/pin.txt', mounts)).toMatchObject({
        ok: true,
        cellPath: '/workspace/group/secret/pin.txt',
      });
    });

    it('refuses a link that leaves its mount, naming it', () => {
      link('/etc', 'etc');
      link('/workspace/global', 'g');
      link('../../..', 'up');
      for (const p of [
        '/workspace/group/etc/passwd',
        '/workspace/group/g',
        '/workspace/group/up/x',
      ]) {
        const r = resolveCellPath(p, mounts);
        expect(r.ok).toBe(false);
        expect(!r.ok && r.reason).toMatch(/is a symbolic link that leaves \/workspace\/group/);
      }
    });

    it('refuses a loop of links', () => {
      link('b', 'a');
      link('a', 'b');
      const r = resolveCellPath('/workspace/group/a', mounts);
      expect(!r.ok && r.reason).toMatch(/more than 40 symbolic links/);
    });

    it('keeps a missing tail (a file about to be written) and paths outside every mount', () => {
      link('secret', 'ok');
      expect(resolveCellPath('/workspace/group/ok/new/file.txt', mounts)).toMatchObject({
        cellPath: '/workspace/group/secret/new/file.txt',
      });
      expect(resolveCellPath('/tmp/x', mounts)).toEqual({
        ok: true,
        cellPath: '/tmp/x',
        inMount: false,
      });
    });
  });

  describe('decideOnResolvedPath', () => {
    it("a deny on a folder is not bypassed through the agent's own link to it", () => {
      link('secret', 'ok');
      const d = decideOnResolvedPath(
        call('read_file', { path: 'ok/pin.txt' }),
        layers('deny read_file path="/workspace/group/secret/**"'),
        mounts,
      );
      expect(d.effect).toBe('deny');
      expect(d.reason).toMatch(/ok\/pin.txt leads to \/workspace\/group\/secret\/pin.txt/);
    });

    it('an ask on writes is not bypassed through a link', () => {
      link('secret', 'ok');
      const d = decideOnResolvedPath(
        call('write_file', { path: '/workspace/group/ok/new.txt', content: 'x' }),
        layers('ask write_file path="/workspace/group/secret/**"'),
        mounts,
      );
      expect(d.effect).toBe('ask');
    });

    it('a deny on the link name itself still holds', () => {
      link('secret', 'ok');
      const d = decideOnResolvedPath(
        call('read_file', { path: 'ok/pin.txt' }),
        layers('deny read_file path="/workspace/group/ok/**"'),
        mounts,
      );
      expect(d.effect).toBe('deny');
    });

    it('a recursive tool reaching a denied folder through a link is denied', () => {
      link('secret', 'ok');
      const d = decideOnResolvedPath(
        call('grep', { pattern: '1', path: 'ok' }),
        layers('deny grep path="/workspace/group/secret/**"'),
        mounts,
      );
      expect(d.effect).toBe('deny');
    });

    it('a link out of the mount is denied with its reason when a path rule could apply', () => {
      link('/etc', 'etc');
      const d = decideOnResolvedPath(
        call('read_file', { path: 'etc/passwd' }),
        layers('deny read_file path="/workspace/group/secret/**"'),
        mounts,
      );
      expect(d.effect).toBe('deny');
      expect(d.reason).toMatch(/leaves \/workspace\/group.*refused/);
    });

    it('with no path rule, links and plain paths keep the default', () => {
      link('/etc', 'etc');
      link('secret', 'ok');
      for (const p of ['etc/passwd', 'ok/pin.txt', 'notes.md']) {
        expect(
          decideOnResolvedPath(call('read_file', { path: p }), layers(''), mounts).effect,
        ).toBe('allow');
      }
    });

    it('an allowed path that does not lead elsewhere stays allowed', () => {
      const d = decideOnResolvedPath(
        call('read_file', { path: 'notes.md' }),
        layers('deny read_file path="/workspace/group/secret/**"'),
        mounts,
      );
      expect(d.effect).toBe('allow');
    });
  });
});
