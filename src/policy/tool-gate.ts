import type { Logger } from 'pino';
import type { AuditSink } from '../audit/audit-event.js';
import fs from 'node:fs';
import path from 'node:path';
import { fingerprint } from '../audit/canonical-json.js';
import { formatApprovalRequest } from './approval-message.js';
import type { Approval } from '../store/approvals.js';
import type { Approvals } from './approvals.js';
import type { PathMount } from '../fs/resolve-cell-path.js';
import { decideOnResolvedPath } from './path-decision.js';
import { callFingerprint } from './fingerprint.js';
import { policySources } from './load-policy.js';
import { PolicyCache } from './policy-cache.js';
import { PolicyChangeAudit } from './policy-change-audit.js';
import { knownToolNames, toolClassOf, type Decision } from './rules.js';
import { describeSources, type ProvenanceLabel } from '../guard/provenance.js';

export interface GateCall {
  groupName: string;
  isAdmin: boolean;
  taskId?: number | undefined;
  tool: string;
  input: Record<string, unknown>;
  /** The cell's mounts: path rules are judged on where a path really leads in them. */
  mounts?: readonly PathMount[] | undefined;
  /**
   * The data-flow guard (src/guard): the run's label and whether this call is a sink. A sink
   * in a run that read untrusted content is asked of the owner, whatever the rules allow.
   */
  guard?: { label: ProvenanceLabel; sink: boolean };
}

export type GateResult =
  { allowed: true; decision: Decision } | { allowed: false; decision: Decision; output: string };

export interface ToolGateOptions {
  policyDir: string;
  hostTools: readonly string[];
  approvals: Approvals;
  audit: AuditSink;
  log: Logger;
  /** Send the owner (every surface the owner is on) an approval request. */
  notifyOwner: (text: string, approval: Approval) => void;
  /**
   * Whether an `ask` may wait for the owner's answer. Only the long-running host can receive
   * one; a one-shot command denies at once and says where to approve.
   */
  canWait: boolean;
  /** Shared with the host's policy-dir watcher, so a change is audited once, when it happens. */
  policyAudit?: PolicyChangeAudit;
}

/**
 * Every tool call passes here before it runs: the owner's policy files are read (a broken
 * file denies everything until fixed), the decision is deny, ask or allow, and an `ask` waits
 * for a single-use approval bound to this exact input.
 */
export class ToolGate {
  /** Each policy file's version as last seen, so a change is audited once. */
  private readonly policyAudit: PolicyChangeAudit;
  private readonly policies: PolicyCache;

  constructor(private readonly o: ToolGateOptions) {
    this.policyAudit = o.policyAudit ?? new PolicyChangeAudit(o.policyDir, o.audit);
    this.policies = new PolicyCache(o.policyDir);
  }

  async check(call: GateCall, signal?: AbortSignal): Promise<GateResult> {
    const { policy: loaded, fresh } = this.policies.load(
      {
        groupName: call.groupName,
        ...(call.taskId !== undefined ? { taskId: String(call.taskId) } : {}),
      },
      knownToolNames(this.o.hostTools),
    );
    // Unchanged files were audited when they were last read.
    if (fresh) this.auditPolicyChanges(call);
    if (!loaded.ok) {
      const first = loaded.errors[0];
      const decision: Decision = {
        effect: 'deny',
        reason: `the owner's policy files have errors (${first?.source}:${first?.line}: ${first?.message}); every call is denied until \`nanocell policy check\` passes`,
      };
      this.o.log.error(
        { group: call.groupName, errors: loaded.errors },
        'policy files have errors',
      );
      return { allowed: false, decision, output: `Denied: ${decision.reason}.` };
    }
    const decision = decideOnResolvedPath(
      {
        groupName: call.groupName,
        isAdmin: call.isAdmin,
        tool: call.tool,
        toolClass: toolClassOf(call.tool, this.o.hostTools) ?? 'cell',
        input: call.input,
        ...(call.guard?.label.untrusted ? { untrusted: true } : {}),
      },
      loaded.layers,
      call.mounts ?? [],
    );
    const held = call.guard?.sink && call.guard.label.untrusted ? call.guard.label : undefined;
    const why = held && `this run read ${describeSources(held)}, and now wants to use ${call.tool}`;
    if (decision.effect === 'allow' && !why) return { allowed: true, decision };
    if (decision.effect === 'deny') {
      return {
        allowed: false,
        decision,
        output: `Denied by the owner's policy: ${decision.reason}`,
      };
    }
    if (why)
      this.o.log.info(
        { group: call.groupName, tool: call.tool },
        'guard: untrusted run, sink held',
      );
    return this.askOwner(
      call,
      decision.effect === 'ask' ? decision : { effect: 'ask', reason: `held by the guard: ${why}` },
      signal,
      why,
    );
  }

  private auditPolicyChanges(call: GateCall): void {
    const sources = policySources(
      call.groupName,
      call.taskId !== undefined ? String(call.taskId) : undefined,
    );
    for (const source of [sources.defaults, sources.group, sources.task]) {
      if (source === undefined) continue;
      let text: string;
      try {
        text = fs.readFileSync(path.join(this.o.policyDir, source), 'utf8');
      } catch {
        continue;
      }
      this.policyAudit.see(source, text);
    }
  }

  private async askOwner(
    call: GateCall,
    decision: Decision,
    signal?: AbortSignal,
    why?: string,
  ): Promise<GateResult> {
    const { approvals, audit } = this.o;
    const fp = callFingerprint({ groupName: call.groupName, tool: call.tool, input: call.input });
    const base = {
      group: call.groupName,
      ...(call.taskId !== undefined ? { task: String(call.taskId) } : {}),
      tool: call.tool,
      inputFingerprint: fingerprint(call.input),
    };
    const already = approvals.consume(fp);
    if (already.granted) {
      audit.append({
        type: 'approval',
        ...base,
        code: already.approval.code,
        status: 'granted',
        by: 'owner',
      });
      return { allowed: true, decision };
    }
    if (already.state === 'denied') {
      return { allowed: false, decision, output: 'Denied: the owner said no to this call.' };
    }
    if (!this.o.canWait) {
      return {
        allowed: false,
        decision,
        output:
          "Denied: this call needs the owner's approval, which only a running host (`nanocell start`) can ask for.",
      };
    }
    const { approval, created } = approvals.requestApproval({
      groupName: call.groupName,
      tool: call.tool,
      input: call.input,
      ...(call.taskId !== undefined ? { taskId: String(call.taskId) } : {}),
    });
    if (created) {
      audit.append({ type: 'approval', ...base, code: approval.code, status: 'asked' });
      this.o.notifyOwner(formatApprovalRequest(approval, why ? { why } : {}), approval);
    }
    const expiresInMs = Math.max(0, new Date(approval.expiresAt).getTime() - Date.now());
    const waitSignal = signal
      ? AbortSignal.any([signal, AbortSignal.timeout(expiresInMs)])
      : AbortSignal.timeout(expiresInMs);
    await approvals.waitForAnswer(approval.code, waitSignal);
    const result = approvals.consume(fp);
    if (result.granted) {
      audit.append({
        type: 'approval',
        ...base,
        code: approval.code,
        status: 'granted',
        by: 'owner',
      });
      return { allowed: true, decision };
    }
    const status = result.state === 'denied' ? 'denied' : 'expired';
    audit.append({ type: 'approval', ...base, code: approval.code, status, by: 'owner' });
    return {
      allowed: false,
      decision,
      output:
        status === 'denied'
          ? 'Denied: the owner said no to this call.'
          : 'Denied: the owner did not approve this call in time.',
    };
  }
}
