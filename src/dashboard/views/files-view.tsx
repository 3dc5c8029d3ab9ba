import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { groupsApi, type GroupFolderView, type RunChangesInfo } from '../api-groups.js';
import { formatBytes } from '../schedule-form.js';
import { useLoaded } from './use-loaded.js';

/** A group's folder, read-only, and what its last run changed there. */
export function FilesView() {
  const { data: groups, problem: groupsProblem } = useLoaded(api.groups);
  const [group, setGroup] = useState('');
  const shown = group || groups?.find((g) => g.isAdmin)?.name || groups?.[0]?.name || '';
  return (
    <section aria-label="Files" class="panel">
      <h2>Files</h2>
      {groupsProblem && (
        <p class="problem" role="alert">
          {groupsProblem}
        </p>
      )}
      <label class="picker">
        Group{' '}
        <select value={shown} onChange={(e) => setGroup(e.currentTarget.value)}>
          {(groups ?? []).map((g) => (
            <option key={g.name} value={g.name}>
              {g.name}
            </option>
          ))}
        </select>
      </label>
      {shown && <FolderBrowser key={shown} group={shown} />}
      {shown && <LastRunChanges key={`changes-${shown}`} group={shown} />}
    </section>
  );
}

function FolderBrowser({ group }: { group: string }) {
  const [path, setPath] = useState('');
  const [view, setView] = useState<GroupFolderView | null>(null);
  const [problem, setProblem] = useState('');
  useEffect(() => {
    groupsApi.files(group, path).then(
      (v) => {
        setView(v);
        setProblem('');
      },
      (err: Error) => setProblem(err.message),
    );
  }, [group, path]);
  const parts = path ? path.split('/') : [];
  const into = (name: string) => setPath(path ? `${path}/${name}` : name);
  return (
    <div class="editor" aria-label="Group folder" role="region">
      <nav aria-label="Folder path" class="crumbs">
        <button type="button" onClick={() => setPath('')}>
          {group}
        </button>
        {parts.map((p, i) => (
          <span key={i}>
            {' / '}
            <button type="button" onClick={() => setPath(parts.slice(0, i + 1).join('/'))}>
              {p}
            </button>
          </span>
        ))}
      </nav>
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      {view?.kind === 'dir' && (
        <>
          {view.entries.length === 0 && <p class="muted">This folder is empty.</p>}
          <ul class="chips">
            {view.entries.map((e) => (
              <li key={e.name}>
                {e.kind === 'dir' || e.kind === 'file' ? (
                  <button
                    type="button"
                    class="link"
                    aria-label={`Open ${e.kind === 'dir' ? 'folder' : 'file'} ${e.name}`}
                    onClick={() => into(e.name)}
                  >
                    {e.kind === 'dir' ? `${e.name}/` : e.name}
                  </button>
                ) : (
                  <span>{e.name}</span>
                )}
                <span class="muted">
                  {e.kind === 'file' && e.size !== null
                    ? formatBytes(e.size)
                    : e.kind === 'link'
                      ? 'symbolic link (not followed)'
                      : e.kind === 'other'
                        ? 'not a regular file'
                        : ''}
                </span>
              </li>
            ))}
          </ul>
          {view.truncated && <p class="muted">Only the first entries are listed.</p>}
        </>
      )}
      {view?.kind === 'file' && (
        <>
          <p class="muted">
            {formatBytes(view.size)}
            {view.truncated ? ' · only the start is shown' : ''}
          </p>
          {view.text !== null ? (
            <pre class="file" aria-label={`Contents of ${view.path}`}>
              {view.text}
            </pre>
          ) : (
            <p class="muted">{view.note}</p>
          )}
        </>
      )}
    </div>
  );
}

const CHANGE_WORD = { added: 'added', removed: 'removed', modified: 'modified' } as const;

function LastRunChanges({ group }: { group: string }) {
  const [info, setInfo] = useState<RunChangesInfo | null>(null);
  const [problem, setProblem] = useState('');
  const load = () =>
    groupsApi.changes(group).then(
      (c) => {
        setInfo(c);
        setProblem('');
      },
      (err: Error) => setProblem(err.message),
    );
  useEffect(() => void load(), [group]);
  const run = info?.lastRun;
  return (
    <div class="editor" role="region" aria-label="Last run's changes">
      <div class="panel-head">
        <h3>What the last run changed</h3>
        <button type="button" onClick={() => void load()}>
          Refresh changes
        </button>
      </div>
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      {info && !run && <p class="muted">No run of {group} has finished since the host started.</p>}
      {run && (
        <>
          <p class="muted">
            Run of {new Date(run.startedAt).toLocaleString()} ·{' '}
            {run.changes.length === 0 ? 'no file changed' : `${run.changes.length} file(s)`}
            {run.truncated ? ' · the folder is large: some changes may be missing' : ''}
          </p>
          <ul class="cards">
            {run.changes.map((c) => (
              <li key={c.path} class="card" aria-label={`${CHANGE_WORD[c.change]} ${c.path}`}>
                <details open={run.changes.length <= 5}>
                  <summary>
                    <span class={`tag ${c.change}`}>{c.change}</span> <code>{c.path}</code>
                  </summary>
                  {c.diff !== null ? <Diff text={c.diff} /> : <p class="muted">{c.note}</p>}
                </details>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function Diff({ text }: { text: string }) {
  return (
    <pre class="diff">
      {text.split('\n').map((line, i) => (
        <span
          key={i}
          class={
            line.startsWith('@@')
              ? 'hunk'
              : line.startsWith('+') && !line.startsWith('+++')
                ? 'add'
                : line.startsWith('-') && !line.startsWith('---')
                  ? 'del'
                  : undefined
          }
        >
          {line}
          {'\n'}
        </span>
      ))}
    </pre>
  );
}
