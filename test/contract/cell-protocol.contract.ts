import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cell, CellRuntime } from '../../src/cells/cell-runtime.js';
import { bashIn, cellFixture, type CellFixture } from './cell-fixture.js';

/**
 * The protocol half of the CellRuntime contract: what the host can rely on whatever
 * isolates the cell. Every runtime runs it, the real ones and the recording fakes of the
 * CLIs that cannot run here. One cell per suite, and one more for the ending cases.
 */
export function cellProtocolContract(name: string, makeRuntime: () => CellRuntime): void {
  describe(`CellRuntime protocol contract: ${name}`, () => {
    let fx: CellFixture;
    let cell: Cell;
    const bash = bashIn(() => cell);

    beforeAll(async () => {
      fx = await cellFixture();
      cell = await makeRuntime().start(fx.spec());
    });

    afterAll(async () => {
      await cell?.stop();
      await fx?.close();
    });

    it('reports exit codes: zero is ok, non-zero is a failed result, not a throw', async () => {
      expect(await bash('echo fine')).toMatchObject({ ok: true, output: 'fine\n' });
      const failed = await bash('echo oops >&2; exit 7');
      expect(failed.ok).toBe(false);
      expect(failed.output).toContain('oops');
      expect(failed.output).toContain('[exit code 7]');
    });

    it('kills the whole process tree when a call times out', async () => {
      const r = await bash('sleep 300 & echo "child=$!"; sleep 300', 1000);
      expect(r.ok).toBe(false);
      expect(r.output).toContain('timed out after 1000 ms');
      const child = /child=(\d+)/.exec(r.output)?.[1];
      expect(child).toBeDefined();
      // A zombie waiting for its reaper counts as gone (a fake CLI runs on the host).
      const check = await bash(
        `case "$(ps -o stat= -p ${child})" in ''|Z*) echo GONE;; *) echo ALIVE;; esac`,
      );
      expect(check.output.trim()).toBe('GONE');
    });

    it('caps output at the requested size and says how much was dropped', async () => {
      const r = await bash('head -c 200000 /dev/zero | tr "\\0" a', 10_000, 1000);
      expect(r.output).toMatch(/^a{1000}\n\[output truncated: 199000 bytes dropped\]/);
    });

    it('runs the file tools in the working directory', async () => {
      const wrote = await cell.call({
        tool: 'write_file',
        input: { path: 'proto/a.txt', content: 'alpha\n' },
      });
      expect(wrote.ok).toBe(true);
      const read = await cell.call({ tool: 'read_file', input: { path: 'proto/a.txt' } });
      expect(read.output).toMatch(/1\talpha/);
      const missing = await cell.call({ tool: 'read_file', input: { path: 'nope.txt' } });
      expect(missing).toMatchObject({ ok: false });
      expect(missing.output).toContain('no such file');
    });

    it('answers calls after a failed one, and stops cleanly', async () => {
      const other = await makeRuntime().start(fx.spec());
      expect(other.alive).toBe(true);
      const call = (command: string) =>
        other.call({ tool: 'bash', input: { command }, timeoutMs: 5000, maxOutputBytes: 100 });
      expect((await call('exit 1')).ok).toBe(false);
      expect((await call('echo still')).output).toBe('still\n');
      await other.stop();
      expect(other.alive).toBe(false);
      const after = await call('echo x');
      expect(after.ok).toBe(false);
      expect(after.output).toContain('not running');
    });

    it('fails the call in flight with a clear message when the cell process is killed', async () => {
      const doomed = await makeRuntime().start(fx.spec());
      expect(doomed.pid).toBeGreaterThan(0);
      const inFlight = doomed.call({
        tool: 'bash',
        input: { command: 'echo started; sleep 30' },
        timeoutMs: 20_000,
        maxOutputBytes: 100,
      });
      // The call is in the cell once the shell runs; a call answered first proves it.
      await doomed.call({
        tool: 'bash',
        input: { command: 'true' },
        timeoutMs: 5000,
        maxOutputBytes: 10,
      });
      process.kill(doomed.pid!, 'SIGKILL');
      const r = await inFlight;
      expect(r.ok).toBe(false);
      expect(r.output).toContain('the cell stopped during this call');
      expect(r.output).toContain('SIGKILL');
      expect(doomed.alive).toBe(false);
      await doomed.stop();
    });
  });
}
