import type { Base } from '../app.js';
import type { Config } from '../config.js';
import type { ChatSurface } from '../control/chat-session.js';
import type { TextOut } from '../control/control-server.js';

export type { TextOut } from '../control/control-server.js';

/** What the running host tells `status` about itself. */
export interface LiveHost {
  pid: number;
  /** `start`, or a stand-alone `chat`/`ask` that holds the data dir. */
  command: string;
  startedAt: string;
  url?: string;
  runtime: string;
  liveCells: number;
  queue: { running: number; waiting: number };
  outboxPending: number;
}

export interface StoreCommandContext {
  base: Base;
  out: TextOut;
  err: TextOut;
  /** Set when the command runs inside the process that owns the data dir. */
  live?: LiveHost;
  /** The terminal's input, when the command runs in the user's own process (`setup` asks). */
  stdin?: NodeJS.ReadableStream;
}

/** For commands that need only the settings (no store, no lock): logs, backup, restore. */
export interface ConfigCommandContext {
  config: Config;
  out: TextOut;
  err: TextOut;
}

export interface ChatCommandIo {
  stdin: NodeJS.ReadableStream;
  stdout: TextOut;
  stderr: TextOut;
}

interface CommandInfo {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The whole of `nanocell NAME --help`. */
  usage: string;
}

/**
 * A command of the CLI. What it needs decides where it runs: `store` commands read or change
 * state, in the process that owns the data dir (over the control socket while one runs);
 * `chat` commands talk to the assistant through a ChatSurface (the host's, or their own when
 * none runs); `host` is `start`. Exit statuses: 0 ok, 1 the request failed, 2 bad usage.
 */
export type CliCommand =
  | (CommandInfo & {
      needs: 'store';
      run(args: string[], ctx: StoreCommandContext): Promise<number> | number;
    })
  | (CommandInfo & {
      needs: 'chat';
      /** A usage problem in `args` (before anything is opened), or null. */
      check(args: string[]): string | null;
      run(args: string[], surface: ChatSurface, io: ChatCommandIo): Promise<number>;
    })
  | (CommandInfo & {
      /** Runs before the settings are loaded (`config`, which must fix a broken file). */
      needs: 'none';
      run(args: string[], io: { out: TextOut; err: TextOut }): Promise<number> | number;
    })
  | (CommandInfo & {
      needs: 'config';
      run(args: string[], ctx: ConfigCommandContext): Promise<number> | number;
    })
  | (CommandInfo & {
      needs: 'host';
      check(args: string[]): string | null;
    });

export function usageError(err: TextOut, usage: string, problem: string): number {
  err.write(`nanocell: ${problem}\n${usage}`);
  return 2;
}
