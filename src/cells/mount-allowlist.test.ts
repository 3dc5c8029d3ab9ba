import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  expandHomePath,
  loadMountAllowlist,
  mountAllowlistPath,
  type MountAllowlist,
} from './mount-allowlist.js';

const HOME = '/home/owner';

describe('mount allowlist', () => {
  let configDir: string;
  let file: string;
  beforeEach(() => {
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-config-'));
    file = mountAllowlistPath(configDir);
  });
  afterEach(() => {
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  const load = (text: string) => {
    fs.writeFileSync(file, text);
    return loadMountAllowlist(file, { homeDir: HOME });
  };

  it('lives at <configDir>/mount-allowlist.json', () => {
    expect(mountAllowlistPath('/home/owner/.config/nanocell')).toBe(
      '/home/owner/.config/nanocell/mount-allowlist.json',
    );
  });

  it('allows no extra mounts when the file does not exist', () => {
    expect(loadMountAllowlist(file, { homeDir: HOME })).toEqual({
      ok: true,
      allowlist: { allowedRoots: [], blockedPatterns: [] },
    });
  });

  const valid: Array<{ name: string; text: string; allowlist: MountAllowlist }> = [
    {
      name: 'expands ~/ to the home dir and defaults allowReadWrite to false',
      text: '{ "allowedRoots": [{ "path": "~/projects" }] }',
      allowlist: {
        allowedRoots: [{ path: '/home/owner/projects', allowReadWrite: false }],
        blockedPatterns: [],
      },
    },
    {
      name: 'keeps allowReadWrite, description and the owner’s blocked patterns',
      text: JSON.stringify({
        allowedRoots: [
          { path: '~/projects', allowReadWrite: true, description: 'code' },
          { path: '/srv/photos/', allowReadWrite: false },
        ],
        blockedPatterns: ['*.sqlite', 'private'],
      }),
      allowlist: {
        allowedRoots: [
          { path: '/home/owner/projects', allowReadWrite: true, description: 'code' },
          { path: '/srv/photos', allowReadWrite: false },
        ],
        blockedPatterns: ['*.sqlite', 'private'],
      },
    },
    {
      name: 'expands a bare ~ and normalises .. and trailing slashes',
      text: '{ "allowedRoots": [{ "path": "~" }, { "path": "/srv/a/../b/" }] }',
      allowlist: {
        allowedRoots: [
          { path: '/home/owner', allowReadWrite: false },
          { path: '/srv/b', allowReadWrite: false },
        ],
        blockedPatterns: [],
      },
    },
    {
      name: 'accepts an empty list of roots',
      text: '{ "allowedRoots": [] }',
      allowlist: { allowedRoots: [], blockedPatterns: [] },
    },
    {
      name: 'accepts a file that starts with a UTF-8 byte-order mark',
      text: '\uFEFF{ "allowedRoots": [] }',
      allowlist: { allowedRoots: [], blockedPatterns: [] },
    },
  ];
  it.each(valid)('$name', ({ text, allowlist }) => {
    expect(load(text)).toEqual({ ok: true, allowlist });
  });

  const invalid: Array<{ name: string; text: string; errors: RegExp[] }> = [
    {
      name: 'reports a trailing comma with its line and column',
      text: '{\n  "allowedRoots": [\n    { "path": "~/p", }\n  ]\n}',
      errors: [/mount-allowlist\.json:3:22: a trailing ',' before '}' is not allowed/],
    },
    {
      name: 'reports single quotes with their line and column',
      text: "{\n  'allowedRoots': []\n}",
      errors: [
        /:2:3: expected a key in double quotes but found "'" \(JSON strings use double quotes\)/,
      ],
    },
    {
      name: 'reports a comment as not JSON',
      text: '{\n  // my roots\n  "allowedRoots": []\n}',
      errors: [/:2:3: .*JSON has no comments/],
    },
    {
      name: 'reports a file cut short',
      text: '{ "allowedRoots": [',
      errors: [/:1:20: the text ends where a value was expected/],
    },
    {
      name: 'reports an empty file',
      text: '',
      errors: [/:1:1: the text ends where a value was expected/],
    },
    {
      name: 'reports text after the JSON value',
      text: '{ "allowedRoots": [] } x',
      errors: [/:1:24: unexpected text after the end/],
    },
    {
      name: 'says a top-level list must be an object',
      text: '[]',
      errors: [/\(top level\): must be an object like \{ "allowedRoots": \[\] \}/],
    },
    {
      name: 'says a missing allowedRoots is required and how to allow nothing',
      text: '{}',
      errors: [/allowedRoots: is missing: add "allowedRoots": \[\]/],
    },
    {
      name: 'names a misspelt key and lists the allowed ones',
      text: '{ "allowedRoots": [], "blockedPattern": [] }',
      errors: [
        /unknown key "blockedPattern": the keys allowed here are allowedRoots, blockedPatterns/,
      ],
    },
    {
      name: 'refuses a relative root path and shows the absolute and ~/ forms',
      text: '{ "allowedRoots": [{ "path": "projects" }] }',
      errors: [
        /allowedRoots\[0\]\.path: "projects" is a relative path; write an absolute path such as "\/home\/owner\/projects", or "~\/projects"/,
      ],
    },
    {
      name: 'refuses another user’s ~name form',
      text: '{ "allowedRoots": [{ "path": "~bob/code" }] }',
      errors: [/allowedRoots\[0\]\.path: only ~ and ~\/ \(your own home\) are expanded/],
    },
    {
      name: 'refuses an empty root path',
      text: '{ "allowedRoots": [{ "path": "" }] }',
      errors: [/allowedRoots\[0\]\.path: is empty/],
    },
    {
      name: 'refuses a root given as a bare string',
      text: '{ "allowedRoots": ["~/projects"] }',
      errors: [/allowedRoots\[0\]: must be an object like \{ "path": "~\/projects" \}/],
    },
    {
      name: 'refuses allowReadWrite that is not a boolean',
      text: '{ "allowedRoots": [{ "path": "/srv", "allowReadWrite": "yes" }] }',
      errors: [/allowedRoots\[0\]\.allowReadWrite: must be true or false/],
    },
    {
      name: 'refuses a blocked pattern with a slash',
      text: '{ "allowedRoots": [], "blockedPatterns": ["secret/keys"] }',
      errors: [/blockedPatterns\[0\]: "secret\/keys" must be one non-empty path component/],
    },
    {
      name: 'reports every problem in the file at once',
      text: JSON.stringify({
        allowedRoots: [{ path: 'rel', allowReadWrite: 1, extra: true }, 5],
        blockedPatterns: ['', 7],
        typo: 1,
      }),
      errors: [
        /allowedRoots\[0\]\.path: "rel" is a relative path/,
        /allowedRoots\[0\]\.allowReadWrite: must be true or false/,
        /allowedRoots\[0\]: unknown key "extra"/,
        /allowedRoots\[1\]: must be an object/,
        /blockedPatterns\[0\]: "" must be one non-empty path component/,
        /blockedPatterns\[1\]: must be a string/,
        /\(top level\): unknown key "typo"/,
      ],
    },
  ];
  it.each(invalid)('$name', ({ text, errors }) => {
    const result = load(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(errors.length);
    for (const pattern of errors) {
      expect(result.errors).toEqual(expect.arrayContaining([expect.stringMatching(pattern)]));
    }
    for (const e of result.errors) expect(e.startsWith(file)).toBe(true);
  });

  it('says so when the allowlist path is a directory', () => {
    fs.mkdirSync(file);
    const result = loadMountAllowlist(file, { homeDir: HOME });
    expect(result).toEqual({
      ok: false,
      errors: [`${file}: cannot be read: it is a directory; it must be a JSON file`],
    });
  });
});

describe('expandHomePath', () => {
  it.each([
    { raw: '~', expected: '/home/owner' },
    { raw: '~/', expected: '/home/owner' },
    { raw: '~/a/./b/../c', expected: '/home/owner/a/c' },
    { raw: '/srv//x/', expected: '/srv/x' },
    // "~/../x" leaves the home dir; that is allowed here and judged by the caller's checks.
    { raw: '~/../other', expected: '/home/other' },
  ])('expands $raw to $expected', ({ raw, expected }) => {
    expect(expandHomePath(raw, HOME)).toEqual({ ok: true, path: expected });
  });

  it.each(['relative/dir', './x', '~bob', '~bob/x'])('refuses %s', (raw) => {
    expect(expandHomePath(raw, HOME).ok).toBe(false);
  });
});
