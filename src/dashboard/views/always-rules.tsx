import { useState } from 'preact/hooks';
import { policyApi, type AlwaysRuleInfo } from '../api-policy.js';
import { useLoaded } from './use-loaded.js';

/** The rules "Always allow for this group" wrote, each with an Undo that removes just it. */
export function AlwaysRules(props: { onChanged: () => void }) {
  const { data: rules, problem: loadProblem, reload } = useLoaded(policyApi.alwaysRules);
  const [problem, setProblem] = useState('');
  const undo = async (r: AlwaysRuleInfo) => {
    try {
      await policyApi.undoAlways(r);
      setProblem('');
      props.onChanged();
    } catch (err) {
      setProblem((err as Error).message);
    }
    reload();
  };
  return (
    <section aria-label="Always allowed" class="always">
      <h3>Always allowed from approvals</h3>
      {(loadProblem || problem) && (
        <p class="problem" role="alert">
          {loadProblem || problem}
        </p>
      )}
      {rules?.length === 0 && (
        <p class="muted">None yet: "Always allow for this group" on an approval adds one.</p>
      )}
      <ul class="cards">
        {(rules ?? []).map((r) => (
          <li key={`${r.file}:${r.line}`} class="card" aria-label={`Always allowed: ${r.rule}`}>
            <div class="card-head">
              <code>{r.rule}</code>
              <span class="muted">
                group {r.group}, {r.file}:{r.line}, approval {r.code},{' '}
                {new Date(r.addedAt).toLocaleString()}
              </span>
            </div>
            <div class="actions">
              <button type="button" onClick={() => void undo(r)} aria-label={`Undo ${r.rule}`}>
                Undo
              </button>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
