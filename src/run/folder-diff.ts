import type { EntryState, FolderSnapshot } from './folder-snapshot.js';

/** One path a run changed in its group folder. */
export interface FileChange {
  path: string;
  change: 'added' | 'removed' | 'modified';
  /** A unified diff of the text, or null when it is not text (or too big): `note` says why. */
  diff: string | null;
  note: string | null;
  sizeBefore: number | null;
  sizeAfter: number | null;
}

export const MAX_CHANGES = 200;
export const MAX_DIFF_CHARS = 32 * 1024;
/** Lines × lines a diff may compare; past it the file is reported changed, without a diff. */
const MAX_DIFF_CELLS = 4_000_000;
const CONTEXT = 3;

/**
 * What changed between two snapshots of a folder, by path, at most MAX_CHANGES: added,
 * removed and modified files, each modified or added text file with a bounded unified diff.
 */
export function diffSnapshots(
  before: FolderSnapshot,
  after: FolderSnapshot,
): { changes: FileChange[]; truncated: boolean } {
  const paths = [...new Set([...before.entries.keys(), ...after.entries.keys()])].sort();
  const changes: FileChange[] = [];
  let truncated = before.truncated || after.truncated;
  for (const path of paths) {
    const a = before.entries.get(path);
    const b = after.entries.get(path);
    if (a && b && same(a, b)) continue;
    if (changes.length >= MAX_CHANGES) {
      truncated = true;
      break;
    }
    changes.push(changeOf(path, a, b));
  }
  return { changes, truncated };
}

const same = (a: EntryState, b: EntryState) =>
  a.kind === b.kind && a.size === b.size && a.hash === b.hash;

function changeOf(path: string, a: EntryState | undefined, b: EntryState | undefined): FileChange {
  const change = !a ? 'added' : !b ? 'removed' : 'modified';
  const base = {
    path,
    change,
    sizeBefore: a?.size ?? null,
    sizeAfter: b?.size ?? null,
  } as const;
  const kindNote = (e: EntryState | undefined) =>
    e?.kind === 'link'
      ? 'a symbolic link (never followed)'
      : e?.kind === 'other'
        ? 'not a regular file'
        : null;
  const note = kindNote(b) ?? kindNote(a);
  if (note) return { ...base, diff: null, note };
  const textA = a ? a.text : '';
  const textB = b ? b.text : '';
  if (textA === null || textB === null) {
    return { ...base, diff: null, note: 'binary or too large to show' };
  }
  const diff = unifiedDiff(path, a ? textA : null, b ? textB : null);
  return diff === null
    ? { ...base, diff: null, note: 'too many lines to diff' }
    : { ...base, diff, note: null };
}

const linesOf = (text: string) => (text === '' ? [] : text.replace(/\n$/, '').split('\n'));

/**
 * A unified diff (`--- a/PATH`, `+++ b/PATH`, `@@` hunks with three lines of context) of two
 * texts, null for `before`/`after` meaning the file did not exist. Null when the texts are too
 * long to compare; cut at MAX_DIFF_CHARS with a line saying so.
 */
export function unifiedDiff(
  path: string,
  before: string | null,
  after: string | null,
): string | null {
  const a = linesOf(before ?? '');
  const b = linesOf(after ?? '');
  if (a.length * b.length > MAX_DIFF_CELLS) return null;
  const ops = editScript(a, b);
  const out = [
    `--- ${before === null ? '/dev/null' : `a/${path}`}`,
    `+++ ${after === null ? '/dev/null' : `b/${path}`}`,
  ];
  let i = 0;
  while (i < ops.length) {
    if (ops[i]!.op === ' ') {
      i++;
      continue;
    }
    const start = Math.max(0, i - CONTEXT);
    let end = i;
    // Extend the hunk while changes are within 2 × CONTEXT lines of each other.
    while (end < ops.length) {
      if (ops[end]!.op !== ' ') {
        end++;
        continue;
      }
      let run = end;
      while (run < ops.length && ops[run]!.op === ' ') run++;
      if (run === ops.length || run - end > 2 * CONTEXT) {
        end = Math.min(run, end + CONTEXT);
        break;
      }
      end = run;
    }
    const hunk = ops.slice(start, end);
    const first = hunk[0]!;
    const countA = hunk.filter((o) => o.op !== '+').length;
    const countB = hunk.filter((o) => o.op !== '-').length;
    out.push(
      `@@ -${first.a + (countA ? 1 : 0)},${countA} +${first.b + (countB ? 1 : 0)},${countB} @@`,
    );
    for (const o of hunk) out.push(`${o.op}${o.text}`);
    i = end;
  }
  const text = `${out.join('\n')}\n`;
  return text.length > MAX_DIFF_CHARS
    ? `${text.slice(0, MAX_DIFF_CHARS)}\n… diff cut at ${MAX_DIFF_CHARS} characters\n`
    : text;
}

interface Op {
  op: ' ' | '-' | '+';
  text: string;
  /** Lines of a and b before this one. */
  a: number;
  b: number;
}

/** The shortest edit script by longest common subsequence (bounded by the caller). */
function editScript(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] =
        a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ op: ' ', text: a[i]!, a: i++, b: j++ });
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      ops.push({ op: '-', text: a[i]!, a: i++, b: j });
    } else {
      ops.push({ op: '+', text: b[j]!, a: i, b: j++ });
    }
  }
  return ops;
}
