/**
 * The two glob dialects of policy files. Only `*`, `?` and (in paths) `**` are special;
 * every other character matches itself, so owners need no escaping.
 */

const escapeRegExp = (s: string): string => s.replace(/[.+^${}()|[\]\\]/g, '\\$&');

function compile(pattern: string, any: string, one: string): RegExp {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += `${any}*`;
    else if (ch === '?') source += one;
    else source += escapeRegExp(ch);
  }
  return new RegExp(`^${source}$`, 'u');
}

/** Whole-text glob (commands): `*` is any run of characters, spaces and slashes included. */
export function matchTextGlob(pattern: string, text: string): boolean {
  return compile(pattern, '[\\s\\S]', '[\\s\\S]').test(text);
}

const segmentsOf = (p: string): string[] => p.split('/').filter((s) => s !== '');

const matchSegment = (pattern: string, segment: string): boolean =>
  compile(pattern, '[^/]', '[^/]').test(segment);

type Step = (pi: number, si: number) => boolean;

/** Several `**` in one pattern would otherwise make matching exponential in the path depth. */
function memoised(step: (pi: number, si: number, self: Step) => boolean): Step {
  const seen = new Map<string, boolean>();
  const self: Step = (pi, si) => {
    const key = `${pi}:${si}`;
    let result = seen.get(key);
    if (result === undefined) {
      result = step(pi, si, self);
      seen.set(key, result);
    }
    return result;
  };
  return self;
}

/**
 * Path glob over `/`-separated segments: `*` and `?` stay inside one segment, a `**`
 * segment spans zero or more segments (so `private/**` covers `private` itself).
 * Both arguments must already be normalised absolute paths.
 */
export function matchPathGlob(pattern: string, path: string): boolean {
  const pat = segmentsOf(pattern);
  const segs = segmentsOf(path);
  const match = memoised((pi, si, self) => {
    const p = pat[pi];
    if (p === undefined) return si === segs.length;
    if (p === '**') return self(pi + 1, si) || (si < segs.length && self(pi, si + 1));
    const s = segs[si];
    return s !== undefined && matchSegment(p, s) && self(pi + 1, si + 1);
  });
  return match(0, 0);
}

/**
 * Whether `path` or anything below it could match `pattern`: a tool that walks the tree at
 * `path` (list_files, grep) reaches whatever the pattern protects.
 */
export function pathGlobReaches(pattern: string, path: string): boolean {
  const pat = segmentsOf(pattern);
  const segs = segmentsOf(path);
  const reaches = memoised((pi, si, self) => {
    // The whole path is consumed: what is left of the pattern names something below it.
    if (si === segs.length) return true;
    const p = pat[pi];
    if (p === undefined) return false;
    if (p === '**') return self(pi + 1, si) || self(pi, si + 1);
    const s = segs[si];
    return s !== undefined && matchSegment(p, s) && self(pi + 1, si + 1);
  });
  return reaches(0, 0);
}
