import { useState } from 'preact/hooks';
import { api, type PendingApprovalInfo } from '../api.js';
import { policyApi } from '../api-policy.js';

/**
 * Tool calls waiting for the owner. A button posts `yes CODE` / `no CODE` in the owner's
 * chat, exactly what the owner would type there, so an answer counts the same from anywhere.
 */
export function ApprovalsView(props: {
  approvals: PendingApprovalInfo[];
  ownerChat: string;
  onAnswered: () => void;
}) {
  const [problem, setProblem] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [written, setWritten] = useState('');
  /** The exact allow first (from the stored approval, on the host); approved only if written. */
  const always = async (code: string) => {
    setBusy(code);
    try {
      const added = await policyApi.always(code);
      setWritten(`Wrote ${added.rule} to ${added.file} (undo it in Policy).`);
    } catch (err) {
      setWritten('');
      setProblem((err as Error).message);
      setBusy(null);
      return;
    }
    await answer(code, true);
  };
  const answer = async (code: string, yes: boolean) => {
    setBusy(code);
    try {
      const receipt = await api.send(props.ownerChat, `${yes ? 'yes' : 'no'} ${code}`);
      setProblem(
        receipt.stored
          ? ''
          : `Not answered: the web chat "${props.ownerChat}" is not the admin group's; bind it with nanocell groups bind main --chat web:owner, or answer in your terminal`,
      );
    } catch (err) {
      setProblem(`Not answered: ${(err as Error).message}`);
    } finally {
      setBusy(null);
      props.onAnswered();
    }
  };
  return (
    <section aria-label="Approvals" class="panel">
      <h2>Approvals</h2>
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      {written && (
        <p class="verdict" role="status">
          {written}
        </p>
      )}
      {props.approvals.length === 0 && <p class="muted">Nothing is waiting for you.</p>}
      <ul class="cards">
        {props.approvals.map((a) => (
          <li key={a.code} class="card" aria-label={`Approval ${a.code}`}>
            <div class="card-head">
              <strong>{a.tool}</strong>
              <span class="muted">group {a.group}</span>
              <span class="muted">
                asked {new Date(a.createdAt).toLocaleTimeString()}, expires{' '}
                {new Date(a.expiresAt).toLocaleTimeString()}
              </span>
            </div>
            <pre class="input" aria-label="Exact input">
              {JSON.stringify(a.input, null, 2)}
            </pre>
            <div class="actions">
              <button
                type="button"
                class="primary"
                disabled={busy === a.code}
                onClick={() => void answer(a.code, true)}
              >
                Approve
              </button>
              <button type="button" disabled={busy === a.code} onClick={() => void always(a.code)}>
                Always allow for this group
              </button>
              <button
                type="button"
                disabled={busy === a.code}
                onClick={() => void answer(a.code, false)}
              >
                Deny
              </button>
              <span class="muted">code {a.code}</span>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
