import { StringDecoder } from 'node:string_decoder';

/** One server-sent event: its `event:` name (empty when unnamed) and its joined `data:` lines. */
export interface SseEvent {
  event: string;
  data: string;
}

/** A stream that broke the limits or the format; the provider reports it as bad_response. */
export class SseFormatError extends Error {}

/**
 * Server-sent events from a byte stream, bounded: an event longer than `maxEventBytes` or a
 * stream longer than `maxTotalBytes` is refused (SseFormatError) instead of buffered. It is
 * the model API's untrusted answer, so nothing it says decides how much we hold.
 */
export async function* readSse(
  chunks: AsyncIterable<Buffer>,
  limits: { maxEventBytes: number; maxTotalBytes: number },
): AsyncGenerator<SseEvent> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let event = '';
  let data: string[] = [];
  let eventBytes = 0;
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.length;
    if (total > limits.maxTotalBytes) {
      throw new SseFormatError(`the answer is longer than ${limits.maxTotalBytes} bytes`);
    }
    pending += decoder.write(chunk);
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline).replace(/\r$/, '');
      pending = pending.slice(newline + 1);
      if (line === '') {
        if (data.length > 0) yield { event, data: data.join('\n') };
        event = '';
        data = [];
        eventBytes = 0;
        continue;
      }
      eventBytes += line.length;
      if (eventBytes > limits.maxEventBytes) {
        throw new SseFormatError(`an event is longer than ${limits.maxEventBytes} bytes`);
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (pending.length > limits.maxEventBytes) {
      throw new SseFormatError(`a line is longer than ${limits.maxEventBytes} bytes`);
    }
  }
  // An event not ended by a blank line is incomplete: dropped, as the format says.
  decoder.end();
}
