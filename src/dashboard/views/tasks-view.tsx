import { useState } from 'preact/hooks';
import { api, type TaskAction, type TaskInfo } from '../api.js';
import { groupsApi } from '../api-groups.js';
import { formatDuration } from '../schedule-form.js';
import { TaskForm } from './task-form.js';
import { useLoaded } from './use-loaded.js';

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—');

export function TasksView() {
  const { data: tasks, problem, reload } = useLoaded(api.tasks);
  const { data: groups } = useLoaded(api.groups);
  const [failure, setFailure] = useState('');
  const [confirming, setConfirming] = useState<number | null>(null);
  const act = async (task: TaskInfo, action: TaskAction) => {
    try {
      await api.changeTask(task.id, action);
      setFailure('');
    } catch (err) {
      setFailure(`Task #${task.id} not changed: ${(err as Error).message}`);
    }
    reload();
  };
  const runNow = async (task: TaskInfo) => {
    try {
      await groupsApi.runTaskNow(task.id);
      setFailure('');
    } catch (err) {
      setFailure(`Task #${task.id} not run: ${(err as Error).message}`);
    }
    reload();
  };
  const open = (tasks ?? []).filter((t) => t.status === 'active' || t.status === 'paused');
  return (
    <section aria-label="Tasks" class="panel">
      <h2>Tasks</h2>
      {(problem || failure) && (
        <p class="problem" role="alert">
          {failure || problem}
        </p>
      )}
      <TaskForm groups={(groups ?? []).map((g) => g.name)} onCreated={reload} />
      <div class="panel-head">
        <h3>Scheduled</h3>
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </div>
      {tasks && open.length === 0 && <p class="muted">No scheduled tasks.</p>}
      <ul class="cards">
        {open.map((t) => (
          <li key={t.id} class="card" aria-label={`Task #${t.id}`}>
            <div class="card-head">
              <strong>#{t.id}</strong>
              <span class="muted">group {t.group}</span>
              <span class={`tag ${t.status}`}>{t.status}</span>
            </div>
            <p class="prompt">{t.prompt}</p>
            <p class="muted">
              {t.schedule} · next run {when(t.nextRunAt)} · last run {when(t.lastRunAt)}
            </p>
            {t.runs.length > 0 && (
              <details class="runs">
                <summary>Last runs</summary>
                <ul>
                  {t.runs.map((r) => (
                    <li key={r.startedAt}>
                      <span class={`tag ${r.status}`}>{r.status}</span> {when(r.startedAt)}
                      {` · ${formatDuration(r.startedAt, r.finishedAt)}`}
                      {r.summary && <span class="muted"> · {r.summary}</span>}
                    </li>
                  ))}
                </ul>
              </details>
            )}
            <div class="actions">
              {t.status === 'active' && (
                <button
                  type="button"
                  aria-label={`Run task #${t.id} now`}
                  onClick={() => void runNow(t)}
                >
                  Run now
                </button>
              )}
              {t.status === 'active' ? (
                <button
                  type="button"
                  aria-label={`Pause task #${t.id}`}
                  onClick={() => void act(t, 'pause')}
                >
                  Pause
                </button>
              ) : (
                <button
                  type="button"
                  aria-label={`Resume task #${t.id}`}
                  onClick={() => void act(t, 'resume')}
                >
                  Resume
                </button>
              )}
              {/* Cancelling cannot be undone: it takes a second click. */}
              {confirming === t.id ? (
                <button
                  type="button"
                  class="danger"
                  aria-label={`Really cancel task #${t.id}`}
                  onClick={() => void act(t, 'cancel')}
                  onBlur={() => setConfirming(null)}
                >
                  Really cancel?
                </button>
              ) : (
                <button
                  type="button"
                  aria-label={`Cancel task #${t.id}`}
                  onClick={() => setConfirming(t.id)}
                >
                  Cancel
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
