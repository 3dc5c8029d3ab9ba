import fs from 'node:fs';
import path from 'node:path';
import type { AuditSink } from '../audit/audit-event.js';
import { sha256Hex } from '../audit/canonical-json.js';

/** Policy files are small; a bigger one is not read for its fingerprint (the loader refuses it). */
const MAX_POLICY_BYTES = 1024 * 1024;

/**
 * Each policy file's version as last seen, so each change is audited once: when the host sees
 * it happen (`scan`, on a change in the policy dir) or when the gate reads it for a call
 * (`see`), whichever comes first.
 */
export class PolicyChangeAudit {
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly policyDir: string,
    private readonly audit: AuditSink,
  ) {}

  /**
   * Audit `source` (relative to the policy dir) if its text differs from the last seen;
   * `by` names who changed it when the host made the change (the owner's dashboard).
   */
  see(source: string, text: string, by?: string): boolean {
    const fp = sha256Hex(text);
    const before = this.seen.get(source);
    if (before === fp) return false;
    this.seen.set(source, fp);
    this.audit.append({
      type: 'policy_change',
      scope: source,
      file: source,
      action: before === undefined ? 'loaded' : 'changed',
      contentFingerprint: fp,
      ...(by ? { by } : {}),
    });
    return true;
  }

  /** Look at every policy file (default, groups/*, tasks/*); returns those audited now. */
  scan(): string[] {
    const changed: string[] = [];
    for (const source of this.sources()) {
      const text = readPolicyText(path.join(this.policyDir, source));
      if (text !== undefined && this.see(source, text)) changed.push(source);
    }
    return changed;
  }

  private sources(): string[] {
    const out = ['default.policy'];
    for (const sub of ['groups', 'tasks']) {
      let names: string[];
      try {
        names = fs.readdirSync(path.join(this.policyDir, sub));
      } catch {
        continue; // No such folder: no such policies.
      }
      for (const name of names.sort()) if (name.endsWith('.policy')) out.push(`${sub}/${name}`);
    }
    return out;
  }
}

/** A policy file's text, never through a symlink, undefined when absent or too big. */
function readPolicyText(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > MAX_POLICY_BYTES) return undefined;
    return fs.readFileSync(fd, 'utf8');
  } catch {
    return undefined; // Absent, or a symlink: not a policy file the loader would read.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
