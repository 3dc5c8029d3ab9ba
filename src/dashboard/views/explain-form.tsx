import { useState } from 'preact/hooks';
import { parseToolInput, policyApi, type PolicyExplainResult } from '../api-policy.js';

/** "Which rule decides this call?": `nanocell policy explain`, from the page. */
export function ExplainForm(props: { groups: string[] }) {
  const [group, setGroup] = useState(props.groups[0] ?? '');
  const [tool, setTool] = useState('bash');
  const [input, setInput] = useState('{"command": "ls"}');
  const [untrusted, setUntrusted] = useState(false);
  const [result, setResult] = useState<PolicyExplainResult | null>(null);
  const [problem, setProblem] = useState('');
  const value = (e: Event) => (e.target as HTMLInputElement).value;
  const explain = async () => {
    const parsed = parseToolInput(input);
    if (!parsed.ok) {
      setResult(null);
      setProblem(parsed.reason);
      return;
    }
    try {
      setResult(await policyApi.explain({ group, tool, input: parsed.input, untrusted }));
      setProblem('');
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  return (
    <form
      class="explain"
      aria-label="Explain a tool call"
      onSubmit={(e) => {
        e.preventDefault();
        void explain();
      }}
    >
      <h3>Explain a tool call</h3>
      <div class="filters">
        <label>
          <span>Group</span>
          <input list="policy-groups" value={group} onInput={(e) => setGroup(value(e))} />
          <datalist id="policy-groups">
            {props.groups.map((g) => (
              <option key={g} value={g} />
            ))}
          </datalist>
        </label>
        <label>
          <span>Tool</span>
          <input value={tool} onInput={(e) => setTool(value(e))} />
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={untrusted}
            onChange={(e) => setUntrusted((e.target as HTMLInputElement).checked)}
          />
          <span>as in a run that read someone else's words</span>
        </label>
      </div>
      <label class="block">
        <span>Input (JSON)</span>
        <textarea rows={3} value={input} onInput={(e) => setInput(value(e))} />
      </label>
      <button type="submit" class="primary">
        Explain
      </button>
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      {result && (
        <output class="explained" aria-label="Explanation">
          {result.decision && <strong class={`tag ${result.decision}`}>{result.decision}</strong>}
          <pre>{result.lines.join('\n')}</pre>
        </output>
      )}
    </form>
  );
}
