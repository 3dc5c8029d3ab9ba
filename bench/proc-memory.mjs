import fs from 'node:fs';

/** A `Name:   123 kB` field of /proc/PID/status or smaps_rollup, in kB; null when gone. */
function kbField(file, field) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null; // The process exited between listing and reading.
  }
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

/** Resident set of one process, in kB (VmRSS). */
export function rssKb(pid) {
  return kbField(`/proc/${pid}/status`, 'VmRSS');
}

/**
 * Proportional set size, in kB: shared pages divided among their users. Summed over many
 * cells it does not count the same node binary ten times, as RSS does.
 */
export function pssKb(pid) {
  return kbField(`/proc/${pid}/smaps_rollup`, 'Pss');
}

/** Every process below `rootPid` (not itself), from the parent links in /proc/PID/stat. */
export function descendants(rootPid) {
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // Exited while listing.
    }
    // The command name is in parentheses and may hold spaces: parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const out = [];
  const todo = [...(children.get(rootPid) ?? [])];
  while (todo.length > 0) {
    const pid = /** @type {number} */ (todo.pop());
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** RSS and PSS summed over processes, in MB. */
export function sumMemoryMb(pids) {
  let rss = 0;
  let pss = 0;
  for (const pid of pids) {
    rss += rssKb(pid) ?? 0;
    pss += pssKb(pid) ?? 0;
  }
  return { rssMb: rss / 1024, pssMb: pss / 1024, processes: pids.length };
}

/** The short command name of a process, for saying what a tree holds. */
export function commName(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/**
 * A container engine's memory figure (`docker stats` MemUsage such as "12.5MiB / 1GiB") in MB.
 */
export function parseMemUsageMb(text) {
  const m = /^\s*([\d.]+)\s*([KMGT]?i?B)/i.exec(text);
  if (!m) return null;
  const units = {
    b: 1 / 1024 ** 2,
    kb: 1e3 / 1024 ** 2,
    kib: 1 / 1024,
    mb: 1e6 / 1024 ** 2,
    mib: 1,
    gb: 1e9 / 1024 ** 2,
    gib: 1024,
    tb: 1e12 / 1024 ** 2,
    tib: 1024 ** 2,
  };
  const factor = units[/** @type {string} */ (m[2]).toLowerCase()];
  return factor === undefined ? null : Number(m[1]) * factor;
}
