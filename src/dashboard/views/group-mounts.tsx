import { useState } from 'preact/hooks';
import { describedBy, FieldError } from './field-error.js';
import type { SectionProps } from './group-editor.js';
import { useChange } from './use-change.js';

/**
 * A group's extra folders. The host checks each against the owner's mount allowlist when it is
 * added; a refusal's reason (outside every allowed root, holds a secret, ...) is shown as given.
 */
export function GroupMounts({ group, apply }: SectionProps) {
  const [hostPath, setHostPath] = useState('');
  const [at, setAt] = useState('');
  const [readWrite, setReadWrite] = useState(false);
  const [untrusted, setUntrusted] = useState(false);
  const change = useChange();
  const error = change.errorFor('hostPath') || change.errorFor('at');
  const id = `mount-error-${group.name}`;
  const add = async (e: Event) => {
    e.preventDefault();
    const text = await change.run(
      () =>
        apply({
          action: 'mount',
          hostPath: hostPath.trim(),
          readOnly: !readWrite,
          ...(at.trim() ? { at: at.trim() } : {}),
          ...(untrusted ? { untrusted: true } : {}),
        }),
      'hostPath',
    );
    if (text !== undefined) {
      setHostPath('');
      setAt('');
      change.setDone(text);
    }
  };
  return (
    <fieldset>
      <legend>Mounts</legend>
      {group.mounts.length === 0 && <p class="muted">No extra folders.</p>}
      <ul class="chips">
        {group.mounts.map((m) => (
          <li key={m.hostPath}>
            <code>{m.hostPath}</code>
            <span class="muted">
              {m.containerPath ?? 'under /workspace/extra'} ·{' '}
              {m.readOnly ? 'read-only' : 'read-write'}
              {m.untrusted ? ' · untrusted' : ''}
            </span>
            <button
              type="button"
              aria-label={`Remove mount ${m.hostPath}`}
              disabled={change.busy}
              onClick={() =>
                void change.run(
                  () => apply({ action: 'unmount', hostPath: m.hostPath }),
                  'hostPath',
                )
              }
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
      <form class="row" onSubmit={(e) => void add(e)}>
        <label>
          Host folder
          <input
            value={hostPath}
            placeholder="~/projects/site"
            onInput={(e) => setHostPath(e.currentTarget.value)}
            {...describedBy(id, error)}
          />
        </label>
        <label>
          Name in the cell
          <input value={at} placeholder="site" onInput={(e) => setAt(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={readWrite}
            onChange={(e) => setReadWrite(e.currentTarget.checked)}
          />
          Read-write
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={untrusted}
            onChange={(e) => setUntrusted(e.currentTarget.checked)}
          />
          Untrusted content
        </label>
        <button type="submit" disabled={change.busy || hostPath.trim() === ''}>
          Add mount
        </button>
      </form>
      <FieldError id={id} text={error} />
      {change.done && <p class="done">{change.done}</p>}
    </fieldset>
  );
}
