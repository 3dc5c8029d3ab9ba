import type { ToolStepInfo } from '../api-activity.js';

const DECISION_LABEL = { allow: 'allowed', deny: 'denied', ask: 'asked the owner' } as const;

function duration(ms: number | null): string {
  if (ms === null) return '';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** One tool call of a run: closed it says what ran and how it went; open, all of it. */
export function ToolCard({ step }: { step: ToolStepInfo }) {
  const decision = step.decision ? DECISION_LABEL[step.decision] : 'decision not in the log';
  const status = step.decision === 'deny' ? 'not run' : step.isError ? 'failed' : 'ok';
  return (
    <details class={`tool-card ${step.isError ? 'error' : ''}`}>
      <summary aria-label={`Tool call ${step.tool}: ${decision}, ${status}`}>
        <span class="tool-name">⚙ {step.tool}</span>
        <span class={`tag ${step.decision ?? ''}`}>{decision}</span>
        <span class={`tag ${step.isError ? 'error' : ''}`}>{status}</span>
        <span class="muted">{duration(step.durationMs)}</span>
      </summary>
      <dl class="tool-detail">
        <dt>Input</dt>
        <dd>
          <pre aria-label="Tool input">{JSON.stringify(step.input, null, 2)}</pre>
        </dd>
        <dt>Output</dt>
        <dd>
          <pre aria-label="Tool output">{step.output === '' ? '(nothing)' : step.output}</pre>
          {step.outputCut && <p class="muted">Output cut here at 4000 characters.</p>}
        </dd>
        <dt>Decision</dt>
        <dd>
          {decision}
          {step.rule ? ` by ${step.rule}` : step.decision ? ' by the default for this tool' : ''}
        </dd>
      </dl>
    </details>
  );
}
