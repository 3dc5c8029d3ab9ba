import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CellPool } from '../../src/cells/cell-pool.js';
import type { CellRuntime, CellSpec } from '../../src/cells/cell-runtime.js';
import { cellFixture, type CellFixture } from './cell-fixture.js';

/** The host's resident memory may grow this much while a cell floods it (it sends gigabytes). */
const MAX_RSS_GROWTH_MB = 100;

/**
 * A tool server as hostile code could make it: says ready, then answers its first request
 * with an endless line. Runs in the real cell, in place of ours, on the channel ours would use
 * (stdio, or the host's tool socket where the runtime gives one).
 */
const FLOODING_SERVER = `
import net from 'node:net';
import readline from 'node:readline';
const socketPath = process.env.NANOCELL_TOOL_SOCKET;
const socket = socketPath ? net.createConnection(socketPath) : undefined;
const input = socket ?? process.stdin;
const output = socket ?? process.stdout;
const rl = readline.createInterface({ input });
output.write(JSON.stringify({ ready: true }) + '\\n');
rl.once('line', () => {
  const junk = Buffer.alloc(1 << 16, 97);
  const go = () => { while (output.write(junk)); output.once('drain', go); };
  go();
});
rl.on('close', () => process.exit(0));
`;

/**
 * Shell that sets $ch to the tool server's protocol channel as a command in the cell can reach
 * it: its stdout, or, where it speaks on the host's tool socket, that socket's fd (its first
 * socket: it connects before anything else). Opening a socket through /proc fails (ENXIO).
 */
const FIND_CHANNEL =
  'ch=/proc/$PPID/fd/1; if grep -qa NANOCELL_TOOL_SOCKET= /proc/$PPID/environ; then ' +
  'for f in $(ls /proc/$PPID/fd | sort -n); do case $(readlink /proc/$PPID/fd/$f) in ' +
  'socket:*) ch=/proc/$PPID/fd/$f; break;; esac; done; fi; ';

const rssMb = () => process.memoryUsage().rss / (1024 * 1024);

/**
 * What a cell's code must not be able to do to the host, whatever isolates it: flood or
 * corrupt the protocol channel, hang the tool server, or leave processes behind a call. Every
 * attack ends with the cell killed and replaced (the call says why) and another group served.
 */
export function cellAttackContract(name: string, makeRuntime: () => CellRuntime): void {
  describe(`CellRuntime attack contract: ${name}`, () => {
    let fx: CellFixture;
    let pool: CellPool;
    let victim: CellSpec;
    let other: CellSpec;

    beforeAll(async () => {
      fx = await cellFixture();
      pool = new CellPool(makeRuntime(), 60_000, pino({ level: 'silent' }), { maxLiveCells: 4 });
      victim = fx.spec();
      other = { ...fx.spec(), groupName: 'bystander' };
    });

    afterAll(async () => {
      await pool?.stopAll();
      await fx?.close();
    });

    const bash = async (spec: CellSpec, command: string, timeoutMs = 20_000) =>
      (await pool.get(spec)).call({ tool: 'bash', input: { command }, timeoutMs });

    /** The next call of the victim group runs in a new, working cell. */
    async function replaced(oldId: string): Promise<void> {
      const next = await pool.get(victim);
      expect(next.id).not.toBe(oldId);
      expect((await bash(victim, 'echo again')).output).toBe('again\n');
    }

    it("survives gigabytes written straight into the tool server's protocol channel, and serves another group meanwhile", async () => {
      const cell = await pool.get(victim);
      await bash(other, 'true');
      const before = rssMb();
      const [flood, bystander] = await Promise.all([
        bash(victim, `${FIND_CHANNEL}head -c 4000000000 /dev/zero > $ch && echo wrote`),
        bash(other, 'sleep 0.2; echo meanwhile'),
      ]);
      expect(rssMb() - before).toBeLessThan(MAX_RSS_GROWTH_MB);
      expect(bystander.output).toBe('meanwhile\n');
      expect(flood.ok).toBe(false);
      // Either the runtime's stdout cannot be opened that way (a socket: ENXIO), or it can,
      // and the host killed the cell for an oversized frame.
      expect(flood.output).toMatch(/broke the tool protocol|No such device or address/);
      if (flood.output.includes('broke the tool protocol')) {
        expect(flood.output).toContain('the next tool call starts a new cell');
        await replaced(cell.id);
      }
    });

    it('kills and replaces a cell that writes garbage into the protocol channel', async () => {
      const cell = await pool.get(victim);
      const r = await bash(
        victim,
        `${FIND_CHANNEL}echo "not a response" > $ch && sleep 5 && echo unseen`,
      );
      expect(r.ok).toBe(false);
      expect(r.output).toMatch(/broke the tool protocol|No such device or address/);
      if (r.output.includes('broke the tool protocol')) await replaced(cell.id);
    });

    it('kills and replaces a cell whose tool server floods an endless line, with host memory bounded', async () => {
      const script = path.join(fx.home, 'flooding-server.mjs');
      fs.writeFileSync(script, FLOODING_SERVER, { mode: 0o644 });
      const hostile: CellSpec = { ...fx.spec(), groupName: 'flooder', toolServerPath: script };
      const cell = await pool.get(hostile);
      const before = rssMb();
      const [r, bystander] = await Promise.all([
        cell.call({ tool: 'bash', input: { command: 'true' } }),
        bash(other, 'echo meanwhile'),
      ]);
      expect(rssMb() - before).toBeLessThan(MAX_RSS_GROWTH_MB);
      expect(bystander.output).toBe('meanwhile\n');
      expect(r.ok).toBe(false);
      expect(r.output).toContain('broke the tool protocol (a line of more than');
      expect(r.output).toContain('the next tool call starts a new cell');
      expect(cell.alive).toBe(false);
      await pool.stop('flooder');
    });

    it('kills and replaces a cell whose tool server stops answering, at the call deadline', async () => {
      const cell = await pool.get(victim);
      const r = await bash(victim, 'kill -STOP $PPID; echo stopped', 1000);
      expect(r.ok).toBe(false);
      expect(r.output).toMatch(/no answer from the cell within \d+ ms: the cell was stopped/);
      expect(cell.alive).toBe(false);
      await replaced(cell.id);
    });

    it('kills setsid, nohup and double-forked daemons when the call that started them ends', async () => {
      const marker = 'nanocell-contract-daemon';
      const daemons = `echo "daemons=$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' | grep -o '[n]anocell-contract-daemon-[a-z]*' | sort -u | tr '\\n' ' ')"`;
      const started = await bash(
        victim,
        [
          `node -e "require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)', '${marker}-setsid'], { detached: true, stdio: 'ignore' }).unref()"`,
          `nohup node -e "setTimeout(() => {}, 600000)" ${marker}-nohup >/dev/null 2>&1 &`,
          `( ( node -e "setTimeout(() => {}, 600000)" ${marker}-twice >/dev/null 2>&1 & ) & )`,
          'sleep 0.5',
          daemons,
        ].join('\n'),
      );
      expect(started.output).toContain(`daemons=${marker}-nohup ${marker}-setsid ${marker}-twice `);
      expect((await bash(victim, daemons)).output).toBe('daemons=\n');
    });

    it('kills a daemon a timed-out call started, even one holding its output open', async () => {
      const r = await bash(
        victim,
        `node -e "require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)', 'nanocell-contract-daemon-late'], { detached: true, stdio: 'inherit' }).unref()"; sleep 300`,
        1500,
      );
      expect(r.output).toContain('timed out after 1500 ms');
      const left = await bash(
        victim,
        `cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' | grep -c '[n]anocell-contract-daemon-late' || true`,
      );
      expect(left.output.trim()).toBe('0');
    });
  });
}
