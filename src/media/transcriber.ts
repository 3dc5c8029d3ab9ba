import { spawn } from 'node:child_process';

export type TranscriptResult = { ok: true; text: string } | { ok: false; reason: string };

/** Turns a voice note into text. Must not throw: a failure is a result with a reason. */
export interface Transcriber {
  transcribe(file: string): Promise<TranscriptResult>;
}

export interface CommandTranscriberOptions {
  timeoutMs: number;
  maxOutputBytes: number;
}

/**
 * NANOCELL_TRANSCRIBE_COMMAND: a host command (split on spaces, no shell) run with the voice
 * note's path as its last argument; what it prints on stdout is the transcript. It is killed
 * at `timeoutMs` or once it printed more than `maxOutputBytes`; a non-zero exit is a failure.
 */
export class CommandTranscriber implements Transcriber {
  private readonly argv: string[];

  constructor(
    command: string,
    private readonly options: CommandTranscriberOptions,
  ) {
    this.argv = command.trim().split(/\s+/).filter(Boolean);
    if (this.argv.length === 0) throw new Error('CommandTranscriber needs a command');
  }

  transcribe(file: string): Promise<TranscriptResult> {
    const [bin, ...args] = this.argv as [string, ...string[]];
    const { timeoutMs, maxOutputBytes } = this.options;
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      let timedOut = false;
      const child = spawn(bin, [...args, file], { stdio: ['ignore', 'pipe', 'ignore'] });
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        if (over) return;
        size += chunk.length;
        if (size > maxOutputBytes) {
          over = true;
          child.kill('SIGKILL');
          return;
        }
        chunks.push(chunk);
      });
      child.on('error', (err) => {
        clearTimeout(timer);
        resolve({
          ok: false,
          reason: `the transcription command ${bin} did not start (${err.message})`,
        });
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (timedOut) {
          resolve({
            ok: false,
            reason: `the transcription command took longer than ${timeoutMs} ms`,
          });
        } else if (over) {
          resolve({
            ok: false,
            reason: `the transcription command printed more than ${maxOutputBytes} bytes`,
          });
        } else if (code !== 0) {
          resolve({ ok: false, reason: `the transcription command exited with ${String(code)}` });
        } else {
          resolve({ ok: true, text: Buffer.concat(chunks).toString('utf8').trim() });
        }
      });
    });
  }
}
