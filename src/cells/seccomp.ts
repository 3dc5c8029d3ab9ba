/**
 * The seccomp filter of bwrap cells, as the classic BPF program bwrap's `--seccomp FD` reads
 * (an array of `struct sock_filter`, 8 bytes each, host byte order).
 *
 * What it refuses, with EPERM: syscalls a sandboxed tool never needs and that are the usual
 * first step of a kernel exploit or a sandbox escape (mounts, modules, kexec, bpf, perf,
 * ptrace and cross-process memory access, keyrings, new namespaces, userfaultfd, io_uring,
 * clock changes, ...). `clone` is allowed except with a namespace flag; `clone3` answers
 * ENOSYS so libc falls back to `clone`, whose flags a classic filter can read (clone3 keeps
 * them in memory it cannot). socket() and socketpair() work for unix, IPv4 and IPv6 only
 * (EAFNOSUPPORT otherwise). The container runtimes get the same table as a profile
 * (seccomp-profile.ts). A syscall of another ABI than the native one (i386 through
 * `int 0x80`, x32) kills the process: the numbers below would mean other syscalls there.
 */

export type SeccompArch = 'x64' | 'arm64';

const AUDIT_ARCH: Record<SeccompArch, number> = {
  x64: 0xc000003e,
  arm64: 0xc00000b7,
};

/** Denied syscalls and their numbers; `undefined` where the architecture has no such call. */
const DENIED: Record<string, Partial<Record<SeccompArch, number>>> = {
  mount: { x64: 165, arm64: 40 },
  umount2: { x64: 166, arm64: 39 },
  pivot_root: { x64: 155, arm64: 41 },
  chroot: { x64: 161, arm64: 51 },
  fsopen: { x64: 430, arm64: 430 },
  fsconfig: { x64: 431, arm64: 431 },
  fsmount: { x64: 432, arm64: 432 },
  fspick: { x64: 433, arm64: 433 },
  move_mount: { x64: 429, arm64: 429 },
  open_tree: { x64: 428, arm64: 428 },
  mount_setattr: { x64: 442, arm64: 442 },
  swapon: { x64: 167, arm64: 224 },
  swapoff: { x64: 168, arm64: 225 },
  reboot: { x64: 169, arm64: 142 },
  kexec_load: { x64: 246, arm64: 104 },
  kexec_file_load: { x64: 320, arm64: 294 },
  init_module: { x64: 175, arm64: 105 },
  finit_module: { x64: 313, arm64: 273 },
  delete_module: { x64: 176, arm64: 106 },
  create_module: { x64: 174 },
  get_kernel_syms: { x64: 177 },
  query_module: { x64: 178 },
  uselib: { x64: 134 },
  _sysctl: { x64: 156 },
  nfsservctl: { x64: 180, arm64: 42 },
  bpf: { x64: 321, arm64: 280 },
  perf_event_open: { x64: 298, arm64: 241 },
  fanotify_init: { x64: 300, arm64: 262 },
  ptrace: { x64: 101, arm64: 117 },
  process_vm_readv: { x64: 310, arm64: 270 },
  process_vm_writev: { x64: 311, arm64: 271 },
  kcmp: { x64: 312, arm64: 272 },
  pidfd_getfd: { x64: 438, arm64: 438 },
  keyctl: { x64: 250, arm64: 219 },
  add_key: { x64: 248, arm64: 217 },
  request_key: { x64: 249, arm64: 218 },
  unshare: { x64: 272, arm64: 97 },
  setns: { x64: 308, arm64: 268 },
  userfaultfd: { x64: 323, arm64: 282 },
  open_by_handle_at: { x64: 304, arm64: 265 },
  name_to_handle_at: { x64: 303, arm64: 264 },
  io_uring_setup: { x64: 425, arm64: 425 },
  io_uring_enter: { x64: 426, arm64: 426 },
  io_uring_register: { x64: 427, arm64: 427 },
  acct: { x64: 163, arm64: 89 },
  quotactl: { x64: 179, arm64: 60 },
  quotactl_fd: { x64: 443, arm64: 443 },
  personality: { x64: 135, arm64: 92 },
  lookup_dcookie: { x64: 212, arm64: 18 },
  iopl: { x64: 172 },
  ioperm: { x64: 173 },
  syslog: { x64: 103, arm64: 116 },
  vhangup: { x64: 153, arm64: 58 },
  clock_settime: { x64: 227, arm64: 112 },
  settimeofday: { x64: 164, arm64: 170 },
  adjtimex: { x64: 159, arm64: 171 },
  clock_adjtime: { x64: 305, arm64: 266 },
  sethostname: { x64: 170, arm64: 161 },
  setdomainname: { x64: 171, arm64: 162 },
  // As docker's default profile: the x86 LDT (a long line of kernel bugs) and NUMA memory
  // placement, which a cell has no use for and which reach other processes' memory.
  modify_ldt: { x64: 154 },
  mbind: { x64: 237, arm64: 235 },
  set_mempolicy: { x64: 238, arm64: 237 },
  get_mempolicy: { x64: 239, arm64: 236 },
  migrate_pages: { x64: 256, arm64: 238 },
  move_pages: { x64: 279, arm64: 239 },
  set_mempolicy_home_node: { x64: 450, arm64: 450 },
  sysfs: { x64: 139 },
  ustat: { x64: 136 },
};

/**
 * The socket families a cell may open: unix (the egress forwarder's socket to the proxy) and
 * IPv4/IPv6 (loopback to the forwarder; the cell has no other interface). Every other family
 * (AF_NETLINK, AF_PACKET, AF_VSOCK, AF_BLUETOOTH, AF_ALG, AF_KEY, ...) is kernel code a cell
 * never needs and a common way into kernel bugs: socket() and socketpair() answer EAFNOSUPPORT.
 */
export const ALLOWED_SOCKET_FAMILIES: Readonly<Record<string, number>> = {
  AF_UNIX: 1,
  AF_INET: 2,
  AF_INET6: 10,
};
const SOCKET: Record<SeccompArch, number> = { x64: 41, arm64: 198 };
const SOCKETPAIR: Record<SeccompArch, number> = { x64: 53, arm64: 199 };

const CLONE: Record<SeccompArch, number> = { x64: 56, arm64: 220 };
const CLONE3: Record<SeccompArch, number> = { x64: 435, arm64: 435 };

/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET. */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000;
/** x32 syscalls on x86_64 carry this bit; they would alias the 64-bit numbers. */
const X32_SYSCALL_BIT = 0x40000000;

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const EPERM = 1;
export const ENOSYS = 38;
/** The same number on x86_64 and arm64. */
export const EAFNOSUPPORT = 97;

// Classic BPF opcodes (linux/filter.h), only those the filter uses.
export const BPF_LD_W_ABS = 0x20;
export const BPF_JEQ_K = 0x15;
export const BPF_JGE_K = 0x35;
export const BPF_JSET_K = 0x45;
export const BPF_RET_K = 0x06;

/** struct seccomp_data offsets. */
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
/** Low 32 bits of args[0]: both supported architectures are little-endian. */
const OFFSET_ARG0_LOW = 16;

export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export class SeccompUnsupportedError extends Error {
  constructor(arch: string) {
    super(
      `no seccomp filter for the ${arch} architecture (only x64 and arm64): bwrap cells would run without one`,
    );
    this.name = 'SeccompUnsupportedError';
  }
}

export function seccompArch(nodeArch: string = process.arch): SeccompArch | undefined {
  return nodeArch === 'x64' || nodeArch === 'arm64' ? nodeArch : undefined;
}

/** The names of the refused syscalls on `arch` (for status lines and tests). */
export function deniedSyscalls(arch: SeccompArch): string[] {
  return Object.entries(DENIED)
    .filter(([, nr]) => nr[arch] !== undefined)
    .map(([name]) => name);
}

type Target = 'allow' | 'eperm' | 'enosys' | 'family' | 'eafnosupport' | 'kill';
type Step =
  | { op: 'ld'; offset: number }
  | { op: 'jeq' | 'jge' | 'jset'; k: number; jt: Target | 'next'; jf: Target | 'next' }
  | { op: 'label'; name: Target }
  | { op: 'ret'; k: number };

/** The filter as instructions, jumps resolved. */
export function buildSeccompProgram(arch: SeccompArch): SockFilter[] {
  const steps: Step[] = [
    { op: 'ld', offset: OFFSET_ARCH },
    { op: 'jeq', k: AUDIT_ARCH[arch], jt: 'next', jf: 'kill' },
    { op: 'ld', offset: OFFSET_NR },
  ];
  if (arch === 'x64') steps.push({ op: 'jge', k: X32_SYSCALL_BIT, jt: 'kill', jf: 'next' });
  for (const nr of Object.values(DENIED)) {
    const n = nr[arch];
    if (n !== undefined) steps.push({ op: 'jeq', k: n, jt: 'eperm', jf: 'next' });
  }
  steps.push({ op: 'jeq', k: CLONE3[arch], jt: 'enosys', jf: 'next' });
  steps.push({ op: 'jeq', k: SOCKET[arch], jt: 'family', jf: 'next' });
  steps.push({ op: 'jeq', k: SOCKETPAIR[arch], jt: 'family', jf: 'next' });
  // clone: only its flags decide; the accumulator is reloaded with the low word of args[0].
  steps.push({ op: 'jeq', k: CLONE[arch], jt: 'next', jf: 'allow' });
  steps.push({ op: 'ld', offset: OFFSET_ARG0_LOW });
  steps.push({ op: 'jset', k: CLONE_NAMESPACE_FLAGS, jt: 'eperm', jf: 'allow' });
  // socket/socketpair: the family is the low word of args[0] (the kernel reads an int).
  steps.push({ op: 'label', name: 'family' }, { op: 'ld', offset: OFFSET_ARG0_LOW });
  const families = Object.values(ALLOWED_SOCKET_FAMILIES);
  families.forEach((family, i) => {
    const last = i === families.length - 1;
    steps.push({ op: 'jeq', k: family, jt: 'allow', jf: last ? 'eafnosupport' : 'next' });
  });
  steps.push(
    { op: 'label', name: 'allow' },
    { op: 'ret', k: SECCOMP_RET_ALLOW },
    { op: 'label', name: 'eperm' },
    { op: 'ret', k: SECCOMP_RET_ERRNO | EPERM },
    { op: 'label', name: 'enosys' },
    { op: 'ret', k: SECCOMP_RET_ERRNO | ENOSYS },
    { op: 'label', name: 'eafnosupport' },
    { op: 'ret', k: SECCOMP_RET_ERRNO | EAFNOSUPPORT },
    { op: 'label', name: 'kill' },
    { op: 'ret', k: SECCOMP_RET_KILL_PROCESS },
  );

  // Pass 1: the index of each instruction and label.
  const labels = new Map<Target, number>();
  let index = 0;
  for (const s of steps) {
    if (s.op === 'label') labels.set(s.name, index);
    else index++;
  }
  // Pass 2: encode; a jump offset counts instructions after the jump itself.
  const program: SockFilter[] = [];
  for (const s of steps) {
    if (s.op === 'label') continue;
    const at = program.length;
    if (s.op === 'ld') program.push({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: s.offset });
    else if (s.op === 'ret') program.push({ code: BPF_RET_K, jt: 0, jf: 0, k: s.k });
    else {
      const offset = (t: Target | 'next') => {
        if (t === 'next') return 0;
        const to = labels.get(t);
        if (to === undefined || to <= at || to - at - 1 > 255) {
          throw new Error(`seccomp filter: jump from ${at} to ${t} cannot be encoded`);
        }
        return to - at - 1;
      };
      const code = s.op === 'jeq' ? BPF_JEQ_K : s.op === 'jge' ? BPF_JGE_K : BPF_JSET_K;
      program.push({ code, jt: offset(s.jt), jf: offset(s.jf), k: s.k });
    }
  }
  return program;
}

/** The bytes bwrap reads from `--seccomp FD`. Throws SeccompUnsupportedError on other CPUs. */
export function seccompFilterBytes(nodeArch: string = process.arch): Buffer {
  const arch = seccompArch(nodeArch);
  if (!arch) throw new SeccompUnsupportedError(nodeArch);
  const program = buildSeccompProgram(arch);
  const buf = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    // struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; } in host byte order;
    // both architectures are little-endian.
    buf.writeUInt16LE(ins.code, i * 8);
    buf.writeUInt8(ins.jt, i * 8 + 2);
    buf.writeUInt8(ins.jf, i * 8 + 3);
    buf.writeUInt32LE(ins.k >>> 0, i * 8 + 4);
  });
  return buf;
}
