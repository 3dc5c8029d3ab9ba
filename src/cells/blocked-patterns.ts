import path from 'node:path';

/**
 * Names of credentials and keys, refused in any component of a mount's path whatever the
 * allowlist says. The owner's allowlist can add patterns, never remove these.
 */
export const DEFAULT_BLOCKED_PATTERNS: readonly string[] = [
  '.ssh',
  '.gnupg',
  '.aws',
  '.azure',
  '.gcloud',
  '.kube',
  '.docker',
  '.env',
  '.env.*',
  '.envrc',
  '.netrc',
  '.npmrc',
  '.pgpass',
  '.password-store',
  'id_rsa*',
  'id_ed25519*',
  'id_ecdsa*',
  'id_dsa*',
  '*credentials*',
  '*.pem',
  '*.key',
  '*.p12',
  '*.pfx',
];

export interface BlockedHit {
  component: string;
  pattern: string;
}

/**
 * Matches whole path components against glob patterns (`*` any run of characters, `?` one),
 * case-insensitively: on a case-insensitive file system `.SSH` is `.ssh`.
 */
export class BlockedPatterns {
  private readonly compiled: Array<{ pattern: string; regex: RegExp }>;

  constructor(patterns: readonly string[]) {
    this.compiled = patterns.map((pattern) => ({ pattern, regex: globToRegExp(pattern) }));
  }

  /** The first component of an absolute path that a pattern matches. */
  firstMatch(absolutePath: string): BlockedHit | undefined {
    for (const component of absolutePath.split(path.sep)) {
      if (component === '') continue;
      const hit = this.compiled.find((c) => c.regex.test(component));
      if (hit) return { component, pattern: hit.pattern };
    }
    return undefined;
  }
}

function globToRegExp(pattern: string): RegExp {
  const body = [...pattern]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'is');
}
