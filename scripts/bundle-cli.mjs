// The CLI as a few files (issue 17): `./nanocell ask` loaded ~350 ES modules, most of its
// cold start. Our code, zod, croner and clack are bundled; every other dependency stays a
// package import (native better-sqlite3, pino's worker transports, and the channel and model
// SDKs that only some commands load, lazily, from their own chunks).
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const BUNDLED = new Set(['zod', 'croner', '@clack/prompts']);
const external = Object.keys(pkg.dependencies).filter((name) => !BUNDLED.has(name));
const outdir = path.join(root, 'dist', 'bundle');
fs.rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [path.join(root, 'src', 'main.ts')],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  external: external.flatMap((name) => [name, `${name}/*`]),
  // CommonJS inside a bundled package (clack's helpers) may still call require().
  banner: {
    js: "import { createRequire as __ncRequire } from 'node:module'; const require = __ncRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  logLevel: 'warning',
}).catch(() => process.exit(1));
