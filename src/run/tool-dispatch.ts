import type { ToolExecutor } from '../agent/agent-loop.js';
import { fingerprint } from '../audit/canonical-json.js';
import type { CellSpec } from '../cells/cell-runtime.js';
import type { McpTools } from '../mcp/mcp-tools.js';
import type { GroupRunDeps, RunContext } from './run.js';
import { toolCall } from './tool-call.js';
import { auditLabel, TRUSTED } from '../guard/provenance.js';
import { isSinkCall } from '../guard/tool-sink.js';

/**
 * Every tool call of a run: the policy gate first, then the host or the cell runs it
 * (tool-call.ts), then one audit record, whatever happened.
 */
export function toolDispatch(
  deps: GroupRunDeps,
  ctx: RunContext,
  spec: CellSpec,
  mcp?: McpTools,
): ToolExecutor {
  const inner = toolCall(deps, ctx, spec, mcp);
  return async (name, input, signal, callId) => {
    const startedAt = Date.now();
    // Read each call: what the run took in so far (egress responses too) counts.
    const label = deps.settings.guard === false ? TRUSTED : deps.store.provenance.get(ctx.group.id);
    const gate = deps.gate
      ? await deps.gate.check(
          {
            groupName: ctx.group.name,
            isAdmin: ctx.group.isAdmin,
            taskId: ctx.taskId,
            tool: name,
            input,
            mounts: spec.mounts,
            guard: {
              label,
              sink: isSinkCall(name, input, spec.mounts) || mcp?.sendsOut(name) === true,
            },
          },
          signal,
        )
      : undefined;
    const allowed = !gate || gate.allowed;
    // Running now: a crash from here on leaves its outcome unknown (src/run/agent-turn.ts).
    if (allowed && callId !== undefined && ctx.turnKey !== undefined) {
      deps.store.turns.started(ctx.group.id, callId);
    }
    const outcome = !allowed
      ? { output: gate.output, isError: true }
      : await inner(name, input, signal, callId);
    const rule = gate?.decision.rule;
    const ruleText = rule ? `${rule.source}:${rule.line} ${rule.text}` : null;
    const durationMs = Date.now() - startedAt;
    deps.audit?.append({
      type: 'tool_call',
      group: ctx.group.name,
      ...(ctx.taskId !== undefined ? { task: String(ctx.taskId) } : {}),
      tool: name,
      inputFingerprint: fingerprint(input),
      decision: gate?.decision.effect ?? 'allow',
      rule: ruleText,
      outcome: gate && !gate.allowed ? 'not_run' : outcome.isError ? 'error' : 'ok',
      durationMs,
      label: auditLabel(label),
    });
    // For the owner's dashboard: the call as decided and run, shown live as a card.
    if (callId !== undefined) {
      deps.onEvent?.(ctx, {
        type: 'tool_step',
        id: callId,
        name,
        input,
        output: outcome.output,
        isError: outcome.isError,
        decision: gate?.decision.effect ?? 'allow',
        rule: ruleText,
        durationMs,
      });
    }
    return outcome;
  };
}
