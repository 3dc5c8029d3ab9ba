import type { Api } from 'grammy';

/** The AbortSignal type grammY's calls declare (its Node shim's); Node's own works at run time. */
export type ApiSignal = NonNullable<Parameters<Api['getMe']>[0]>;

export function apiSignal(signal: AbortSignal): ApiSignal {
  return signal as unknown as ApiSignal;
}
