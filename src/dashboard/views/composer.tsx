import { useState } from 'preact/hooks';

/**
 * The message box: Enter sends, Shift-Enter breaks the line. A message the host did not take
 * stays in the box, with the host's reason under it.
 */
export function Composer({ onSend }: { onSend: (text: string) => Promise<string | null> }) {
  const [text, setText] = useState('');
  const [failure, setFailure] = useState('');
  const [sending, setSending] = useState(false);

  const submit = async () => {
    const message = text.trim();
    if (!message || sending) return;
    setSending(true);
    const problem = await onSend(message);
    setSending(false);
    if (problem) {
      setFailure(`Not sent: ${problem}`);
      return;
    }
    setFailure('');
    setText('');
  };

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <textarea
        aria-label="Message"
        placeholder="Message (Enter sends, Shift-Enter for a new line)"
        rows={2}
        value={text}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            void submit();
          }
        }}
      />
      <button type="submit" disabled={sending}>
        Send
      </button>
      {failure && (
        <p class="problem send-failure" role="alert">
          {failure}
        </p>
      )}
    </form>
  );
}
