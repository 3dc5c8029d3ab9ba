import { GrammyError, HttpError } from 'grammy';

/**
 * What went wrong with a Bot API call, as one line that is safe to log or show: never the raw
 * error (a network error's message carries the URL, and the URL the token), never the payload.
 */
export function safeProblem(err: unknown, token: string): string {
  let text: string;
  if (err instanceof GrammyError) text = `${err.method}: ${err.error_code} ${err.description}`;
  else if (err instanceof HttpError) {
    const code = (err.error as { code?: unknown } | undefined)?.code;
    text = `${err.message}${typeof code === 'string' ? ` (${code})` : ''}`;
  } else text = err instanceof Error ? err.message : String(err);
  return text.split(token).join('<token>').slice(0, 300);
}
