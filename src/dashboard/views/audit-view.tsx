import { useEffect, useState } from 'preact/hooks';
import { api, type AuditEntry, type AuditVerdict } from '../api.js';
import { activityApi, type AuditFilter } from '../api-activity.js';
import { AuditFilters } from './audit-filters.js';

const LIMIT = 100;

export function AuditView() {
  const [filter, setFilter] = useState<AuditFilter>({});
  const [records, setRecords] = useState<AuditEntry[] | undefined>();
  const [problem, setProblem] = useState('');
  const [verdict, setVerdict] = useState<AuditVerdict | string | null>(null);
  const load = (f: AuditFilter) => {
    setFilter(f);
    activityApi.auditSearch({ ...f, limit: LIMIT }).then(
      (found) => {
        setRecords(found);
        setProblem('');
      },
      (err: Error) => setProblem(err.message),
    );
  };
  useEffect(() => load({}), []);
  const verify = async () => {
    setVerdict('Checking…');
    try {
      setVerdict(await api.verifyAudit());
    } catch (err) {
      setVerdict(`Could not check: ${(err as Error).message}`);
    }
  };
  const filtered = Object.keys(filter).length > 0;
  return (
    <section aria-label="Audit log" class="panel">
      <div class="panel-head">
        <h2>Audit log</h2>
        <button type="button" onClick={() => load(filter)}>
          Refresh
        </button>
        <button type="button" class="primary" onClick={() => void verify()}>
          Verify chain
        </button>
      </div>
      {verdict !== null && (
        <p class={typeof verdict !== 'string' && !verdict.ok ? 'problem' : 'verdict'} role="status">
          {typeof verdict === 'string'
            ? verdict
            : verdict.ok
              ? `Chain intact: ${verdict.records} records, none altered.`
              : `Chain broken (${verdict.records} records): ${verdict.problems.join('; ')}`}
        </p>
      )}
      <AuditFilters onApply={load} />
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      <p class="muted">
        {filtered
          ? `The newest ${LIMIT} matching records, newest first: ${records?.length ?? 0} found.`
          : `The newest ${LIMIT} records, newest first.`}
      </p>
      <ol class="audit">
        {[...(records ?? [])].reverse().map((r) => (
          <li key={r.seq}>
            <span class="seq">#{r.seq}</span>
            <time dateTime={r.ts}>{new Date(r.ts).toLocaleString()}</time>
            <strong>{r.type}</strong>
            <code class="detail">{JSON.stringify(r.detail)}</code>
          </li>
        ))}
      </ol>
    </section>
  );
}
