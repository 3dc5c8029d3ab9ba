import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  BPF_JEQ_K,
  BPF_JGE_K,
  BPF_JSET_K,
  BPF_LD_W_ABS,
  BPF_RET_K,
  CLONE_NAMESPACE_FLAGS,
  EAFNOSUPPORT,
  ENOSYS,
  EPERM,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SeccompUnsupportedError,
  buildSeccompProgram,
  deniedSyscalls,
  seccompArch,
  seccompFilterBytes,
  type SockFilter,
} from './seccomp.js';

/** A classic BPF interpreter for the opcodes the filter uses: the kernel's view of it. */
function runFilter(
  program: SockFilter[],
  data: { nr: number; arch: number; arg0?: number },
): number {
  let acc = 0;
  let pc = 0;
  for (let steps = 0; steps < 10_000; steps++) {
    const ins = program[pc];
    if (!ins) throw new Error(`fell off the program at ${pc}`);
    switch (ins.code) {
      case BPF_LD_W_ABS:
        acc =
          ins.k === 0 ? data.nr : ins.k === 4 ? data.arch : ins.k === 16 ? (data.arg0 ?? 0) : NaN;
        if (Number.isNaN(acc)) throw new Error(`unexpected load offset ${ins.k}`);
        pc++;
        break;
      case BPF_JEQ_K:
        pc += 1 + (acc >>> 0 === ins.k >>> 0 ? ins.jt : ins.jf);
        break;
      case BPF_JGE_K:
        pc += 1 + (acc >>> 0 >= ins.k >>> 0 ? ins.jt : ins.jf);
        break;
      case BPF_JSET_K:
        pc += 1 + ((acc & ins.k) !== 0 ? ins.jt : ins.jf);
        break;
      case BPF_RET_K:
        return ins.k >>> 0;
      default:
        throw new Error(`unexpected opcode ${ins.code}`);
    }
  }
  throw new Error('filter did not return');
}

const X64 = 0xc000003e;
const ARM64 = 0xc00000b7;
const I386 = 0x40000003;
const ERR_EPERM = (SECCOMP_RET_ERRNO | EPERM) >>> 0;
const ERR_ENOSYS = (SECCOMP_RET_ERRNO | ENOSYS) >>> 0;
const ERR_EAFNOSUPPORT = (SECCOMP_RET_ERRNO | EAFNOSUPPORT) >>> 0;

describe('seccomp filter program', () => {
  const cases: Array<
    [string, 'x64' | 'arm64', { nr: number; arch: number; arg0?: number }, number]
  > = [
    ['allows read on x86_64', 'x64', { nr: 0, arch: X64 }, SECCOMP_RET_ALLOW],
    ['allows execve on x86_64', 'x64', { nr: 59, arch: X64 }, SECCOMP_RET_ALLOW],
    ['refuses mount on x86_64', 'x64', { nr: 165, arch: X64 }, ERR_EPERM],
    ['refuses ptrace on x86_64', 'x64', { nr: 101, arch: X64 }, ERR_EPERM],
    ['refuses unshare on x86_64', 'x64', { nr: 272, arch: X64 }, ERR_EPERM],
    ['refuses setns on x86_64', 'x64', { nr: 308, arch: X64 }, ERR_EPERM],
    ['refuses bpf on x86_64', 'x64', { nr: 321, arch: X64 }, ERR_EPERM],
    ['refuses keyctl on x86_64', 'x64', { nr: 250, arch: X64 }, ERR_EPERM],
    ['refuses io_uring_setup on x86_64', 'x64', { nr: 425, arch: X64 }, ERR_EPERM],
    ['answers clone3 with ENOSYS on x86_64', 'x64', { nr: 435, arch: X64 }, ERR_ENOSYS],
    [
      'allows a plain clone (fork, threads)',
      'x64',
      { nr: 56, arch: X64, arg0: 0x003d0f00 },
      SECCOMP_RET_ALLOW,
    ],
    [
      'refuses clone with CLONE_NEWUSER',
      'x64',
      { nr: 56, arch: X64, arg0: 0x10000000 | 0x11 },
      ERR_EPERM,
    ],
    ['refuses clone with CLONE_NEWNS', 'x64', { nr: 56, arch: X64, arg0: 0x00020000 }, ERR_EPERM],
    ['kills an i386 syscall on x86_64', 'x64', { nr: 0, arch: I386 }, SECCOMP_RET_KILL_PROCESS],
    ['kills an x32 syscall', 'x64', { nr: 0x40000000 + 0, arch: X64 }, SECCOMP_RET_KILL_PROCESS],
    ['allows read on arm64', 'arm64', { nr: 63, arch: ARM64 }, SECCOMP_RET_ALLOW],
    ['refuses mount on arm64', 'arm64', { nr: 40, arch: ARM64 }, ERR_EPERM],
    ['refuses unshare on arm64', 'arm64', { nr: 97, arch: ARM64 }, ERR_EPERM],
    [
      'refuses clone with CLONE_NEWPID on arm64',
      'arm64',
      { nr: 220, arch: ARM64, arg0: 0x20000000 },
      ERR_EPERM,
    ],
    ['answers clone3 with ENOSYS on arm64', 'arm64', { nr: 435, arch: ARM64 }, ERR_ENOSYS],
    ['kills an x86_64 syscall on arm64', 'arm64', { nr: 40, arch: X64 }, SECCOMP_RET_KILL_PROCESS],
    ['refuses modify_ldt on x86_64', 'x64', { nr: 154, arch: X64 }, ERR_EPERM],
    ['refuses mbind on x86_64', 'x64', { nr: 237, arch: X64 }, ERR_EPERM],
    ['refuses set_mempolicy on x86_64', 'x64', { nr: 238, arch: X64 }, ERR_EPERM],
    ['refuses move_pages on x86_64', 'x64', { nr: 279, arch: X64 }, ERR_EPERM],
    ['refuses migrate_pages on arm64', 'arm64', { nr: 238, arch: ARM64 }, ERR_EPERM],
    ['allows an AF_UNIX socket', 'x64', { nr: 41, arch: X64, arg0: 1 }, SECCOMP_RET_ALLOW],
    ['allows an AF_INET socket', 'x64', { nr: 41, arch: X64, arg0: 2 }, SECCOMP_RET_ALLOW],
    ['allows an AF_INET6 socket', 'x64', { nr: 41, arch: X64, arg0: 10 }, SECCOMP_RET_ALLOW],
    ['refuses an AF_NETLINK socket', 'x64', { nr: 41, arch: X64, arg0: 16 }, ERR_EAFNOSUPPORT],
    ['refuses an AF_PACKET socket', 'x64', { nr: 41, arch: X64, arg0: 17 }, ERR_EAFNOSUPPORT],
    ['refuses an AF_VSOCK socket', 'x64', { nr: 41, arch: X64, arg0: 40 }, ERR_EAFNOSUPPORT],
    ['refuses an AF_ALG socket', 'x64', { nr: 41, arch: X64, arg0: 38 }, ERR_EAFNOSUPPORT],
    ['refuses an AF_KEY socket', 'x64', { nr: 41, arch: X64, arg0: 15 }, ERR_EAFNOSUPPORT],
    ['refuses an AF_BLUETOOTH socket', 'x64', { nr: 41, arch: X64, arg0: 31 }, ERR_EAFNOSUPPORT],
    ['refuses family 0 (AF_UNSPEC)', 'x64', { nr: 41, arch: X64, arg0: 0 }, ERR_EAFNOSUPPORT],
    ['refuses an AF_NETLINK socketpair', 'x64', { nr: 53, arch: X64, arg0: 16 }, ERR_EAFNOSUPPORT],
    ['allows an AF_UNIX socketpair', 'x64', { nr: 53, arch: X64, arg0: 1 }, SECCOMP_RET_ALLOW],
    [
      'refuses an AF_PACKET socket on arm64',
      'arm64',
      { nr: 198, arch: ARM64, arg0: 17 },
      ERR_EAFNOSUPPORT,
    ],
    [
      'allows an AF_INET socket on arm64',
      'arm64',
      { nr: 198, arch: ARM64, arg0: 2 },
      SECCOMP_RET_ALLOW,
    ],
  ];
  it.each(cases)('%s', (_name, arch, data, expected) => {
    expect(runFilter(buildSeccompProgram(arch), data)).toBe(expected >>> 0);
  });

  it('refuses every listed syscall and nothing in the ordinary range around them', () => {
    const program = buildSeccompProgram('x64');
    const denied = new Set<number>();
    for (let nr = 0; nr < 460; nr++) {
      const r = runFilter(program, { nr, arch: X64 });
      if (r === ERR_EPERM) denied.add(nr);
    }
    expect(denied.size).toBe(deniedSyscalls('x64').length);
    for (const common of [0, 1, 2, 3, 9, 57, 59, 61, 62, 231, 257])
      expect(denied.has(common)).toBe(false);
  });

  it('covers every namespace flag of clone', () => {
    for (const flag of [
      0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000,
    ]) {
      expect(CLONE_NAMESPACE_FLAGS & flag).toBe(flag);
    }
  });

  it('encodes 8 bytes per instruction in the order bwrap reads them', () => {
    const bytes = seccompFilterBytes('x64');
    const program = buildSeccompProgram('x64');
    expect(bytes.length).toBe(program.length * 8);
    expect(bytes.readUInt16LE(0)).toBe(BPF_LD_W_ABS);
    expect(bytes.readUInt32LE(4)).toBe(4);
    expect(bytes.readUInt32LE(bytes.length - 4)).toBe(program.at(-1)!.k >>> 0);
  });

  it('refuses to build a filter for an architecture it does not know', () => {
    expect(seccompArch('ia32')).toBeUndefined();
    expect(() => seccompFilterBytes('ia32')).toThrow(SeccompUnsupportedError);
  });
});

const hasBwrap = spawnSync('bwrap', ['--version']).status === 0 && seccompArch() !== undefined;

/** Run a command under bwrap with the filter on fd 3, the host's own root read-only. */
function underFilter(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      'bwrap',
      [
        '--unshare-all',
        '--die-with-parent',
        '--ro-bind',
        '/',
        '/',
        '--proc',
        '/proc',
        '--dev',
        '/dev',
        '--seccomp',
        '3',
        '--',
        ...args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const fd3 = child.stdio[3] as NodeJS.WritableStream;
    fd3.end(seccompFilterBytes());
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe.skipIf(!hasBwrap)('seccomp filter in a real bwrap sandbox', () => {
  it('lets ordinary programs run, fork and start node', async () => {
    const r = await underFilter([
      '/bin/sh',
      '-c',
      "echo hi | cat && node -e \"require('child_process').execFileSync('true'); console.log('node ok')\"",
    ]);
    expect(r.output).toContain('hi');
    expect(r.output).toContain('node ok');
    expect(r.code).toBe(0);
  });

  it('refuses netlink, packet and vsock sockets and modify_ldt, while unix and inet work', async () => {
    const probe = [
      'import ctypes, socket',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'for name, fam in [("unix", 1), ("inet", 2), ("inet6", 10), ("netlink", 16), ("packet", 17), ("vsock", 40), ("alg", 38)]:',
      '    fd = libc.socket(fam, 2 if fam in (2, 10, 17) else 1, 0)',
      '    print(name, "ok" if fd >= 0 else "errno=%d" % ctypes.get_errno())',
      // modify_ldt exists on x86 only (154 is another syscall on arm64).
      ...(process.arch === 'x64'
        ? [
            'r = libc.syscall(154, 0, None, 0)',
            'print("modify_ldt", "ok" if r >= 0 else "errno=%d" % ctypes.get_errno())',
          ]
        : []),
    ].join('\n');
    const r = await underFilter(['/usr/bin/python3', '-c', probe]);
    expect(r.output).toContain('unix ok');
    expect(r.output).toContain('inet ok');
    expect(r.output).toContain('inet6 ok');
    for (const family of ['netlink', 'packet', 'vsock', 'alg']) {
      expect(r.output).toContain(`${family} errno=${EAFNOSUPPORT}`);
    }
    if (process.arch === 'x64') expect(r.output).toContain(`modify_ldt errno=${EPERM}`);
  });

  it('refuses new namespaces and mounts with EPERM', async () => {
    const r = await underFilter([
      '/bin/sh',
      '-c',
      'unshare -U true; echo "unshare=$?"; grep Seccomp: /proc/self/status',
    ]);
    expect(r.output).toMatch(/Operation not permitted/);
    expect(r.output).toContain('unshare=1');
    expect(r.output).toMatch(/Seccomp:\s+2/);
  });
});
