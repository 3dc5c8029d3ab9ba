import { useEffect, useState } from 'preact/hooks';
import { groupsApi, type ActivityInfo } from '../api-groups.js';
import { formatAge, formatBytes } from '../schedule-form.js';

const REFRESH_MS = 3000;

/** Live cells and the run queue, refreshed every few seconds while the page is open. */
export function ActivityView() {
  const [activity, setActivity] = useState<ActivityInfo | null>(null);
  const [problem, setProblem] = useState('');
  const [now, setNow] = useState(new Date());
  useEffect(() => {
    let current = true;
    const load = () =>
      groupsApi.activity().then(
        (a) => {
          if (!current) return;
          setActivity(a);
          setNow(new Date());
          setProblem('');
        },
        (err: Error) => current && setProblem(err.message),
      );
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, []);
  return (
    <section aria-label="Activity" class="panel">
      <h2>Activity</h2>
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      {activity && (
        <>
          <p class="muted" aria-live="polite">
            {activity.runtime} · {activity.totals.running} running, {activity.totals.waiting}{' '}
            waiting · refreshed every {REFRESH_MS / 1000} s
          </p>
          <h3>Cells</h3>
          {activity.cells.length === 0 ? (
            <p class="muted">No cell is running.</p>
          ) : (
            <div class="table-wrap">
              <table aria-label="Live cells">
                <thead>
                  <tr>
                    <th scope="col">Group</th>
                    <th scope="col">Cell</th>
                    <th scope="col">Runtime</th>
                    <th scope="col">State</th>
                    <th scope="col">Age</th>
                    <th scope="col">Memory</th>
                  </tr>
                </thead>
                <tbody>
                  {activity.cells.map((c) => (
                    <tr key={`${c.group}-${c.role}`}>
                      <th scope="row">{c.group}</th>
                      <td>
                        <code>{c.cellId ?? '—'}</code>
                        {c.role === 'spare' && <span class="tag">spare</span>}
                      </td>
                      <td>{activity.runtime}</td>
                      <td>{c.state}</td>
                      <td>{formatAge(c.startedAt, now)}</td>
                      <td>{formatBytes(c.memoryBytes)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <h3>Queue</h3>
          {activity.queue.length === 0 ? (
            <p class="muted">Nothing is running or waiting.</p>
          ) : (
            <div class="table-wrap">
              <table aria-label="Run queue">
                <thead>
                  <tr>
                    <th scope="col">Group</th>
                    <th scope="col">Running</th>
                    <th scope="col">Waiting</th>
                  </tr>
                </thead>
                <tbody>
                  {activity.queue.map((q) => (
                    <tr key={q.group}>
                      <th scope="row">{q.group}</th>
                      <td>{q.running ? 'yes' : 'no'}</td>
                      <td>{q.waiting}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
