import type Anthropic from '@anthropic-ai/sdk';
import type { ContentBlock, ConversationMessage, ModelRequest } from './model-provider.js';

const EPHEMERAL = { type: 'ephemeral' } as const;

/** What a request's prompt becomes in the Messages API, with or without cache breakpoints. */
export interface AnthropicPrompt {
  system: Anthropic.TextBlockParam[];
  tools: Anthropic.Tool[];
  messages: Anthropic.MessageParam[];
}

/**
 * The prompt of one request. With `cache`, four cache breakpoints (the API's most), in its
 * prefix order tools → system → messages: the last tool, the system prompt, the user turn
 * before the newest one (what the previous request wrote, so this one reads it) and the
 * newest message (what the next request reads). The turn's context (the time) is put after
 * the last breakpoint, in the newest message only, so it never changes a cached prefix.
 */
export function anthropicPrompt(request: ModelRequest, cache: boolean): AnthropicPrompt {
  const mark = <T extends object>(block: T): T =>
    cache ? { ...block, cache_control: EPHEMERAL } : block;
  const tools = request.tools.map(
    (t, i) => (i === request.tools.length - 1 ? mark(t) : t) as Anthropic.Tool,
  );
  const system = request.system ? [mark({ type: 'text' as const, text: request.system })] : [];
  const marked = cache ? breakpoints(request.messages) : new Set<number>();
  const messages = request.messages.map((m, i) => {
    const content = marked.has(i) ? markLast(m.content) : m.content;
    const context =
      i === request.messages.length - 1 && request.context
        ? [{ type: 'text' as const, text: request.context }]
        : [];
    return { role: m.role, content: [...content, ...context] } as Anthropic.MessageParam;
  });
  return { system, tools, messages };
}

/** The newest message and the user turn before it (a user message that is not the newest). */
function breakpoints(messages: ConversationMessage[]): Set<number> {
  const out = new Set<number>();
  const last = messages.length - 1;
  if (last < 0) return out;
  out.add(last);
  for (let i = last - 1; i >= 0; i--) {
    if (messages[i]!.role === 'user') {
      out.add(i);
      break;
    }
  }
  return out;
}

/** The last block that may carry a breakpoint (the API refuses one on an empty text block). */
function markLast(content: ContentBlock[]): Anthropic.ContentBlockParam[] {
  for (let i = content.length - 1; i >= 0; i--) {
    const block = content[i]!;
    if (block.type === 'text' && block.text === '') continue;
    const copy: object[] = [...content];
    copy[i] = { ...block, cache_control: EPHEMERAL };
    return copy as Anthropic.ContentBlockParam[];
  }
  return content as Anthropic.ContentBlockParam[];
}
