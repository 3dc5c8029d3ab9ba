import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { knownToolNames } from './rules.js';
import { PolicyCache } from './policy-cache.js';

const KNOWN = knownToolNames([]);

describe('PolicyCache', () => {
  let dir: string;
  let cache: PolicyCache;
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  const rules = () => {
    const { policy } = cache.load({ groupName: 'family' }, KNOWN);
    if (!policy.ok) return policy.errors.map((e) => e.message);
    return [...policy.layers.defaults, ...policy.layers.group].map((r) => r.text);
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-policy-cache-'));
    cache = new PolicyCache(dir);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads a group policy once and reuses it while no file changes', () => {
    write('groups/family.policy', 'deny bash\n');
    expect(cache.load({ groupName: 'family' }, KNOWN).fresh).toBe(true);
    const again = cache.load({ groupName: 'family' }, KNOWN);
    expect(again.fresh).toBe(false);
    expect(again.policy.ok).toBe(true);
  });

  it('sees an edit, a new file, a replaced file and a removed file on the very next call', () => {
    write('groups/family.policy', 'deny bash\n');
    expect(rules()).toEqual(['deny bash']);
    write('groups/family.policy', 'deny bash\nallow read_file\n');
    expect(rules()).toEqual(['deny bash', 'allow read_file']);
    write('default.policy', 'deny write_file\n');
    expect(rules()).toEqual(['deny write_file', 'deny bash', 'allow read_file']);
    write('replacement', 'ask bash\n');
    fs.renameSync(path.join(dir, 'replacement'), path.join(dir, 'groups/family.policy'));
    expect(rules()).toEqual(['deny write_file', 'ask bash']);
    fs.rmSync(path.join(dir, 'default.policy'));
    expect(rules()).toEqual(['ask bash']);
  });

  it('keeps a broken file broken until it is fixed', () => {
    write('groups/family.policy', 'alow bash\n');
    expect(cache.load({ groupName: 'family' }, KNOWN).policy.ok).toBe(false);
    expect(cache.load({ groupName: 'family' }, KNOWN).policy.ok).toBe(false);
    write('groups/family.policy', 'allow bash\n');
    expect(cache.load({ groupName: 'family' }, KNOWN).policy.ok).toBe(true);
  });

  it('refuses a name that cannot be a group, as the loader does', () => {
    const { policy } = cache.load({ groupName: '../etc' }, KNOWN);
    expect(policy.ok).toBe(false);
  });
});
