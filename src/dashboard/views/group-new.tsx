import { useState } from 'preact/hooks';
import { groupsApi } from '../api-groups.js';
import { describedBy, FieldError } from './field-error.js';
import { useChange } from './use-change.js';

/** A new group: its name, a first chat (optional), and whether it needs the trigger. */
export function NewGroupForm(props: { onCreated: (name: string) => void }) {
  const [name, setName] = useState('');
  const [chat, setChat] = useState('');
  const [noTrigger, setNoTrigger] = useState(false);
  const change = useChange();
  const create = async (e: Event) => {
    e.preventDefault();
    const created = await change.run(
      () =>
        groupsApi.createGroup({
          name: name.trim(),
          ...(chat.trim() ? { chat: chat.trim() } : {}),
          ...(noTrigger ? { noTrigger: true } : {}),
        }),
      'name',
    );
    if (created) {
      setName('');
      setChat('');
      props.onCreated(created.group.name);
    }
  };
  const nameError = change.errorFor('name');
  const chatError = change.errorFor('chat');
  return (
    <form class="editor" aria-label="New group" onSubmit={(e) => void create(e)}>
      <h3>New group</h3>
      <div class="row">
        <label>
          Name
          <input
            value={name}
            placeholder="family"
            onInput={(e) => setName(e.currentTarget.value)}
            {...describedBy('new-group-name-error', nameError)}
          />
        </label>
        <label>
          First chat
          <input
            value={chat}
            placeholder="telegram:123456789 (optional)"
            onInput={(e) => setChat(e.currentTarget.value)}
            {...describedBy('new-group-chat-error', chatError)}
          />
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={noTrigger}
            onChange={(e) => setNoTrigger(e.currentTarget.checked)}
          />
          Answer every message (no trigger)
        </label>
        <button type="submit" disabled={change.busy || name.trim() === ''}>
          Create group
        </button>
      </div>
      <FieldError id="new-group-name-error" text={nameError} />
      <FieldError id="new-group-chat-error" text={chatError} />
    </form>
  );
}
