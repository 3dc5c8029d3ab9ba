import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cell, CellRuntime } from '../../src/cells/cell-runtime.js';
import { X64_SYSCALLS, probeCommand } from '../support/syscall-probe.js';
import { bashIn, cellFixture, type CellFixture } from './cell-fixture.js';

export interface SyscallExpectations {
  /**
   * Who answers the syscalls: `host` — the host kernel behind our seccomp filter/profile
   * (bwrap, docker, podman); `gvisor` — gVisor's own kernel, which implements netlink and
   * NUMA calls itself (they never reach the host's) and has no packet sockets, vsock or LDT.
   */
  kernel: 'host' | 'gvisor';
}

const EPERM = 1;
const EAFNOSUPPORT = 97;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_RAW = 3;

/** Each attack: a label, the call, and what must come back (0 = it worked). */
const SOCKETS: Array<[label: string, family: number, type: number]> = [
  ['unix', 1, SOCK_STREAM],
  ['inet', 2, SOCK_STREAM],
  ['inet6', 10, SOCK_DGRAM],
  ['netlink', 16, SOCK_RAW],
  ['packet', 17, SOCK_DGRAM],
  ['vsock', 40, SOCK_STREAM],
  ['alg', 38, 5],
  ['bluetooth', 31, SOCK_STREAM],
];

/**
 * What hostile code in a cell gets when it reaches for kernel surface no cell needs: socket
 * families other than unix/IPv4/IPv6 (AF_PACKET, AF_VSOCK, AF_NETLINK, ...), modify_ldt and
 * the NUMA calls. Raw syscalls, through a tiny static probe (x86_64), so no libc or runtime
 * in between can soften the answer. Ordinary work must still run.
 */
export function cellSyscallContract(
  name: string,
  makeRuntime: () => CellRuntime,
  expectations: SyscallExpectations,
): void {
  describe.skipIf(process.arch !== 'x64')(`CellRuntime syscall contract: ${name}`, () => {
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

    const results = async (probes: string[]): Promise<Record<string, number>> => {
      const r = await bash(probes.join('; '));
      const out: Record<string, number> = {};
      for (const m of r.output.matchAll(/^(\w+)=(\d+)$/gm)) out[m[1]!] = Number(m[2]);
      expect(Object.keys(out).length, r.output).toBe(probes.length);
      return out;
    };

    it('opens unix, IPv4 and IPv6 sockets and refuses every other family', async () => {
      const got = await results(
        SOCKETS.map(([label, family, type]) =>
          probeCommand(label, X64_SYSCALLS.socket, [family, type, 0]),
        ),
      );
      expect({ unix: got.unix, inet: got.inet, inet6: got.inet6 }).toEqual({
        unix: 0,
        inet: 0,
        inet6: 0,
      });
      if (expectations.kernel === 'host') {
        for (const family of ['netlink', 'packet', 'vsock', 'alg', 'bluetooth']) {
          expect(got[family], family).toBe(EAFNOSUPPORT);
        }
      } else {
        // gVisor runs our profile too (runsc --oci-seccomp): netlink is refused (gVisor answers
        // EPERM where the host says EAFNOSUPPORT); packet sockets need a capability the cell
        // lacks; vsock, alg and bluetooth do not exist in gVisor's kernel.
        expect(got.netlink, 'netlink').not.toBe(0);
        expect(got.packet).not.toBe(0);
        for (const family of ['vsock', 'alg', 'bluetooth']) expect(got[family], family).not.toBe(0);
      }
    });

    it('refuses an AF_NETLINK socketpair as well as a socket', async () => {
      const got = await results([
        probeCommand('pairunix', X64_SYSCALLS.socketpair, [1, SOCK_STREAM, 0]),
        probeCommand('pairpacket', X64_SYSCALLS.socketpair, [17, SOCK_DGRAM, 0]),
      ]);
      // socketpair exists for unix sockets only; what matters is the other family never works.
      expect(got.pairunix).toBe(0);
      expect(got.pairpacket).not.toBe(0);
      if (expectations.kernel === 'host') expect(got.pairpacket).toBe(EAFNOSUPPORT);
    });

    it('refuses modify_ldt and mbind', async () => {
      const got = await results([
        probeCommand('ldt', X64_SYSCALLS.modify_ldt, [0, 0, 0]),
        probeCommand('mbind', X64_SYSCALLS.mbind, [0, 0, 0]),
      ]);
      expect(got.ldt).toBe(EPERM);
      // Refused by our profile on every kernel (gVisor applies it with --oci-seccomp).
      expect(got.mbind).toBe(EPERM);
    });

    it('still runs ordinary work: bash, node with children, and curl over loopback', async () => {
      const server = [
        "const http = require('http');",
        "const s = http.createServer((q, r) => r.end('served in the cell'));",
        "s.listen(0, '127.0.0.1', () => {",
        "  const url = 'http://127.0.0.1:' + s.address().port + '/';",
        "  require('child_process').execFile('curl', ['-s', url], (e, out) => {",
        "    console.log('curl said: ' + out); s.close();",
        '  });',
        '});',
      ].join(' ');
      const r = await bash(`echo bash ok && node -e "${server.replace(/"/g, '\\"')}"`);
      expect(r.ok, r.output).toBe(true);
      expect(r.output).toContain('bash ok');
      expect(r.output).toContain('curl said: served in the cell');
    });
  });
}
