import fs from 'node:fs';
import path from 'node:path';

/** A cell runs few processes; past this the tree is not walked further (a fork bomb). */
const MAX_PROCESSES = 256;

/**
 * The resident memory (PSS, so shared pages count once) of the process `pid` and everything
 * under it, from Linux's /proc: the memory of a cell whose host process is the sandbox itself
 * (bwrap). Null when it cannot be read here (not Linux, not permitted, the process is gone),
 * so the page says "unknown" rather than a wrong number. `procDir` is a fake /proc in tests.
 */
export function processTreePssBytes(pid: number, procDir = '/proc'): number | null {
  const seen = new Set<number>();
  const todo = [pid];
  let total = 0;
  let measured = false;
  while (todo.length > 0 && seen.size < MAX_PROCESSES) {
    const p = todo.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    const pss = pssOf(path.join(procDir, String(p), 'smaps_rollup'));
    if (pss !== null) {
      total += pss;
      measured = true;
    }
    todo.push(...childrenOf(path.join(procDir, String(p), 'task')));
  }
  return measured ? total : null;
}

function pssOf(file: string): number | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null; // Gone, or not ours to read: not counted.
  }
  const kb = /^Pss:\s+(\d+) kB$/m.exec(text);
  return kb ? Number(kb[1]) * 1024 : null;
}

function childrenOf(taskDir: string): number[] {
  let tasks: string[];
  try {
    tasks = fs.readdirSync(taskDir);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tasks.slice(0, MAX_PROCESSES)) {
    try {
      const text = fs.readFileSync(path.join(taskDir, tid, 'children'), 'utf8');
      for (const c of text.split(/\s+/)) if (/^\d{1,10}$/.test(c)) out.push(Number(c));
    } catch {
      // A thread that ended meanwhile has no children to list.
    }
  }
  return out;
}
