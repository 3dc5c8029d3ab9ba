import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { NOT_BUILT_PAGE } from './page.js';

/**
 * The dashboard's policy: scripts and styles only from this server (no inline code, no CDN),
 * images only from here, so markdown a model wrote cannot load a tracking image from
 * elsewhere; never framed.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Headers of every page we serve: never inside another site's frame (a framed Approve button
 * is a click waiting to be stolen), and the address never leaves in a Referer.
 */
export const PAGE_HEADERS = {
  'content-security-policy': DASHBOARD_CSP,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};
const MAX_TOTAL_BYTES = 32 * 1024 * 1024;

interface StaticFile {
  type: string;
  bytes: Buffer;
  /** Vite names files under assets/ by their content hash: they never change. */
  immutable: boolean;
}

/**
 * The built dashboard (`npm run build` puts it in dist/dashboard), read once at start into
 * memory: what is served is exactly what was built, and no request path ever reaches the
 * file system. Without a build, `/` says how to make one.
 */
export class DashboardFiles {
  private constructor(private readonly files: Map<string, StaticFile>) {}

  static load(dir: string | undefined): DashboardFiles {
    const files = new Map<string, StaticFile>();
    if (dir && fs.existsSync(path.join(dir, 'index.html'))) {
      let total = 0;
      for (const rel of walk(dir, '')) {
        const type = TYPES[path.extname(rel)];
        if (!type) continue;
        const bytes = fs.readFileSync(path.join(dir, rel));
        total += bytes.length;
        if (total > MAX_TOTAL_BYTES) throw new Error(`${dir} holds over 32 MB; rebuild it`);
        files.set(`/${rel}`, { type, bytes, immutable: rel.startsWith('assets/') });
      }
    }
    return new DashboardFiles(files);
  }

  get built(): boolean {
    return this.files.has('/index.html');
  }

  /** Serves a GET of the page or one of its files; false when the path is none of them. */
  serve(pathname: string, res: http.ServerResponse): boolean {
    const file = this.files.get(pathname === '/' ? '/index.html' : pathname);
    if (!file) {
      if (pathname !== '/') return false;
      res.writeHead(200, {
        'content-type': TYPES['.html']!,
        'cache-control': 'no-cache',
        ...PAGE_HEADERS,
      });
      res.end(NOT_BUILT_PAGE);
      return true;
    }
    res.writeHead(200, {
      'content-type': file.type,
      'content-length': file.bytes.length,
      'cache-control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...PAGE_HEADERS,
    });
    res.end(file.bytes);
    return true;
  }
}

/** Regular files only; a symlink in the build dir is not followed. */
function* walk(root: string, rel: string): Generator<string> {
  for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) yield* walk(root, child);
    else if (entry.isFile()) yield child;
  }
}
