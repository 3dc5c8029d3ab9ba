import { useEffect, useRef } from 'preact/hooks';
import type { ShownMessage } from '../chat-timeline.js';

/** One message: the owner's words as written, the assistant's as sanitised markdown. */
export function MessageItem(props: {
  message: ShownMessage;
  chatId: string;
  renderMarkdown: (text: string) => string;
  onClick: (actionId: string) => void;
}) {
  const { message } = props;
  const body = useRef<HTMLDivElement>(null);
  const html = message.direction === 'out' ? props.renderMarkdown(message.text) : null;

  useEffect(() => {
    if (!body.current) return;
    for (const pre of body.current.querySelectorAll('pre')) {
      if (pre.parentElement?.classList.contains('code')) continue;
      const box = document.createElement('div');
      box.className = 'code';
      pre.replaceWith(box);
      const copy = document.createElement('button');
      copy.type = 'button';
      copy.className = 'copy';
      copy.textContent = 'Copy';
      copy.setAttribute('aria-label', 'Copy code');
      copy.addEventListener('click', () => {
        void navigator.clipboard.writeText(pre.textContent ?? '').then(
          () => (copy.textContent = 'Copied'),
          () => (copy.textContent = 'Copy failed'),
        );
      });
      box.append(copy, pre);
    }
  }, [html]);

  const who = message.direction === 'in' ? message.senderName : 'assistant';
  return (
    <article
      class={`msg ${message.direction}${message.streaming ? ' streaming' : ''}`}
      aria-label={`Message from ${who}`}
    >
      <div class="meta">
        <span class="who">{who}</span>
        {message.createdAt && (
          <time dateTime={message.createdAt}>
            {new Date(message.createdAt).toLocaleTimeString()}
          </time>
        )}
        {message.streaming && <span class="muted">writing…</span>}
      </div>
      {html === null ? (
        <div class="text plain">{message.text}</div>
      ) : (
        <div class="text markdown" ref={body} dangerouslySetInnerHTML={{ __html: html }} />
      )}
      {(message.actions.length > 0 || message.attachments.length > 0) && (
        <div class="extras">
          {message.actions.map((a) => (
            <button key={a.id} type="button" onClick={() => props.onClick(a.id)}>
              {a.label}
            </button>
          ))}
          {message.attachments.map((f) => (
            <a key={f.id} href={f.url} target="_blank" rel="noopener noreferrer" download={f.name}>
              {f.name}
            </a>
          ))}
        </div>
      )}
    </article>
  );
}
