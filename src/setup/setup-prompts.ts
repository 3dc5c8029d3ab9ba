import * as clack from '@clack/prompts';
import type { Readable, Writable } from 'node:stream';

/** The owner pressed Ctrl-C (or Escape) at a question: what was written so far is kept. */
export class SetupCancelled extends Error {
  constructor() {
    super('setup cancelled; the steps already done are kept (run nanocell setup again to go on)');
    this.name = 'SetupCancelled';
  }
}

export interface Choice<T extends string> {
  value: T;
  label: string;
  hint?: string;
}

/** A validator: what is wrong with the answer (shown under the question), or undefined. */
export type Check = (value: string) => string | undefined;

/**
 * The questions the wizard asks. Each resolves with the answer or rejects with
 * SetupCancelled; `say` shows a line between questions (never a secret).
 */
export interface SetupPrompts {
  select<T extends string>(message: string, choices: Choice<T>[], initial?: T): Promise<T>;
  multiselect<T extends string>(message: string, choices: Choice<T>[]): Promise<T[]>;
  text(
    message: string,
    options?: { initial?: string; placeholder?: string; check?: Check },
  ): Promise<string>;
  /** Masked input: for keys and tokens. */
  secret(message: string, check?: Check): Promise<string>;
  confirm(message: string, initial?: boolean): Promise<boolean>;
  say(kind: 'info' | 'success' | 'warn' | 'error', text: string): void;
}

/** The prompts of @clack/prompts on the given streams (a test hands in its own). */
export function clackPrompts(input: Readable, output: Writable): SetupPrompts {
  const io = { input, output };
  const answer = <T>(value: T): Exclude<T, symbol> => {
    if (clack.isCancel(value)) throw new SetupCancelled();
    return value as Exclude<T, symbol>;
  };
  const toOptions = <T extends string>(choices: Choice<T>[]) =>
    choices.map((c) => ({ value: c.value, label: c.label, ...(c.hint ? { hint: c.hint } : {}) }));
  const validate = (check: Check | undefined) =>
    check ? (value: string | undefined) => check(value ?? '') : undefined;
  return {
    async select<T extends string>(message: string, choices: Choice<T>[], initial?: T): Promise<T> {
      const options = toOptions(choices) as Parameters<typeof clack.select<T>>[0]['options'];
      return answer(
        await clack.select<T>({
          ...io,
          message,
          options,
          ...(initial ? { initialValue: initial } : {}),
        }),
      ) as T;
    },
    async multiselect<T extends string>(message: string, choices: Choice<T>[]): Promise<T[]> {
      const options = toOptions(choices) as unknown as Parameters<
        typeof clack.multiselect<T>
      >[0]['options'];
      return answer(
        await clack.multiselect<T>({ ...io, message, options, required: false }),
      ) as T[];
    },
    async text(message, options = {}) {
      const value = await clack.text({
        ...io,
        message,
        ...(options.initial !== undefined ? { initialValue: options.initial } : {}),
        ...(options.placeholder !== undefined ? { placeholder: options.placeholder } : {}),
        validate: validate(options.check),
      });
      return answer(value) ?? '';
    },
    async secret(message, check) {
      return answer(await clack.password({ ...io, message, validate: validate(check) })) ?? '';
    },
    async confirm(message, initial = true) {
      return answer(await clack.confirm({ ...io, message, initialValue: initial }));
    },
    say(kind, text) {
      clack.log[kind](text, { output });
    },
  };
}
