import { useEffect, useState } from 'preact/hooks';
import { groupsApi, type GroupDetail } from '../api-groups.js';
import { describedBy, FieldError } from './field-error.js';
import { GroupMounts } from './group-mounts.js';
import { useChange } from './use-change.js';

type Change = Parameters<typeof groupsApi.changeGroup>[1];

/** One group's settings: chats, trigger, model, mounts; each change saved on its own. */
export function GroupEditor(props: { name: string; onChanged: () => void; onRemoved: () => void }) {
  const [group, setGroup] = useState<GroupDetail | null>(null);
  const [problem, setProblem] = useState('');
  useEffect(() => {
    groupsApi.group(props.name).then(setGroup, (err: Error) => setProblem(err.message));
  }, [props.name]);
  if (problem) {
    return (
      <p class="problem" role="alert">
        {problem}
      </p>
    );
  }
  if (!group) return <p class="muted">Loading…</p>;
  /** Sends a change; the page shows the group as the host now has it. */
  const apply = async (change: Change) => {
    const answer = await groupsApi.changeGroup(group.name, change);
    if (answer.group) setGroup(answer.group);
    props.onChanged();
    return answer.text;
  };
  return (
    <section aria-label={`Group ${group.name}`} class="editor">
      <h3>
        {group.name}
        {group.isAdmin && <span class="tag">admin</span>}
      </h3>
      <GroupChats group={group} apply={apply} />
      {!group.isAdmin && <GroupTrigger group={group} apply={apply} />}
      <GroupModel group={group} apply={apply} />
      <GroupMounts group={group} apply={apply} />
      <RemoveGroup group={group} apply={apply} onRemoved={props.onRemoved} />
    </section>
  );
}

export interface SectionProps {
  group: GroupDetail;
  apply: (change: Change) => Promise<string>;
}

function GroupChats({ group, apply }: SectionProps) {
  const [chat, setChat] = useState('');
  const change = useChange();
  const error = change.errorFor('chat');
  const id = `chat-error-${group.name}`;
  const bind = async (e: Event) => {
    e.preventDefault();
    const text = await change.run(() => apply({ action: 'bind', chat: chat.trim() }), 'chat');
    if (text !== undefined) {
      setChat('');
      change.setDone(text);
    }
  };
  return (
    <fieldset>
      <legend>Chats</legend>
      <ul class="chips">
        {group.chats.map((c) => (
          <li key={c}>
            <code>{c}</code>
            {!(c.startsWith('terminal:') || c === 'web:owner') && (
              <button
                type="button"
                aria-label={`Unbind ${c}`}
                disabled={change.busy}
                onClick={() => void change.run(() => apply({ action: 'unbind', chat: c }), 'chat')}
              >
                Unbind
              </button>
            )}
          </li>
        ))}
      </ul>
      <form class="row" onSubmit={(e) => void bind(e)}>
        <label>
          Bind a chat
          <input
            value={chat}
            placeholder="telegram:123456789"
            onInput={(e) => setChat(e.currentTarget.value)}
            {...describedBy(id, error)}
          />
        </label>
        <button type="submit" disabled={change.busy || chat.trim() === ''}>
          Bind
        </button>
      </form>
      <FieldError id={id} text={error} />
      {change.done && <p class="done">{change.done}</p>}
    </fieldset>
  );
}

function GroupTrigger({ group, apply }: SectionProps) {
  const [requires, setRequires] = useState(group.requiresTrigger);
  const [word, setWord] = useState(group.trigger ?? '');
  const change = useChange();
  const error = change.errorFor('trigger');
  const id = `trigger-error-${group.name}`;
  const save = async (e: Event) => {
    e.preventDefault();
    const text = await change.run(
      () => apply({ action: 'trigger', requiresTrigger: requires, trigger: word.trim() || null }),
      'trigger',
    );
    if (text !== undefined) change.setDone(text);
  };
  return (
    <fieldset>
      <legend>Trigger</legend>
      <form class="row" onSubmit={(e) => void save(e)}>
        <label class="check">
          <input
            type="checkbox"
            checked={requires}
            onChange={(e) => setRequires(e.currentTarget.checked)}
          />
          Answer only messages with the trigger
        </label>
        <label>
          Trigger word
          <input
            value={word}
            placeholder="@assistant (the default)"
            disabled={!requires}
            onInput={(e) => setWord(e.currentTarget.value)}
            {...describedBy(id, error)}
          />
        </label>
        <button type="submit" disabled={change.busy}>
          Save trigger
        </button>
      </form>
      <FieldError id={id} text={error} />
      {change.done && <p class="done">{change.done}</p>}
    </fieldset>
  );
}

function GroupModel({ group, apply }: SectionProps) {
  const [provider, current] = group.model ? group.model.split(' ', 2) : ['', ''];
  const [model, setModel] = useState(current ?? '');
  const [prov, setProv] = useState(provider || 'anthropic');
  const change = useChange();
  const error = change.errorFor('model') || change.errorFor('provider');
  const id = `model-error-${group.name}`;
  const save = async (choice: { model: string; provider?: string }) => {
    const text = await change.run(() => apply({ action: 'model', ...choice }), 'model');
    if (text !== undefined) change.setDone(text);
  };
  return (
    <fieldset>
      <legend>Model</legend>
      <p class="muted">{group.model ?? 'The configured default.'}</p>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          void save({ model: model.trim(), provider: prov });
        }}
      >
        <label>
          Provider
          <select value={prov} onChange={(e) => setProv(e.currentTarget.value)}>
            <option value="anthropic">anthropic</option>
            <option value="openai">openai</option>
          </select>
        </label>
        <label>
          Model name
          <input
            value={model}
            placeholder="claude-sonnet-4-5"
            onInput={(e) => setModel(e.currentTarget.value)}
            {...describedBy(id, error)}
          />
        </label>
        <button type="submit" disabled={change.busy || model.trim() === ''}>
          Save model
        </button>
        {group.model && (
          <button
            type="button"
            disabled={change.busy}
            onClick={() => void save({ model: 'default' })}
          >
            Use the default
          </button>
        )}
      </form>
      <FieldError id={id} text={error} />
      {change.done && <p class="done">{change.done}</p>}
    </fieldset>
  );
}

function RemoveGroup(props: SectionProps & { onRemoved: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const change = useChange();
  if (props.group.isAdmin) {
    return (
      <p class="muted">
        The admin group cannot be removed: your own chats and approvals live there.
      </p>
    );
  }
  const remove = async () => {
    const text = await change.run(() => props.apply({ action: 'remove' }), 'name');
    if (text !== undefined) props.onRemoved();
  };
  return (
    <div class="actions">
      {confirming ? (
        <button
          type="button"
          class="danger"
          onClick={() => void remove()}
          onBlur={() => setConfirming(false)}
        >
          Really remove {props.group.name}?
        </button>
      ) : (
        <button type="button" onClick={() => setConfirming(true)}>
          Remove group
        </button>
      )}
      <FieldError id={`remove-error-${props.group.name}`} text={change.errorFor('name')} />
    </div>
  );
}
