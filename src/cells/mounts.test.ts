import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MountAllowlist } from './mount-allowlist.js';
import { DEFAULT_BLOCKED_PATTERNS } from './blocked-patterns.js';
import { validateMounts, type MountContext, type MountRequest } from './mounts.js';

/*
 * One real directory tree for every case (the checks only read it):
 *
 *   base/home                      homeDir; allowed root, read-only
 *     .ssh/id_rsa                  a secret
 *     .config/nanocell/            configDir, with mount-allowlist.json
 *     .nanocell/groups/family      dataDir and a group folder
 *     docs/manual.txt
 *     projects/                    allowed root, read-write
 *       nanocell/src               projectRoot
 *       code/                      ordinary folders and files
 *       readonly/                  allowed root, read-only, nested in projects
 *   base/outside/                  under no root
 *   base/rootlink -> base/linked   a root given as a symlink
 */
describe('validateMounts', () => {
  let base: string;
  let home: string;
  let ctx: MountContext;
  let allowlist: MountAllowlist;

  const p = (...parts: string[]) => path.join(base, ...parts);
  const mkdir = (...parts: string[]) => fs.mkdirSync(p(...parts), { recursive: true });
  const touch = (...parts: string[]) => {
    fs.mkdirSync(path.dirname(p(...parts)), { recursive: true });
    fs.writeFileSync(p(...parts), 'x\n');
  };
  const link = (target: string, ...parts: string[]) => fs.symlinkSync(target, p(...parts));

  beforeAll(() => {
    // realpath: the temp dir may itself sit behind a symlink (macOS /var -> /private/var).
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-mounts-')));
    home = p('home');
    touch('home/.ssh/id_rsa');
    touch('home/.config/nanocell/mount-allowlist.json');
    mkdir('home/.nanocell/groups/family');
    touch('home/docs/manual.txt');
    mkdir('home/projects/nanocell/src');
    mkdir('home/projects/code/lib');
    mkdir('home/projects/notes');
    mkdir('home/projects/other/notes');
    mkdir('home/projects/My Notes');
    mkdir('home/projects/a,readonly=false');
    mkdir('home/projects/readonly/data');
    mkdir('home/projects/.SSH');
    touch('home/projects/code/app.sqlite');
    mkdir('home/projects/code/private');
    mkdir('outside/stuff');
    mkdir('linked/inner');
    execFileSync('mkfifo', [p('home/projects/code/pipe')]);

    link(p('home/.ssh'), 'home/projects/code/keys');
    link(p('home/projects/notes'), 'home/projects/code/.env');
    link(p('home/projects/code'), 'outside/to-code');
    link(p('outside/stuff'), 'home/projects/code/escape');
    link(p('nowhere'), 'home/projects/code/dangling');
    link(p('home/projects/code/loop-b'), 'home/projects/code/loop-a');
    link(p('home/projects/code/loop-a'), 'home/projects/code/loop-b');
    link(p('home/projects/nanocell'), 'home/projects/code/hostcode');
    link(p('home/.nanocell'), 'datalink');
    link(p('linked'), 'rootlink');

    ctx = {
      isAdmin: true,
      homeDir: home,
      configDir: p('home/.config/nanocell'),
      dataDir: p('home/.nanocell'),
      projectRoot: p('home/projects/nanocell'),
    };
    allowlist = {
      allowedRoots: [
        { path: home, allowReadWrite: false },
        { path: p('home/projects'), allowReadWrite: true, description: 'code' },
        { path: p('home/projects/readonly'), allowReadWrite: false },
        { path: p('rootlink'), allowReadWrite: true },
        { path: p('does-not-exist'), allowReadWrite: true },
      ],
      blockedPatterns: ['*.sqlite', 'private'],
    };
  });
  afterAll(() => {
    fs.rmSync(base, { recursive: true, force: true });
  });

  const one = (request: MountRequest, over: Partial<MountContext> = {}, list = allowlist) =>
    validateMounts([request], list, { ...ctx, ...over });

  describe('grants', () => {
    const cases: Array<{
      name: string;
      request: () => MountRequest;
      isAdmin?: boolean;
      mount: () => { hostPath: string; cellPath: string; readOnly: boolean };
    }> = [
      {
        name: 'a folder in an allowed root, read-only by default, at /workspace/extra/<name>',
        request: () => ({ hostPath: p('home/projects/code') }),
        mount: () => ({
          hostPath: p('home/projects/code'),
          cellPath: '/workspace/extra/code',
          readOnly: true,
        }),
      },
      {
        name: 'a ~/ path, expanded to the home dir',
        request: () => ({ hostPath: '~/projects/notes' }),
        mount: () => ({
          hostPath: p('home/projects/notes'),
          cellPath: '/workspace/extra/notes',
          readOnly: true,
        }),
      },
      {
        name: 'a regular file',
        request: () => ({ hostPath: '~/docs/manual.txt' }),
        mount: () => ({
          hostPath: p('home/docs/manual.txt'),
          cellPath: '/workspace/extra/manual.txt',
          readOnly: true,
        }),
      },
      {
        name: 'read-write to the admin group when it asks and the root allows it',
        request: () => ({ hostPath: '~/projects/code', readOnly: false }),
        mount: () => ({
          hostPath: p('home/projects/code'),
          cellPath: '/workspace/extra/code',
          readOnly: false,
        }),
      },
      {
        name: 'read-only when the admin group asks for readOnly: true on a read-write root',
        request: () => ({ hostPath: '~/projects/code', readOnly: true }),
        mount: () => ({
          hostPath: p('home/projects/code'),
          cellPath: '/workspace/extra/code',
          readOnly: true,
        }),
      },
      {
        name: 'read-only mounts to a non-admin group',
        request: () => ({ hostPath: '~/projects/code' }),
        isAdmin: false,
        mount: () => ({
          hostPath: p('home/projects/code'),
          cellPath: '/workspace/extra/code',
          readOnly: true,
        }),
      },
      {
        name: 'a symlink from outside every root by its target, inside a root, mounting the target',
        request: () => ({ hostPath: p('outside/to-code') }),
        mount: () => ({
          hostPath: p('home/projects/code'),
          cellPath: '/workspace/extra/to-code',
          readOnly: true,
        }),
      },
      {
        name: 'a path under a root that is itself a symlink, resolved before comparing',
        request: () => ({ hostPath: p('linked/inner'), readOnly: false }),
        mount: () => ({
          hostPath: p('linked/inner'),
          cellPath: '/workspace/extra/inner',
          readOnly: false,
        }),
      },
      {
        name: 'an explicit container path below /workspace/extra/',
        request: () => ({ hostPath: '~/projects/code', containerPath: '/workspace/extra/src/app' }),
        mount: () => ({
          hostPath: p('home/projects/code'),
          cellPath: '/workspace/extra/src/app',
          readOnly: true,
        }),
      },
      {
        name: 'a default container path with unsafe characters replaced by _',
        request: () => ({ hostPath: '~/projects/My Notes' }),
        mount: () => ({
          hostPath: p('home/projects/My Notes'),
          cellPath: '/workspace/extra/My_Notes',
          readOnly: true,
        }),
      },
    ];
    it.each(cases)('$name', ({ request, isAdmin, mount }) => {
      const result = one(request(), isAdmin === undefined ? {} : { isAdmin });
      expect(result).toEqual({ mounts: [mount()], refusals: [] });
    });
  });

  describe('refuses', () => {
    const cases: Array<{
      name: string;
      request: () => MountRequest;
      isAdmin?: boolean;
      list?: () => MountAllowlist;
      reason: RegExp;
    }> = [
      // Where the path leads
      {
        name: 'a relative host path, showing the forms that work',
        request: () => ({ hostPath: 'projects/code' }),
        reason:
          /"projects\/code" is a relative path; write an absolute path such as .*, or "~\/projects\/code"/,
      },
      {
        name: 'another user’s ~name path',
        request: () => ({ hostPath: '~bob/code' }),
        reason: /only ~ and ~\/ \(your own home\) are expanded/,
      },
      {
        name: 'an empty host path',
        request: () => ({ hostPath: '' }),
        reason: /hostPath is missing: give an absolute path or one starting with ~\//,
      },
      {
        name: 'a host path with a control character',
        request: () => ({ hostPath: '~/projects/code\nx' }),
        reason: /control character; give a plain path/,
      },
      {
        name: 'a path that does not exist',
        request: () => ({ hostPath: '~/projects/missing' }),
        reason: /does not exist .*; create it first or fix the path/,
      },
      {
        name: 'a symlink to nothing',
        request: () => ({ hostPath: '~/projects/code/dangling' }),
        reason: /does not exist \(or is a symbolic link to nothing\)/,
      },
      {
        name: 'a loop of symlinks',
        request: () => ({ hostPath: '~/projects/code/loop-a' }),
        reason: /is a loop of symbolic links; point it at a real folder/,
      },
      {
        name: 'a named pipe (only folders and regular files are mountable)',
        request: () => ({ hostPath: '~/projects/code/pipe' }),
        reason: /is a named pipe; only folders and regular files can be mounted/,
      },
      {
        name: 'a path with a comma the runtime mount syntax would read as an option',
        request: () => ({
          hostPath: '~/projects/a,readonly=false',
          containerPath: '/workspace/extra/a',
        }),
        reason: /contains a comma, double quote or control character.*rename the folder/,
      },
      // Blocked patterns
      {
        name: '~/.ssh',
        request: () => ({ hostPath: '~/.ssh' }),
        reason:
          /has the part "\.ssh", which matches the blocked pattern "\.ssh".*mount a folder whose path has no such part/,
      },
      {
        name: 'a file inside ~/.ssh',
        request: () => ({ hostPath: '~/.ssh/id_rsa' }),
        reason: /blocked pattern "\.ssh"/,
      },
      {
        name: 'a symlink inside an allowed root that points to ~/.ssh, judged by its target',
        request: () => ({ hostPath: '~/projects/code/keys' }),
        reason:
          /"~\/projects\/code\/keys" \(which resolves to ".*\/home\/\.ssh"\) has the part "\.ssh"/,
      },
      {
        name: 'a symlink whose own name is blocked, wherever it points',
        request: () => ({ hostPath: '~/projects/code/.env' }),
        reason: /has the part "\.env", which matches the blocked pattern "\.env"/,
      },
      {
        name: 'a blocked name in any letter case',
        request: () => ({ hostPath: '~/projects/.SSH' }),
        reason: /matches the blocked pattern "\.ssh"/,
      },
      {
        name: 'a name matching one of the allowlist’s own glob patterns',
        request: () => ({ hostPath: '~/projects/code/app.sqlite' }),
        reason: /blocked pattern "\*\.sqlite"/,
      },
      {
        name: 'a name matching one of the allowlist’s own plain patterns',
        request: () => ({ hostPath: '~/projects/code/private' }),
        reason: /blocked pattern "private"/,
      },
      // Protected dirs
      {
        name: 'the config dir',
        request: () => ({ hostPath: '~/.config/nanocell' }),
        reason:
          /is the nanocell config dir .*: it holds the mount allowlist.*; it can never be mounted/,
      },
      {
        name: 'the allowlist file inside the config dir',
        request: () => ({ hostPath: '~/.config/nanocell/mount-allowlist.json' }),
        reason: /is inside the nanocell config dir/,
      },
      {
        name: 'a folder that contains the config dir',
        request: () => ({ hostPath: '~/.config' }),
        reason: /contains the nanocell config dir .*; mount a folder beside it instead/,
      },
      {
        name: 'the home dir, which contains the config dir',
        request: () => ({ hostPath: '~' }),
        reason: /contains the nanocell config dir/,
      },
      {
        name: 'the data dir',
        request: () => ({ hostPath: '~/.nanocell' }),
        reason: /is the nanocell data dir .*a group's own folder is granted separately/,
      },
      {
        name: 'a group folder inside the data dir',
        request: () => ({ hostPath: '~/.nanocell/groups/family' }),
        reason: /is inside the nanocell data dir/,
      },
      {
        name: 'a path inside the data dir reached through a symlink',
        request: () => ({ hostPath: p('datalink/groups/family') }),
        reason: /resolves to .*is inside the nanocell data dir/,
      },
      {
        name: 'the project root',
        request: () => ({ hostPath: '~/projects/nanocell' }),
        reason: /is nanocell's own code .*: an agent must never be able to change the host's code/,
      },
      {
        name: 'the project root read-write for the admin group',
        request: () => ({ hostPath: '~/projects/nanocell/src', readOnly: false }),
        reason: /is inside nanocell's own code/,
      },
      {
        name: 'a symlink in an allowed root that points to the project root',
        request: () => ({ hostPath: '~/projects/code/hostcode' }),
        reason: /resolves to .*is nanocell's own code/,
      },
      {
        name: 'an allowed root that contains the project root',
        request: () => ({ hostPath: '~/projects' }),
        reason: /contains nanocell's own code .*; mount a folder beside it instead/,
      },
      // Allowed roots
      {
        name: 'a path under no allowed root, listing the roots',
        request: () => ({ hostPath: p('outside/stuff') }),
        reason:
          /is not under an allowed root; paths under .*\/home, .*\/home\/projects.* may be mounted, and the owner can add roots in .*mount-allowlist\.json/,
      },
      {
        name: 'a symlink inside an allowed root that leads outside every root',
        request: () => ({ hostPath: '~/projects/code/escape' }),
        reason: /resolves to ".*\/outside\/stuff"\) is not under an allowed root/,
      },
      {
        name: 'everything when the allowlist has no roots',
        request: () => ({ hostPath: '~/projects/code' }),
        list: () => ({ allowedRoots: [], blockedPatterns: [] }),
        reason:
          /no extra mounts are allowed at all: the owner lists folders .* under "allowedRoots" in .*\/\.config\/nanocell\/mount-allowlist\.json/,
      },
      // Read-write
      {
        name: 'a read-write request from a non-admin group, saying to ask read-only',
        request: () => ({ hostPath: '~/projects/code', readOnly: false }),
        isAdmin: false,
        reason: /only the admin group may have read-write mounts; request it with readOnly: true/,
      },
      {
        name: 'a read-write request under a read-only root',
        request: () => ({ hostPath: '~/docs', readOnly: false }),
        reason:
          /its allowed root .*\/home is read-only; request it with readOnly: true, or the owner sets "allowReadWrite": true/,
      },
      {
        name: 'a read-write request under a read-only root nested in a read-write one',
        request: () => ({ hostPath: '~/projects/readonly/data', readOnly: false }),
        reason: /its allowed root .*\/projects\/readonly is read-only/,
      },
      // Container paths
      ...[
        '/workspace/extra',
        '/workspace/extra/',
        '/workspace/group/x',
        '/workspace/extraX/a',
        'workspace/extra/a',
        'code',
        '/etc/passwd',
      ].map((containerPath) => ({
        name: `the container path ${containerPath}`,
        request: () => ({ hostPath: '~/projects/code', containerPath }),
        reason:
          /(is not under \/workspace\/extra\/; extra mounts may only appear there|must name a path below \/workspace\/extra\/)/,
      })),
      ...['/workspace/extra/../group', '/workspace/extra/a/../../etc', '/workspace/extra/a/..'].map(
        (containerPath) => ({
          name: `the container path ${containerPath} with ..`,
          request: () => ({ hostPath: '~/projects/code', containerPath }),
          reason: /contains "\.\.", which is not allowed; write it as \/workspace\/extra\/notes/,
        }),
      ),
      ...['/workspace/extra//a', '/workspace/extra/./a', '/workspace/extra/a/'].map(
        (containerPath) => ({
          name: `the container path ${containerPath}, not in normal form`,
          request: () => ({ hostPath: '~/projects/code', containerPath }),
          reason: /must name a path below \/workspace\/extra\/ in normal form/,
        }),
      ),
      {
        name: 'a container path with a character the mount syntax cannot carry',
        request: () => ({
          hostPath: '~/projects/code',
          containerPath: '/workspace/extra/a,readonly=false',
        }),
        reason: /has the part "a,readonly=false"; use only letters, digits and \. _ @ \+ -/,
      },
    ];
    it.each(cases)('$name', ({ request, isAdmin, list, reason }) => {
      const r = request();
      const result = one(r, isAdmin === undefined ? {} : { isAdmin }, list ? list() : allowlist);
      expect(result.mounts).toEqual([]);
      expect(result.refusals).toHaveLength(1);
      expect(result.refusals[0]?.request).toBe(r);
      expect(result.refusals[0]?.reason).toMatch(reason);
    });
  });

  describe('blocks every built-in pattern', () => {
    const names = [
      '.ssh',
      '.gnupg',
      '.aws',
      '.azure',
      '.gcloud',
      '.kube',
      '.docker',
      '.env',
      '.env.production',
      '.netrc',
      '.npmrc',
      'id_rsa',
      'id_rsa.pub',
      'id_ed25519',
      'id_ed25519.pub',
      'id_ecdsa',
      'id_dsa',
      'aws-credentials.txt',
      'credentials',
      'server.pem',
      'tls.key',
    ];
    it.each(names)('refuses a path with the part %s', (name) => {
      const dir = p('home/projects/code/lib', name);
      fs.mkdirSync(dir, { recursive: true });
      const result = one({ hostPath: dir });
      expect(result.mounts).toEqual([]);
      expect(result.refusals[0]?.reason).toMatch(`has the part "${name}"`);
    });

    it('lists every pattern the issue requires', () => {
      expect(DEFAULT_BLOCKED_PATTERNS).toEqual(
        expect.arrayContaining([
          '.ssh',
          '.gnupg',
          '.aws',
          '.azure',
          '.gcloud',
          '.kube',
          '.docker',
          '.env',
          '.env.*',
          '.netrc',
          '.npmrc',
          'id_rsa*',
          'id_ed25519*',
          '*credentials*',
          '*.pem',
          '*.key',
          'id_ecdsa*',
          'id_dsa*',
        ]),
      );
    });

    it.each(['environment', 'sshfs', 'keys.txt', 'monkey'])(
      'does not refuse the look-alike %s',
      (name) => {
        const dir = p('home/projects/code/lib', name);
        fs.mkdirSync(dir, { recursive: true });
        expect(one({ hostPath: dir }).refusals).toEqual([]);
      },
    );
  });

  describe('several requests', () => {
    it('grants the others when one is refused', () => {
      const result = validateMounts(
        [{ hostPath: '~/.ssh' }, { hostPath: '~/projects/code' }, { hostPath: '~/missing' }],
        allowlist,
        ctx,
      );
      expect(result.mounts.map((m) => m.cellPath)).toEqual(['/workspace/extra/code']);
      expect(result.refusals.map((r) => r.request.hostPath)).toEqual(['~/.ssh', '~/missing']);
    });

    it('refuses a second mount at the same container path and says to pick another', () => {
      const result = validateMounts(
        [{ hostPath: '~/projects/notes' }, { hostPath: '~/projects/other/notes' }],
        allowlist,
        ctx,
      );
      expect(result.mounts).toEqual([
        { hostPath: p('home/projects/notes'), cellPath: '/workspace/extra/notes', readOnly: true },
      ]);
      expect(result.refusals[0]?.reason).toMatch(
        /containerPath \/workspace\/extra\/notes is already used by the mount of .*\/home\/projects\/notes at \/workspace\/extra\/notes; give this mount a containerPath of its own/,
      );
    });

    it('grants both when the second clash is given a container path of its own', () => {
      const result = validateMounts(
        [
          { hostPath: '~/projects/notes' },
          { hostPath: '~/projects/other/notes', containerPath: '/workspace/extra/other-notes' },
        ],
        allowlist,
        ctx,
      );
      expect(result.refusals).toEqual([]);
      expect(result.mounts.map((m) => m.cellPath)).toEqual([
        '/workspace/extra/notes',
        '/workspace/extra/other-notes',
      ]);
    });

    it.each([
      {
        first: '/workspace/extra/a',
        second: '/workspace/extra/a/b',
        how: 'is inside the mount of',
      },
      {
        first: '/workspace/extra/a/b',
        second: '/workspace/extra/a',
        how: 'would contain the mount of',
      },
    ])('refuses $second when $first is already mounted', ({ first, second, how }) => {
      const result = validateMounts(
        [
          { hostPath: '~/projects/notes', containerPath: first },
          { hostPath: '~/projects/code', containerPath: second },
        ],
        allowlist,
        ctx,
      );
      expect(result.mounts.map((m) => m.cellPath)).toEqual([first]);
      expect(result.refusals[0]?.reason).toContain(how);
    });

    it('does not count a refused request as using its container path', () => {
      const result = validateMounts(
        [
          { hostPath: '~/missing', containerPath: '/workspace/extra/x' },
          { hostPath: '~/projects/code', containerPath: '/workspace/extra/x' },
        ],
        allowlist,
        ctx,
      );
      expect(result.mounts.map((m) => m.cellPath)).toEqual(['/workspace/extra/x']);
    });

    it('mounts one folder twice at different container paths', () => {
      const result = validateMounts(
        [
          { hostPath: '~/projects/code', containerPath: '/workspace/extra/ro' },
          { hostPath: '~/projects/code', containerPath: '/workspace/extra/rw', readOnly: false },
        ],
        allowlist,
        ctx,
      );
      expect(result.refusals).toEqual([]);
      expect(result.mounts.map((m) => m.readOnly)).toEqual([true, false]);
    });
  });
});
