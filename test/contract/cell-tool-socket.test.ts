import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cell } from '../../src/cells/cell-runtime.js';
import { CELL_TOOL_SOCKET_DIR } from '../../src/cells/tool-socket.js';
import { realRuntimes, shouldRun } from '../support/runtimes.js';
import { bashIn, cellFixture, type CellFixture } from './cell-fixture.js';

let fx: CellFixture;
beforeAll(async () => {
  fx = await cellFixture();
});
afterAll(async () => {
  await fx.close();
});

/** The host directory an engine mounted at the cell's tool socket directory. */
function toolSocketDir(engine: string, container: string): string {
  const r = spawnSync(
    engine,
    [
      'inspect',
      '--format',
      `{{range .Mounts}}{{if eq .Destination "${CELL_TOOL_SOCKET_DIR}"}}{{.Source}}{{end}}{{end}}`,
      container,
    ],
    { encoding: 'utf8' },
  );
  return r.stdout.trim();
}

// docker and podman cells speak over a host unix socket (tool-socket.ts); gVisor and bwrap
// keep stdio and are not listed.
for (const rt of realRuntimes().filter((r) => r.name === 'docker' || r.name === 'podman')) {
  describe.skipIf(!(await shouldRun(rt.make())))(`${rt.name} tool socket`, () => {
    it('lets no command in the cell connect to it, and removes its directory when the cell stops', async () => {
      const runtime = rt.make();
      let cell: Cell | undefined;
      try {
        cell = await runtime.start(fx.spec());
        const dir = toolSocketDir(rt.name, cell.id);
        expect(dir).not.toBe('');
        // The host took the tool server's connection and unlinked the socket at once.
        expect(fs.readdirSync(dir)).toEqual([]);
        const bash = bashIn(() => cell!);
        const probe = await bash(
          `echo "env:\${NANOCELL_TOOL_SOCKET:-unset}"; ` +
            `node -e "require('net').createConnection('${CELL_TOOL_SOCKET_DIR}/tool.sock')` +
            `.on('connect', () => console.log('connected')).on('error', (e) => console.log(e.code))"`,
        );
        expect(probe.output).toBe('env:unset\nENOENT\n');
        await cell.stop();
        cell = undefined;
        expect(fs.existsSync(path.dirname(dir))).toBe(false);
      } finally {
        await cell?.stop();
        await runtime.close?.();
      }
    });

    it("kills a cell whose command writes into the tool server's stdout, and keeps no engine log", async () => {
      const runtime = rt.make();
      const cell = await runtime.start(fx.spec());
      try {
        const logDriver = spawnSync(
          rt.name,
          ['inspect', '--format', '{{.HostConfig.LogConfig.Type}}', cell.id],
          { encoding: 'utf8' },
        ).stdout.trim();
        expect(logDriver).toBe('none');
        const r = await bashIn(() => cell)('echo junk > /proc/$PPID/fd/1; sleep 5; echo unseen');
        expect(r.ok).toBe(false);
        expect(r.output).toContain('broke the tool protocol (output on its stdout');
        expect(cell.alive).toBe(false);
      } finally {
        await cell.stop();
        await runtime.close?.();
      }
    });

    it('fails the call in flight and is no longer alive when its container is removed underneath', async () => {
      const runtime = rt.make();
      const cell = await runtime.start(fx.spec());
      try {
        const dir = toolSocketDir(rt.name, cell.id);
        const call = bashIn(() => cell)('sleep 30');
        spawnSync(
          rt.name,
          rt.name === 'podman' ? ['rm', '-f', '-t', '0', cell.id] : ['rm', '-f', cell.id],
        );
        const r = await call;
        expect(r.ok).toBe(false);
        expect(r.output).toContain('the cell stopped during this call');
        expect(cell.alive).toBe(false);
        await cell.stop();
        expect(fs.existsSync(path.dirname(dir))).toBe(false);
      } finally {
        await cell.stop();
        await runtime.close?.();
      }
    });
  });
}
