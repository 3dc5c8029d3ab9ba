import { useState } from 'preact/hooks';
import type { AuditFilter } from '../api-activity.js';
import { AUDIT_DECISIONS, AUDIT_TYPES } from '../../channels/web/dashboard-types-activity.js';

const TYPES = AUDIT_TYPES;
const DECISIONS = AUDIT_DECISIONS;

/** A `datetime-local` value (the owner's time zone) as an ISO time; '' stays unset. */
export function isoOfLocal(value: string): string | undefined {
  if (value === '') return undefined;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

/** The audit log's filters; applied on submit (the host validates them again). */
export function AuditFilters(props: { onApply: (filter: AuditFilter) => void }) {
  const [type, setType] = useState('');
  const [group, setGroup] = useState('');
  const [tool, setTool] = useState('');
  const [decision, setDecision] = useState('');
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const value = (e: Event) => (e.target as HTMLInputElement).value;
  return (
    <form
      class="filters"
      aria-label="Audit filters"
      onSubmit={(e) => {
        e.preventDefault();
        props.onApply({
          ...(type ? { type } : {}),
          ...(group.trim() ? { group: group.trim() } : {}),
          ...(tool.trim() ? { tool: tool.trim() } : {}),
          ...(decision ? { decision } : {}),
          ...(isoOfLocal(since) ? { since: isoOfLocal(since) } : {}),
          ...(isoOfLocal(until) ? { until: isoOfLocal(until) } : {}),
        });
      }}
    >
      <label>
        <span>Type</span>
        <select value={type} onChange={(e) => setType(value(e))}>
          <option value="">any</option>
          {TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>Group</span>
        <input value={group} onInput={(e) => setGroup(value(e))} placeholder="any" />
      </label>
      <label>
        <span>Tool</span>
        <input value={tool} onInput={(e) => setTool(value(e))} placeholder="any" />
      </label>
      <label>
        <span>Decision</span>
        <select value={decision} onChange={(e) => setDecision(value(e))}>
          <option value="">any</option>
          {DECISIONS.map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>From</span>
        <input type="datetime-local" value={since} onInput={(e) => setSince(value(e))} />
      </label>
      <label>
        <span>To</span>
        <input type="datetime-local" value={until} onInput={(e) => setUntil(value(e))} />
      </label>
      <button type="submit">Apply filters</button>
    </form>
  );
}
