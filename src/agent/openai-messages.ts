import type OpenAI from 'openai';
import {
  ModelError,
  type ContentBlock,
  type ModelRequest,
  type ModelResponse,
  type ModelUsage,
} from './model-provider.js';

type ChatMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;
type ChatTool = OpenAI.Chat.Completions.ChatCompletionTool;
type ChunkToolCall = OpenAI.Chat.Completions.ChatCompletionChunk.Choice.Delta.ToolCall;

/**
 * Our conversation in Chat Completions form: the system prompt first; an assistant turn's
 * tool_use blocks become its `tool_calls`; each tool_result becomes a `tool` message, placed
 * before any text of the same user turn (the API wants them right after the call); a user
 * turn's images become `image_url` parts (data URLs) of its user message.
 */
export function toChatMessages(request: ModelRequest): ChatMessage[] {
  const system = request.context ? `${request.system}\n\n${request.context}` : request.system;
  const out: ChatMessage[] = [{ role: 'system', content: system }];
  for (const message of request.messages) {
    const text = message.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('\n\n');
    if (message.role === 'assistant') {
      const calls = message.content.flatMap((b) =>
        b.type === 'tool_use'
          ? [
              {
                id: b.id,
                type: 'function' as const,
                function: { name: b.name, arguments: JSON.stringify(b.input) },
              },
            ]
          : [],
      );
      out.push({
        role: 'assistant',
        content: text === '' && calls.length > 0 ? null : text,
        ...(calls.length > 0 ? { tool_calls: calls } : {}),
      });
      continue;
    }
    for (const block of message.content) {
      if (block.type !== 'tool_result') continue;
      out.push({
        role: 'tool',
        tool_call_id: block.tool_use_id,
        content: block.is_error ? `Error: ${block.content}` : block.content,
      });
    }
    const images = message.content.flatMap((b) =>
      b.type === 'image'
        ? [
            {
              type: 'image_url' as const,
              image_url: { url: `data:${b.source.media_type};base64,${b.source.data}` },
            },
          ]
        : [],
    );
    if (images.length > 0) {
      // Images go as data URLs beside the text, in one user message.
      out.push({
        role: 'user',
        content: [...(text !== '' ? [{ type: 'text' as const, text }] : []), ...images],
      });
    } else if (text !== '') out.push({ role: 'user', content: text });
  }
  return out;
}

export function toChatTools(request: ModelRequest): ChatTool[] {
  return request.tools.map((tool) => ({
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.input_schema },
  }));
}

export function toStopReason(
  finish: string | null | undefined,
  hasToolCalls: boolean,
): ModelResponse['stopReason'] {
  // Some servers (Ollama among them) finish a tool call with "stop".
  if (hasToolCalls) return 'tool_use';
  switch (finish) {
    case 'stop':
      return 'end_turn';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'length':
      return 'max_tokens';
    default:
      return 'other';
  }
}

/**
 * OpenAI counts cached prompt tokens inside `prompt_tokens`; Anthropic counts them apart.
 * Ours follow Anthropic: `inputTokens` are the uncached ones.
 */
export function toUsage(usage: OpenAI.CompletionUsage | null | undefined): ModelUsage {
  const count = (n: unknown): number =>
    typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
  const prompt = count(usage?.prompt_tokens);
  const cached = Math.min(prompt, count(usage?.prompt_tokens_details?.cached_tokens));
  return {
    inputTokens: prompt - cached,
    outputTokens: count(usage?.completion_tokens),
    cacheReadTokens: cached,
    cacheWriteTokens: 0,
  };
}

/** A tool call's arguments: a JSON object, or the answer does not parse. */
export function parseArguments(name: string, raw: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (cause) {
    throw new ModelError(
      'bad_response',
      `The model's call of the tool ${name} has arguments that are not JSON.`,
      { cause },
    );
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new ModelError(
      'bad_response',
      `The model's call of the tool ${name} has arguments that are not a JSON object.`,
    );
  }
  return value as Record<string, unknown>;
}

interface PartialCall {
  id: string;
  name: string;
  arguments: string;
}

/** Longest a streamed answer may grow to (text and tool arguments): a bound on untrusted bytes. */
const MAX_ANSWER_CHARS = 4_000_000;
const MAX_TOOL_CALLS = 64;

/**
 * Assembles one streamed answer from its chunks. A tool call's id, name and arguments may be
 * split across any number of chunks; they are joined by the call's `index`.
 */
export class ChunkAssembler {
  private text = '';
  private readonly calls = new Map<number, PartialCall>();
  private size = 0;
  finish: string | null = null;
  usage: OpenAI.CompletionUsage | null = null;

  /** Adds one chunk; returns the text delta it carried ('' for none). */
  add(chunk: OpenAI.Chat.Completions.ChatCompletionChunk): string {
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) return '';
    if (choice.finish_reason) this.finish = choice.finish_reason;
    const delta = choice.delta ?? {};
    const calls: unknown = delta.tool_calls ?? [];
    if (!Array.isArray(calls)) {
      throw new ModelError('bad_response', 'The model API sent tool calls that are not a list.');
    }
    for (const call of calls as ChunkToolCall[]) this.addCall(call);
    const text = typeof delta.content === 'string' ? delta.content : '';
    this.grow(text.length);
    this.text += text;
    return text;
  }

  /** The whole answer, once the stream has ended. */
  response(): ModelResponse {
    if (this.finish === null) {
      throw new ModelError('bad_response', 'The model API ended its answer before it finished.');
    }
    const content: ContentBlock[] = this.text === '' ? [] : [{ type: 'text', text: this.text }];
    const calls = [...this.calls.entries()].sort(([a], [b]) => a - b);
    for (const [index, call] of calls) {
      if (call.name === '') {
        throw new ModelError('bad_response', 'The model API sent a tool call without a name.');
      }
      content.push({
        type: 'tool_use',
        // A few local servers send no id; the history needs one to pair the result with.
        id: call.id || `call_${index}`,
        name: call.name,
        input: parseArguments(call.name, call.arguments),
      });
    }
    return {
      content,
      stopReason: toStopReason(this.finish, calls.length > 0),
      usage: toUsage(this.usage),
    };
  }

  private addCall(call: ChunkToolCall): void {
    // Untrusted bytes: anything but a string is treated as absent.
    const str = (v: unknown): string => (typeof v === 'string' ? v : '');
    const index = typeof call?.index === 'number' && Number.isInteger(call.index) ? call.index : 0;
    if (!this.calls.has(index) && this.calls.size >= MAX_TOOL_CALLS) {
      throw new ModelError(
        'bad_response',
        `The model API sent more than ${MAX_TOOL_CALLS} tool calls in one answer.`,
      );
    }
    const partial = this.calls.get(index) ?? { id: '', name: '', arguments: '' };
    const id = str(call?.id);
    const name = str(call?.function?.name);
    const args = str(call?.function?.arguments);
    this.grow(id.length + name.length + args.length);
    // The id and name come whole in one chunk on most servers; some repeat them, some split.
    if (id && partial.id === '') partial.id = id;
    if (name && partial.name !== name) partial.name += name;
    partial.arguments += args;
    this.calls.set(index, partial);
  }

  private grow(chars: number): void {
    this.size += chars;
    if (this.size > MAX_ANSWER_CHARS) {
      throw new ModelError(
        'bad_response',
        `The model API sent an answer longer than ${MAX_ANSWER_CHARS} characters.`,
      );
    }
  }
}
