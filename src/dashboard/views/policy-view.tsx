import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { policyApi, type PolicyCheckResult, type PolicyFileInfo } from '../api-policy.js';
import { AlwaysRules } from './always-rules.js';
import { ExplainForm } from './explain-form.js';
import { useLoaded } from './use-loaded.js';

/** Checked this long after the last key, not on every key. */
const CHECK_AFTER_MS = 300;

/** The owner's policy files: pick one, edit it with live `policy check`, save, explain. */
export function PolicyView() {
  const { data: files, problem: listProblem, reload } = useLoaded(policyApi.files);
  const { data: groups } = useLoaded(api.groups);
  const [file, setFile] = useState<string | null>(null);
  /** Bumped when a file changes under the editor (an Undo), so it reads the file again. */
  const [version, setVersion] = useState(0);
  return (
    <section aria-label="Policy" class="panel">
      <div class="panel-head">
        <h2>Policy</h2>
      </div>
      {listProblem && (
        <p class="problem" role="alert">
          {listProblem}
        </p>
      )}
      <div class="policy">
        <nav aria-label="Policy files" class="policy-files">
          <ul>
            {(files ?? []).map((f: PolicyFileInfo) => (
              <li key={f.file}>
                <button
                  type="button"
                  aria-pressed={file === f.file}
                  onClick={() => setFile(f.file)}
                >
                  <code>{f.file}</code>
                  <span class="muted">
                    {f.scope}
                    {f.exists ? '' : ' · none yet'}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </nav>
        {file ? (
          <PolicyEditor key={`${file}#${version}`} file={file} onSaved={reload} />
        ) : (
          <p class="muted">Pick a file to view or edit it.</p>
        )}
      </div>
      <AlwaysRules
        key={version}
        onChanged={() => {
          setVersion((v) => v + 1);
          reload();
        }}
      />
      <ExplainForm groups={(groups ?? []).map((g) => g.name)} />
    </section>
  );
}

function PolicyEditor(props: { file: string; onSaved: () => void }) {
  const [text, setText] = useState<string | null>(null);
  const [saved, setSaved] = useState('');
  const [check, setCheck] = useState<PolicyCheckResult | null>(null);
  const [problem, setProblem] = useState('');
  const [status, setStatus] = useState('');
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const asked = useRef(0);

  useEffect(() => {
    policyApi.read(props.file).then(
      (read) => {
        setText(read.text);
        setSaved(read.text);
      },
      (err: Error) => setProblem(err.message),
    );
    return () => clearTimeout(timer.current);
  }, []);
  useEffect(() => {
    if (text === null) return;
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      const n = ++asked.current;
      policyApi.check(props.file, text).then(
        (result) => {
          if (n === asked.current) setCheck(result);
        },
        (err: Error) => setProblem(err.message),
      );
    }, CHECK_AFTER_MS);
  }, [text]);

  const save = async () => {
    if (text === null) return;
    try {
      const result = await policyApi.save(props.file, text);
      setSaved(text);
      setCheck(result);
      setProblem('');
      setStatus(`Saved ${props.file}: ${result.rules} rule(s), in force from the next call.`);
      props.onSaved();
    } catch (err) {
      setStatus('');
      setProblem((err as Error).message);
    }
  };
  if (text === null) return <p class="muted">{problem || 'Loading…'}</p>;
  const errors = check?.errors ?? [];
  const current = check !== null && asked.current > 0;
  return (
    <div class="policy-editor">
      <label class="block">
        <span>
          <code>{props.file}</code>
        </span>
        <textarea
          rows={14}
          spellcheck={false}
          value={text}
          aria-invalid={errors.length > 0}
          onInput={(e) => {
            setText((e.target as HTMLTextAreaElement).value);
            setStatus('');
          }}
        />
      </label>
      <div role="status" class="policy-check" aria-label="Policy check">
        {!current
          ? 'Checking…'
          : errors.length === 0
            ? `No errors · ${check.rules} rule(s)`
            : `${errors.length} error(s): not saved until fixed`}
      </div>
      {(errors.length > 0 || (check?.warnings.length ?? 0) > 0) && (
        <ul class="problems" aria-label="Problems">
          {errors.map((e) => (
            <li key={`e${e.line}${e.message}`} class="problem">
              line {e.line}: {e.message}
            </li>
          ))}
          {check?.warnings.map((w) => (
            <li key={`w${w.line}${w.message}`} class="muted">
              line {w.line}: warning: {w.message}
            </li>
          ))}
        </ul>
      )}
      <div class="actions">
        <button
          type="button"
          class="primary"
          disabled={errors.length > 0 || text === saved}
          onClick={() => void save()}
        >
          Save
        </button>
        <button type="button" disabled={text === saved} onClick={() => setText(saved)}>
          Discard changes
        </button>
        {status && <span class="verdict">{status}</span>}
      </div>
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}
