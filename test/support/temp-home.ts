import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A fresh NANOCELL_HOME. It lives under /tmp (not under /root, which the cell user of a
 * root host cannot traverse) and is removed by `cleanup`.
 */
export function tempHome(prefix = 'nanocell-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
