import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cell, CellRuntime, CellSpec } from '../../src/cells/cell-runtime.js';
import { loadConfig } from '../../src/config.js';
import { tempHome } from '../support/temp-home.js';

/**
 * What every CellRuntime must guarantee, whatever isolates it. Each implementation runs this
 * suite against the real runtime (see cell-runtime.test.ts).
 */
export function cellRuntimeContract(name: string, makeRuntime: () => CellRuntime): void {
  describe(`CellRuntime contract: ${name}`, () => {
    const config = loadConfig({});
    let home: ReturnType<typeof tempHome>;
    let groupDir: string;
    let readOnlyDir: string;
    let otherGroupDir: string;
    let cell: Cell;
    let hostServer: net.Server;
    let hostPort: number;
    let hostConnections = 0;

    const spec = (): CellSpec => ({
      groupName: 'contract',
      mounts: [
        { hostPath: groupDir, cellPath: '/workspace/group', readOnly: false },
        { hostPath: readOnlyDir, cellPath: '/workspace/extra/docs', readOnly: true },
      ],
      env: { PATH: '/usr/bin:/bin', HOME: '/home/cell', LANG: 'C.UTF-8', ALLOWED_VAR: 'yes' },
      workdir: '/workspace/group',
      toolServerPath: config.toolServerPath,
      limits: { memoryMb: 512, pids: 128, cpus: 1, callTimeoutMs: 10_000, maxOutputBytes: 20_000 },
      network: { mode: 'none' },
    });

    const bash = (command: string, timeoutMs = 10_000, maxOutputBytes = 20_000) =>
      cell.call({ tool: 'bash', input: { command }, timeoutMs, maxOutputBytes });

    beforeAll(async () => {
      home = tempHome();
      groupDir = path.join(home.dir, 'groups', 'contract');
      readOnlyDir = path.join(home.dir, 'docs');
      otherGroupDir = path.join(home.dir, 'groups', 'other');
      for (const d of [groupDir, readOnlyDir, otherGroupDir]) fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(readOnlyDir, 'manual.txt'), 'read me\n');
      fs.writeFileSync(path.join(otherGroupDir, 'secret.txt'), 'other group secret\n');
      hostServer = net.createServer((s) => {
        hostConnections++;
        s.end('hello from the host\n');
      });
      await new Promise<void>((resolve) => hostServer.listen(0, '127.0.0.1', resolve));
      hostPort = (hostServer.address() as net.AddressInfo).port;
      // Secrets in the host's environment must not reach the cell.
      process.env.NANOCELL_CONTRACT_SECRET = 'host-only-secret';
      cell = await makeRuntime().start(spec());
    });

    afterAll(async () => {
      delete process.env.NANOCELL_CONTRACT_SECRET;
      await cell?.stop();
      await new Promise<void>((resolve) => hostServer.close(() => resolve()));
      home.cleanup();
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
      const check = await bash(`kill -0 ${child} 2>/dev/null && echo ALIVE || echo GONE`);
      expect(check.output.trim()).toBe('GONE');
    });

    it('caps output at the requested size and says how much was dropped', async () => {
      const r = await bash('head -c 200000 /dev/zero | tr "\\0" a', 10_000, 1000);
      expect(r.output).toMatch(/^a{1000}\n\[output truncated: 199000 bytes dropped\]/);
    });

    it('writes the granted folder, and the files belong to the host owner of that folder', async () => {
      expect((await bash('echo data > made.txt')).ok).toBe(true);
      const st = fs.statSync(path.join(groupDir, 'made.txt'));
      expect(fs.readFileSync(path.join(groupDir, 'made.txt'), 'utf8')).toBe('data\n');
      expect(st.uid).toBe(fs.statSync(groupDir).uid);
    });

    it('keeps read-only mounts read-only and everything outside the grant unwritable', async () => {
      expect((await bash('cat /workspace/extra/docs/manual.txt')).output).toBe('read me\n');
      for (const target of [
        '/workspace/extra/docs/new.txt',
        '/etc/passwd',
        '/usr/bin/evil',
        '/evil',
      ]) {
        const r = await bash(`echo x > ${target}`);
        expect(r.ok, target).toBe(false);
      }
      expect(fs.existsSync(path.join(readOnlyDir, 'new.txt'))).toBe(false);
      // Scratch space exists but is the cell's own.
      expect((await bash('echo t > /tmp/t && cat /tmp/t')).output).toBe('t\n');
    });

    it("cannot see another group's folder or the host's files", async () => {
      const r = await bash(
        `ls ${otherGroupDir} 2>&1; cat ${path.join(otherGroupDir, 'secret.txt')} 2>&1; ls /root 2>&1; ls /workspace`,
      );
      expect(r.output).not.toContain('other group secret');
      expect(r.output).toMatch(/^group\n?/m);
      expect(r.output).not.toContain('other\n');
    });

    it('has no network: a host port is unreachable and DNS fails', async () => {
      const r = await bash(
        [
          `(exec 3<>/dev/tcp/127.0.0.1/${hostPort}) 2>/dev/null && echo HOST_OPEN || echo HOST_BLOCKED`,
          'curl -s --max-time 3 http://example.com >/dev/null 2>&1 && echo NET_OPEN || echo NET_BLOCKED',
          "node -e \"require('dns').lookup('example.com', (e) => console.log(e ? 'DNS_FAILED' : 'DNS_OK'))\"",
          `awk -F: 'NR>2 {gsub(/ /, "", $1); print $1}' /proc/net/dev`,
        ].join('; '),
      );
      expect(r.output).toContain('HOST_BLOCKED');
      expect(r.output).toContain('NET_BLOCKED');
      expect(r.output).toContain('DNS_FAILED');
      expect(r.output.trim().split('\n').slice(3)).toEqual(['lo']);
      expect(hostConnections).toBe(0);
    });

    it('runs as a non-root user with no capabilities', async () => {
      const r = await bash('id -u; grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status');
      const [uid, ...caps] = r.output.trim().split('\n');
      expect(Number(uid)).toBeGreaterThan(0);
      expect(caps).toHaveLength(3);
      for (const line of caps) expect(line).toMatch(/:\s+0+$/);
    });

    it('sees only the allowlisted environment', async () => {
      const r = await bash(
        'env | cut -d= -f1 | sort; cat /proc/1/environ | tr "\\0" "\\n" | cut -d= -f1',
      );
      expect(r.output).toContain('ALLOWED_VAR');
      expect(r.output).not.toContain('NANOCELL_CONTRACT_SECRET');
      expect(r.output).not.toContain('ANTHROPIC');
      const all = await bash('cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n"');
      expect(all.output).not.toContain('host-only-secret');
    });

    it('answers calls after a failed one, and stops cleanly', async () => {
      const other = await makeRuntime().start(spec());
      expect(other.alive).toBe(true);
      expect(
        (
          await other.call({
            tool: 'bash',
            input: { command: 'exit 1' },
            timeoutMs: 5000,
            maxOutputBytes: 100,
          })
        ).ok,
      ).toBe(false);
      expect(
        (
          await other.call({
            tool: 'bash',
            input: { command: 'echo still' },
            timeoutMs: 5000,
            maxOutputBytes: 100,
          })
        ).output,
      ).toBe('still\n');
      await other.stop();
      expect(other.alive).toBe(false);
      const after = await other.call({
        tool: 'bash',
        input: { command: 'echo x' },
        timeoutMs: 5000,
        maxOutputBytes: 100,
      });
      expect(after.ok).toBe(false);
      expect(after.output).toContain('not running');
    });
  });
}
