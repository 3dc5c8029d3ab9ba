import { useState } from 'preact/hooks';
import { api, type AuditVerdict } from '../api.js';
import { useLoaded } from './use-loaded.js';

const LIMIT = 100;

export function AuditView() {
  const { data: records, problem, reload } = useLoaded(() => api.audit(LIMIT));
  const [verdict, setVerdict] = useState<AuditVerdict | string | null>(null);
  const verify = async () => {
    setVerdict('Checking…');
    try {
      setVerdict(await api.verifyAudit());
    } catch (err) {
      setVerdict(`Could not check: ${(err as Error).message}`);
    }
  };
  return (
    <section aria-label="Audit log" class="panel">
      <div class="panel-head">
        <h2>Audit log</h2>
        <button type="button" onClick={reload}>
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
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      <p class="muted">The newest {LIMIT} records, newest first.</p>
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
