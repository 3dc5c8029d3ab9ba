import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/run-cli.js';
import { tempHome } from '../support/temp-home.js';

// scripts/cell-packages.sh, as scripts/build-cell-image.sh sources it, against the host's
// real dpkg database.
function run(script: string, ...args: string[]) {
  const r = spawnSync(
    'bash',
    [
      '-c',
      `set -euo pipefail
       die() { echo "error: $*" >&2; exit 1; }
       source scripts/cell-packages.sh
       ${script}`,
      'cell-packages',
      ...args,
    ],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const hasDpkg = spawnSync('dpkg-query', ['--version']).status === 0;

describe('per-group cell packages (scripts/cell-packages.sh)', () => {
  const dirs: Array<{ cleanup: () => void }> = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

  function listFile(text: string): string {
    const dir = tempHome('nanocell-cell-packages-');
    dirs.push(dir);
    const file = path.join(dir.dir, 'research');
    fs.writeFileSync(file, text);
    return file;
  }

  const read = (file: string) =>
    run('read_cell_packages "$1"; printf "%s\\n" "${CELL_PACKAGES[@]}"', file);

  it('reads one package a line, with comments, blank lines, spaces and duplicates', () => {
    const file = listFile(
      '# research tools\n  bc  \n\nxxd # hex dumps\nbc\nlibc6:amd64\npython3.11',
    );
    const r = read(file);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['bc', 'libc6:amd64', 'python3.11', 'xxd']);
  });

  it('reads an empty list as no packages', () => {
    expect(read(listFile('# nothing yet\n\n')).stdout.trim()).toBe('');
  });

  it('refuses a line that is not a package name, saying which line', () => {
    const r = read(listFile('bc\ncurl; rm -rf /\n'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('line 2');
    expect(r.stderr).toContain('is not a Debian package name');
  });

  it('refuses a list longer than its cap', () => {
    const r = read(listFile(Array.from({ length: 201 }, (_, i) => `pkg${i}`).join('\n')));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('more than 200 packages');
  });

  it('refuses a list that is a symbolic link', () => {
    const file = listFile('bc\n');
    const link = `${file}-link`;
    fs.symlinkSync(file, link);
    expect(read(link).stderr).toContain('not a regular file');
  });

  it.skipIf(!hasDpkg)(
    'refuses a package that is not installed on the host, naming apt-get install',
    () => {
      const r = run('check_cell_packages_installed research bash no-such-package-nanocell');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('group research');
      expect(r.stderr).toContain('not installed on the host: no-such-package-nanocell');
      expect(r.stderr).toContain(
        'apt-get install -y --no-install-recommends no-such-package-nanocell',
      );
      expect(r.stderr).not.toContain('bash ');
    },
  );

  it.skipIf(!hasDpkg)('accepts installed packages and lists their files without docs', () => {
    expect(run('check_cell_packages_installed research bash').code).toBe(0);
    const files = run('cell_package_files bash').stdout.trim().split('\n');
    expect(files.some((f) => /\/bin\/bash$/.test(f))).toBe(true);
    expect(
      files.filter((f) => f.startsWith('/usr/share/doc/') || f.startsWith('/usr/share/man/')),
    ).toEqual([]);
  });
});
