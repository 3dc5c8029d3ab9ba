import { useEffect, useState } from 'preact/hooks';
import { groupsApi, type SchedulePreview } from '../api-groups.js';
import { EMPTY_SCHEDULE, inZone, scheduleOf, type ScheduleForm } from '../schedule-form.js';
import { describedBy, FieldError } from './field-error.js';
import { useChange } from './use-change.js';

const PREVIEW_DELAY_MS = 250;

/**
 * A new task: group, prompt, schedule. The schedule is checked by the host as it is typed
 * (the schedule_task tool's own messages), with its next three runs in the owner's time zone.
 */
export function TaskForm(props: { groups: string[]; onCreated: () => void }) {
  const [group, setGroup] = useState('');
  const [prompt, setPrompt] = useState('');
  const [form, setForm] = useState<ScheduleForm>(EMPTY_SCHEDULE);
  const [preview, setPreview] = useState<SchedulePreview | null>(null);
  const change = useChange();
  const shownGroup = group || props.groups[0] || '';
  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      groupsApi.previewSchedule(scheduleOf(form)).then(
        (p) => current && setPreview(p),
        (err: Error) => current && setPreview({ ok: false, error: err.message }),
      );
    }, PREVIEW_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [form]);
  const set = (patch: Partial<ScheduleForm>) => setForm({ ...form, ...patch });
  const create = async (e: Event) => {
    e.preventDefault();
    const created = await change.run(
      () => groupsApi.createTask({ group: shownGroup, prompt, schedule: scheduleOf(form) }),
      'schedule',
    );
    if (created) {
      setPrompt('');
      change.setDone(`Task #${created.id} scheduled.`);
      props.onCreated();
    }
  };
  const scheduleError =
    change.errorFor('schedule') || (preview && !preview.ok ? preview.error : '');
  return (
    <form class="editor" aria-label="New task" onSubmit={(e) => void create(e)}>
      <h3>New task</h3>
      <div class="row">
        <label>
          Group
          <select value={shownGroup} onChange={(e) => setGroup(e.currentTarget.value)}>
            {props.groups.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        </label>
        <label>
          When
          <select
            value={form.kind}
            onChange={(e) => set({ kind: e.currentTarget.value as ScheduleForm['kind'] })}
          >
            <option value="cron">On a cron schedule</option>
            <option value="interval">Every few minutes</option>
            <option value="once">Once</option>
          </select>
        </label>
        {form.kind === 'cron' && (
          <label>
            Cron expression
            <input
              value={form.expr}
              onInput={(e) => set({ expr: e.currentTarget.value })}
              {...describedBy('schedule-error', scheduleError)}
            />
          </label>
        )}
        {form.kind === 'interval' && (
          <label>
            Every (minutes)
            <input
              inputMode="numeric"
              value={form.everyMinutes}
              onInput={(e) => set({ everyMinutes: e.currentTarget.value })}
              {...describedBy('schedule-error', scheduleError)}
            />
          </label>
        )}
        {form.kind === 'once' && (
          <label>
            At
            <input
              type="datetime-local"
              value={form.at}
              onInput={(e) => set({ at: e.currentTarget.value })}
              {...describedBy('schedule-error', scheduleError)}
            />
          </label>
        )}
        {form.kind !== 'interval' && (
          <label>
            Time zone
            <input
              value={form.timezone}
              placeholder={preview?.ok ? preview.timezone : 'yours'}
              onInput={(e) => set({ timezone: e.currentTarget.value })}
            />
          </label>
        )}
      </div>
      <FieldError id="schedule-error" text={scheduleError} />
      {preview?.ok && (
        <div class="preview" aria-label="Next runs">
          <span class="muted">
            {preview.description} · next runs ({preview.timezone}):
          </span>
          <ol>
            {preview.nextRuns.map((r) => (
              <li key={r}>{inZone(r, preview.timezone)}</li>
            ))}
          </ol>
        </div>
      )}
      <label class="block">
        What to do
        <textarea
          rows={3}
          value={prompt}
          onInput={(e) => setPrompt(e.currentTarget.value)}
          {...describedBy('prompt-error', change.errorFor('prompt'))}
        />
      </label>
      <FieldError id="prompt-error" text={change.errorFor('prompt')} />
      <FieldError id="task-group-error" text={change.errorFor('group')} />
      <div class="actions">
        <button type="submit" disabled={change.busy || prompt.trim() === '' || !shownGroup}>
          Schedule task
        </button>
        {change.done && <span class="done">{change.done}</span>}
      </div>
    </form>
  );
}
