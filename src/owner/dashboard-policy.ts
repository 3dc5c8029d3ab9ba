import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { CliStreams, ExplainArgs } from '../cli/policy.js';
import type { PolicyCheckResult, PolicyFileInfo } from '../channels/web/dashboard-types-policy.js';
import {
  MAX_POLICY_TEXT_BYTES,
  POLICY_FILE,
  type OwnerPolicyApi,
} from '../channels/web/owner-api-policy.js';
import type { PolicyChangeAudit } from '../policy/policy-change-audit.js';
import { parsePolicy } from '../policy/policy-file.js';
import type { Store } from '../store/store.js';
import { alwaysRulesIn, exactAllowFor, withAlwaysRule, withoutAlwaysRule } from './always-allow.js';

export const DASHBOARD_EDITOR = 'owner (dashboard)';

export interface DashboardPolicyDeps {
  /** The owner's policy dir (`~/.config/nanocell/policy`): no cell can mount it. */
  policyDir: string;
  store: Store;
  /** Tool names a rule may use (a typo is an error, as in `nanocell policy check`). */
  knownTools: readonly string[];
  policyAudit: PolicyChangeAudit;
  /** `nanocell policy explain` itself: prints to `out`, returns its exit code. */
  explain: (args: ExplainArgs, out: CliStreams) => number;
  /** A still-pending approval by its code (the rule is made from it, never from the page). */
  pendingApproval: (
    code: string,
  ) => { group: string; tool: string; input: Record<string, unknown> } | undefined;
  now?: () => Date;
}

type Read = { ok: true; text: string; exists: boolean } | { ok: false; reason: string };

/** A policy file's text, never through a symlink; absent reads as empty. */
function readPolicyFile(where: string, file: string): Read {
  let fd: number | undefined;
  try {
    fd = fs.openSync(where, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return { ok: false, reason: `${file} is not a regular file; replace it` };
    if (st.size > MAX_POLICY_TEXT_BYTES) {
      return {
        ok: false,
        reason: `${file} is over ${MAX_POLICY_TEXT_BYTES} bytes; edit it by hand`,
      };
    }
    return { ok: true, text: fs.readFileSync(fd, 'utf8'), exists: true };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: true, text: '', exists: false };
    if (code === 'ELOOP') {
      return {
        ok: false,
        reason: `${file} is a symbolic link; the dashboard edits only plain files`,
      };
    }
    return { ok: false, reason: `cannot read ${file}: ${(err as Error).message}` };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Replace `file` whole (a new file renamed over it), so the gate never reads half of it. */
function writePolicyFile(policyDir: string, file: string, text: string): string | null {
  const dir = path.dirname(path.join(policyDir, file));
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!fs.lstatSync(dir).isDirectory()) return `${path.dirname(file)}/ is not a plain folder`;
    const target = path.join(policyDir, file);
    const st = fs.lstatSync(target, { throwIfNoEntry: false });
    if (st && !st.isFile()) return `${file} is not a regular file (a link?); replace it by hand`;
    const temp = path.join(dir, `.${path.basename(file)}.${crypto.randomBytes(6).toString('hex')}`);
    const fd = fs.openSync(
      temp,
      fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
      0o600,
    );
    try {
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, target);
    return null;
  } catch (err) {
    return `cannot write ${file}: ${(err as Error).message}`;
  }
}

function scopeOf(file: string): string {
  if (file === 'default.policy') return 'every group';
  const [dir, name] = file.split('/');
  const id = (name ?? '').replace(/\.policy$/, '');
  return dir === 'groups' ? `group ${id}` : `task ${id}`;
}

/**
 * The owner's policy files as the dashboard sees them: listed, read, checked as
 * `nanocell policy check` checks them, saved only when they have no errors (and audited as a
 * policy change), and calls explained by `nanocell policy explain` itself.
 */
export function dashboardPolicy(deps: DashboardPolicyDeps): OwnerPolicyApi {
  const { policyDir } = deps;
  const check = (file: string, text: string): PolicyCheckResult => {
    const parsed = parsePolicy(text, file, { knownTools: deps.knownTools });
    return { errors: parsed.errors, warnings: parsed.warnings, rules: parsed.rules.length };
  };
  const listed = (sub: string): string[] => {
    try {
      return fs
        .readdirSync(path.join(policyDir, sub))
        .map((n) => `${sub}/${n}`)
        .filter((f) => POLICY_FILE.test(f));
    } catch {
      return []; // No such folder yet: no such files.
    }
  };
  const save = (file: string, text: string) => {
    const result = check(file, text);
    if (result.errors.length > 0) {
      const first = result.errors[0]!;
      return {
        ok: false as const,
        reason: `not saved: ${result.errors.length} error(s), first on line ${first.line}: ${first.message}. Fix them first (a policy with errors denies every call).`,
        check: result,
      };
    }
    const problem = writePolicyFile(policyDir, file, text);
    if (problem) return { ok: false as const, reason: problem };
    // Audited now, by whom, before the policy dir's watcher sees the same version.
    deps.policyAudit.see(file, text, DASHBOARD_EDITOR);
    return { ok: true as const, check: result };
  };
  const readText = (file: string) => readPolicyFile(path.join(policyDir, file), file);
  return {
    files: () => {
      const names = new Set<string>(['default.policy']);
      for (const g of deps.store.groups.list()) names.add(`groups/${g.name}.policy`);
      for (const f of [...listed('groups'), ...listed('tasks')]) names.add(f);
      return [...names].map((file): PolicyFileInfo => ({
        file,
        scope: scopeOf(file),
        exists: fs.existsSync(path.join(policyDir, file)),
      }));
    },
    read: (file) => {
      const read = readPolicyFile(path.join(policyDir, file), file);
      return read.ok ? { ok: true, file: { file, text: read.text, exists: read.exists } } : read;
    },
    check,
    save,
    explain: (request) => {
      let printed = '';
      const out = { write: (t: string) => (printed += t) };
      const code = deps.explain(
        {
          groupName: request.group,
          tool: request.tool,
          inputJson: JSON.stringify(request.input),
          ...(request.task !== undefined ? { taskId: request.task } : {}),
          untrusted: request.untrusted === true,
        },
        { stdout: out, stderr: out },
      );
      const lines = printed.split('\n').filter((l) => l.trim() !== '');
      const decision = code === 0 ? lines.find((l) => /^(allow|deny|ask)$/.test(l)) : undefined;
      return { decision: (decision as 'allow' | 'deny' | 'ask' | undefined) ?? null, lines };
    },
    always: (code) => {
      const approval = deps.pendingApproval(code);
      if (!approval) {
        return {
          ok: false,
          reason: `no approval ${code} is waiting (answered or expired already)`,
        };
      }
      const exact = exactAllowFor(approval.tool, approval.input);
      if (!exact.ok) return { ok: false, reason: `Not written: ${exact.reason}.` };
      const file = `groups/${approval.group}.policy`;
      const read = readText(file);
      if (!read.ok) return read;
      const at = (deps.now ?? (() => new Date()))();
      const text = withAlwaysRule(read.text, exact.rule, code, at);
      const saved = save(file, text);
      if (!saved.ok) return { ok: false, reason: saved.reason };
      const line = text.split('\n').length - 1;
      return {
        ok: true,
        rule: {
          file,
          group: approval.group,
          line,
          rule: exact.rule,
          code,
          addedAt: at.toISOString(),
        },
      };
    },
    alwaysRules: () =>
      listed('groups').flatMap((file) => {
        const read = readText(file);
        if (!read.ok) return [];
        const group = file.slice('groups/'.length, -'.policy'.length);
        return alwaysRulesIn(read.text).map((r) => ({ file, group, ...r }));
      }),
    undoAlways: (file, line, rule) => {
      const read = readText(file);
      if (!read.ok) return read;
      const text = withoutAlwaysRule(read.text, line, rule);
      if (text === undefined) {
        return {
          ok: false,
          reason: `${file} no longer has that rule on line ${line}; reload the list`,
        };
      }
      const saved = save(file, text);
      return saved.ok ? { ok: true } : { ok: false, reason: saved.reason };
    },
  };
}
