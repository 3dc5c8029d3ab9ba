import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A fresh dir under the system temp dir, removed by `cleanup`. Opened up to 0755: a root
 * host's bwrap cells run as uid 10001, and bwrap resolves even fd-passed binds by path, so
 * every parent of a group folder must be traversable by that uid.
 */
export function tempDir(label, cleanup) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `nanocell-bench-${label}-`));
  fs.chmodSync(dir, 0o755);
  cleanup.add(`dir ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Data and config dirs for one benchmark host, made before the host would make them 0700. */
export function hostDirs(label, cleanup) {
  const dir = tempDir(label, cleanup);
  const home = path.join(dir, 'home');
  const configDir = path.join(dir, 'config');
  fs.mkdirSync(home, { mode: 0o755 });
  fs.mkdirSync(configDir, { mode: 0o755 });
  return { home, configDir };
}
