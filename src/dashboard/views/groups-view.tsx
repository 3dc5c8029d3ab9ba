import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { GroupEditor } from './group-editor.js';
import { NewGroupForm } from './group-new.js';
import { useLoaded } from './use-loaded.js';

export function GroupsView() {
  const { data: groups, problem, reload } = useLoaded(api.groups);
  const [open, setOpen] = useState<string | null>(null);
  const { data: host, problem: hostProblem } = useLoaded(api.status);
  return (
    <section aria-label="Groups" class="panel">
      <h2>Host</h2>
      {host && (
        <dl class="facts" aria-label="Host">
          <div>
            <dt>Cells</dt>
            <dd>
              {host.runtime}, {host.liveCells} live
            </dd>
          </div>
          <div>
            <dt>Runs</dt>
            <dd>
              {host.queue.running} running, {host.queue.waiting} waiting
            </dd>
          </div>
          <div>
            <dt>Outbox</dt>
            <dd>{host.outboxPending} to deliver</dd>
          </div>
          <div>
            <dt>Process</dt>
            <dd>pid {host.pid}</dd>
          </div>
        </dl>
      )}
      <h2>Groups</h2>
      {(problem || hostProblem) && (
        <p class="problem" role="alert">
          {problem || hostProblem}
        </p>
      )}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col">Chats</th>
              <th scope="col">Trigger</th>
              <th scope="col">Model</th>
              <th scope="col">
                <span class="visually-hidden">Settings</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(groups ?? []).map((g) => (
              <tr key={g.name}>
                <th scope="row">
                  {g.name}
                  {g.isAdmin && <span class="tag">admin</span>}
                </th>
                <td>{g.chats.length ? g.chats.join(', ') : <span class="muted">none</span>}</td>
                <td>{g.trigger ?? <span class="muted">answers every message</span>}</td>
                <td>{g.model ?? <span class="muted">configured default</span>}</td>
                <td>
                  <button
                    type="button"
                    aria-label={`Manage group ${g.name}`}
                    aria-expanded={open === g.name}
                    onClick={() => setOpen(open === g.name ? null : g.name)}
                  >
                    {open === g.name ? 'Close' : 'Manage'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {open && (
        <GroupEditor
          key={open}
          name={open}
          onChanged={reload}
          onRemoved={() => {
            setOpen(null);
            reload();
          }}
        />
      )}
      <NewGroupForm
        onCreated={(name) => {
          reload();
          setOpen(name);
        }}
      />
    </section>
  );
}
