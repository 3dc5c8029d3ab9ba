import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cell, CellRuntime } from '../../src/cells/cell-runtime.js';
import { CELL_LIMITS, bashIn, cellFixture, type CellFixture } from './cell-fixture.js';

export interface IsolationExpectations {
  /** The kernel reports a seccomp filter on the cell's processes (Seccomp: 2). */
  seccomp: boolean;
  /**
   * Going over the memory limit kills the whole cell, not just the hog (gVisor: its kernel
   * is one host process group under the limit). The call says so; the next call needs a
   * new cell.
   */
  memoryLimitKillsCell: boolean;
}

/**
 * The isolation half of the CellRuntime contract: what must hold against hostile code in a
 * cell. Only real runtimes run it; a fake isolates nothing. One cell for the whole suite:
 * the hostile cases (fork bomb, memory hog) come last and the cell must survive them.
 */
export function cellIsolationContract(
  name: string,
  makeRuntime: () => CellRuntime,
  expectations: IsolationExpectations,
): void {
  describe(`CellRuntime isolation contract: ${name}`, () => {
    let fx: CellFixture;
    let cell: Cell;
    const bash = bashIn(() => cell);

    beforeAll(async () => {
      fx = await cellFixture();
      // Secrets in the host's environment must not reach the cell.
      process.env.NANOCELL_CONTRACT_SECRET = 'host-only-secret';
      cell = await makeRuntime().start(fx.spec());
    });

    afterAll(async () => {
      delete process.env.NANOCELL_CONTRACT_SECRET;
      await cell?.stop();
      await fx?.close();
    });

    it('writes the granted folder as the owner of that folder on the host, never as root', async () => {
      expect((await bash('echo data > made.txt && mkdir -p sub && echo x > sub/y')).ok).toBe(true);
      const made = path.join(fx.groupDir, 'made.txt');
      expect(fs.readFileSync(made, 'utf8')).toBe('data\n');
      const owner = fs.statSync(fx.groupDir).uid;
      for (const f of [made, path.join(fx.groupDir, 'sub'), path.join(fx.groupDir, 'sub', 'y')]) {
        expect(fs.statSync(f).uid, f).toBe(owner);
        expect(fs.statSync(f).uid, f).not.toBe(0);
      }
      const hostUid = process.getuid?.() ?? 0;
      if (hostUid !== 0) expect(owner).toBe(hostUid);
    });

    it('keeps read-only mounts read-only and everything outside the grant unwritable', async () => {
      expect((await bash('cat /workspace/extra/docs/manual.txt')).output).toBe('read me\n');
      for (const target of [
        '/workspace/extra/docs/new.txt',
        '/workspace/extra/docs/manual.txt',
        '/etc/passwd',
        '/usr/bin/evil',
        '/evil',
        '/workspace/evil',
        '/opt/nanocell/tool-server.mjs',
      ]) {
        const r = await bash(`echo x >> ${target}`);
        expect(r.ok, target).toBe(false);
      }
      expect(fs.readFileSync(path.join(fx.readOnlyDir, 'manual.txt'), 'utf8')).toBe('read me\n');
      expect(fs.existsSync(path.join(fx.readOnlyDir, 'new.txt'))).toBe(false);
      // Scratch space exists but is the cell's own.
      expect((await bash('echo t > /tmp/t && cat /tmp/t && echo h > ~/h && cat ~/h')).output).toBe(
        't\nh\n',
      );
    });

    it("cannot see another group's folder or the owner's mount allowlist", async () => {
      const r = await bash(
        [
          `ls ${fx.otherGroupDir} 2>&1`,
          `cat ${path.join(fx.otherGroupDir, 'secret.txt')} 2>&1`,
          `cat ${fx.allowlistFile} 2>&1`,
          `ls ${fx.home} 2>&1`,
          'ls /root 2>&1',
          "find / -xdev \\( -name 'mount-allowlist.json' -o -name secret.txt \\) -print 2>/dev/null",
          'test -e /workspace/group && echo GROUP_MOUNTED',
          'test -e /workspace/other && echo OTHER_VISIBLE',
        ].join('; '),
      );
      expect(r.output).not.toContain('other group secret');
      expect(r.output).not.toContain('allowlist-marker-root');
      expect(r.output).not.toMatch(/mount-allowlist\.json$/m);
      expect(r.output).not.toMatch(/secret\.txt$/m);
      expect(r.output).toContain('GROUP_MOUNTED');
      expect(r.output).not.toContain('OTHER_VISIBLE');
    });

    it('has no network: a host port is unreachable and DNS fails', async () => {
      const r = await bash(
        [
          `(exec 3<>/dev/tcp/127.0.0.1/${fx.hostPort}) 2>/dev/null && echo HOST_OPEN || echo HOST_BLOCKED`,
          'curl -s --max-time 3 http://example.com >/dev/null 2>&1 && echo NET_OPEN || echo NET_BLOCKED',
          "node -e \"require('dns').lookup('example.com', (e) => console.log(e ? 'DNS_FAILED' : 'DNS_OK'))\"",
          `awk -F: 'NR>2 {gsub(/ /, "", $1); print $1}' /proc/net/dev`,
        ].join('; '),
      );
      expect(r.output).toContain('HOST_BLOCKED');
      expect(r.output).toContain('NET_BLOCKED');
      expect(r.output).toContain('DNS_FAILED');
      expect(
        r.output
          .trim()
          .split('\n')
          .slice(3)
          .filter((l) => l !== 'lo'),
      ).toEqual([]);
      expect(fx.hostConnections()).toBe(0);
    });

    it('runs as a non-root user with no capabilities and no way to gain any', async () => {
      const r = await bash(
        'id -u; grep -E "^(Cap(Eff|Prm|Bnd|Amb)|NoNewPrivs|Seccomp):" /proc/self/status',
      );
      const [uid, ...lines] = r.output.trim().split('\n');
      expect(Number(uid)).toBeGreaterThan(0);
      const field = (n: string) => lines.find((l) => l.startsWith(`${n}:`))?.split(/\s+/)[1];
      for (const cap of ['CapEff', 'CapPrm', 'CapBnd']) expect(field(cap), cap).toMatch(/^0+$/);
      if (expectations.seccomp) {
        expect(field('NoNewPrivs')).toBe('1');
        expect(field('Seccomp')).toBe('2');
      }
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

    it('contains a fork bomb with the pids limit, and the host and the cell stay usable', async () => {
      // Bounded (400 children), so a runtime that fails this test cannot take the host down.
      const bomb = [
        "const { spawn } = require('child_process');",
        'const kids = []; const errors = new Set();',
        "for (let i = 0; i < 400; i++) { try { const c = spawn('sleep', ['30'], { stdio: 'ignore' });",
        "  c.on('error', (e) => errors.add(e.code)); kids.push(c); } catch (e) { errors.add(e.code); } }",
        'setTimeout(() => {',
        '  const alive = kids.filter((k) => k.pid && k.exitCode === null && k.signalCode === null).length;',
        '  console.log(JSON.stringify({ alive, errors: [...errors] }));',
        "  for (const k of kids) { try { k.kill('SIGKILL'); } catch {} }",
        '  process.exit(0);',
        '}, 1000);',
      ].join('\n');
      const r = await bash(`node -e "$(cat <<'EOF'\n${bomb}\nEOF\n)"`, 20_000);
      const result = JSON.parse(/\{.*\}/.exec(r.output)?.[0] ?? '{}') as {
        alive?: number;
        errors?: string[];
      };
      expect(result.alive, r.output).toBeLessThan(CELL_LIMITS.pids);
      expect(result.errors, r.output).toContain('EAGAIN');
      expect(spawnSync('true').status).toBe(0);
      expect((await bash('echo after-bomb')).output).toBe('after-bomb\n');
    });

    it('kills a memory hog at the memory limit without harming the host', async () => {
      // 1 GiB against a 512 MB limit; bounded, so a runtime that fails leaves the host fine.
      const hog =
        'const a = []; for (let i = 0; i < 64; i++) a.push(Buffer.alloc(16 << 20, 1)); console.log("SURVIVED", a.length * 16, "MB")';
      const r = await bash(`node -e '${hog}'`, 30_000);
      expect(r.ok, r.output).toBe(false);
      expect(r.output).not.toContain('SURVIVED');
      expect(spawnSync('true').status).toBe(0);
      if (expectations.memoryLimitKillsCell) {
        expect(r.output).toContain('the cell stopped during this call');
        expect(cell.alive).toBe(false);
      } else {
        expect((await bash('echo after-hog')).output).toBe('after-hog\n');
      }
    });
  });
}
