import { useEffect, useState } from 'preact/hooks';
import { activityApi, type EgressDecisionInfo } from '../api-activity.js';

const LIMIT = 200;

/** What the egress proxy allowed and refused (from the audit log), newest first. */
export function EgressView() {
  const [group, setGroup] = useState('');
  const [decision, setDecision] = useState<'' | 'allowed' | 'denied'>('');
  const [rows, setRows] = useState<EgressDecisionInfo[] | undefined>();
  const [problem, setProblem] = useState('');
  const load = () => {
    activityApi
      .egress({ group: group.trim() || undefined, decision: decision || undefined, limit: LIMIT })
      .then(
        (found) => {
          setRows(found);
          setProblem('');
        },
        (err: Error) => setProblem(err.message),
      );
  };
  useEffect(load, [decision]);
  return (
    <section aria-label="Egress" class="panel">
      <div class="panel-head">
        <h2>Egress decisions</h2>
        <button type="button" onClick={load}>
          Refresh
        </button>
      </div>
      <form
        class="filters"
        aria-label="Egress filters"
        onSubmit={(e) => {
          e.preventDefault();
          load();
        }}
      >
        <label>
          <span>Group</span>
          <input
            value={group}
            placeholder="any"
            onInput={(e) => setGroup((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          <span>Decision</span>
          <select
            value={decision}
            onChange={(e) =>
              setDecision((e.target as HTMLSelectElement).value as 'allowed' | 'denied' | '')
            }
          >
            <option value="">any</option>
            <option value="allowed">allowed</option>
            <option value="denied">refused</option>
          </select>
        </label>
        <button type="submit">Apply filters</button>
      </form>
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      {rows?.length === 0 && <p class="muted">No egress requests match.</p>}
      <div class="table-wrap">
        <table aria-label="Egress requests">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Group</th>
              <th scope="col">Request</th>
              <th scope="col">Decision</th>
              <th scope="col">Rule or reason</th>
            </tr>
          </thead>
          <tbody>
            {[...(rows ?? [])].reverse().map((r) => (
              <tr key={r.seq}>
                <td>
                  <time dateTime={r.ts}>{new Date(r.ts).toLocaleString()}</time>
                </td>
                <td>{r.group ?? <span class="muted">none</span>}</td>
                <td>
                  <code>
                    {r.method} {r.host}
                    {r.port !== null ? `:${r.port}` : ''}
                    {r.path ?? ''}
                  </code>
                </td>
                <td>
                  <span class={`tag ${r.decision === 'denied' ? 'deny' : 'allow'}`}>
                    {r.decision === 'denied' ? 'refused' : 'allowed'}
                  </span>
                </td>
                <td>
                  {r.reason}
                  {r.rule && <div class="muted">rule {r.rule}</div>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
