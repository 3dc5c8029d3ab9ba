/**
 * A probe for one raw syscall, for attack tests inside cells that have no compiler and no
 * Python: a tiny static x86_64 ELF, built here byte by byte, that makes the call with up to
 * three integer arguments and exits 0 when it succeeds or with its errno when it fails.
 * It is carried into the cell as base64 (the cell image has `base64`).
 */

/** x86_64 syscall numbers the attack tests use. */
export const X64_SYSCALLS = { socket: 41, socketpair: 53, modify_ldt: 154, mbind: 237 } as const;

const BASE = 0x400000;
const HEADERS = 64 + 56;

function imm32(n: number): number[] {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return [...b];
}

/**
 * The machine code: mov eax/edi/esi/edx (r10 points at the stack), syscall, then
 * exit(result < 0 ? -result : 0).
 */
function code(nr: number, args: readonly number[]): number[] {
  const [a = 0, b = 0, c = 0] = args;
  const instructions: number[][] = [
    [0xb8, ...imm32(nr)], // mov eax, nr
    [0xbf, ...imm32(a)], // mov edi, a
    [0xbe, ...imm32(b)], // mov esi, b
    [0xba, ...imm32(c)], // mov edx, c
    [0x49, 0x89, 0xe2], // mov r10, rsp
    [0x0f, 0x05], // syscall
    [0x48, 0x85, 0xc0], // test rax, rax
    [0x78, 0x04], // js +4 (to the failure branch)
    [0x31, 0xff], // xor edi, edi
    [0xeb, 0x05], // jmp +5 (to exit)
    [0x48, 0x89, 0xc7], // mov rdi, rax
    [0xf7, 0xdf], // neg edi
    [0xb8, ...imm32(60)], // mov eax, 60 (exit)
    [0x0f, 0x05], // syscall
  ];
  return instructions.flat();
}

/** The ELF file (x86_64 only): one loadable segment holding the headers and the code. */
export function syscallProbe(nr: number, args: readonly number[] = []): Buffer {
  const body = code(nr, args);
  const size = HEADERS + body.length;
  const elf = Buffer.alloc(size);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0); // ELF, 64-bit, little-endian, v1, SYSV
  elf.writeUInt16LE(2, 16); // ET_EXEC
  elf.writeUInt16LE(0x3e, 18); // x86_64
  elf.writeUInt32LE(1, 20);
  elf.writeBigUInt64LE(BigInt(BASE + HEADERS), 24); // entry
  elf.writeBigUInt64LE(64n, 32); // program headers right after this one
  elf.writeUInt16LE(64, 52);
  elf.writeUInt16LE(56, 54);
  elf.writeUInt16LE(1, 56);
  const ph = 64;
  elf.writeUInt32LE(1, ph); // PT_LOAD
  elf.writeUInt32LE(5, ph + 4); // R+X
  elf.writeBigUInt64LE(0n, ph + 8);
  elf.writeBigUInt64LE(BigInt(BASE), ph + 16);
  elf.writeBigUInt64LE(BigInt(BASE), ph + 24);
  elf.writeBigUInt64LE(BigInt(size), ph + 32);
  elf.writeBigUInt64LE(BigInt(size), ph + 40);
  elf.writeBigUInt64LE(0x1000n, ph + 48);
  elf.set(body, HEADERS);
  return elf;
}

/**
 * A bash snippet that writes the probe into the working directory (the group folder: the
 * engines mount /tmp noexec), runs it, removes it and prints `label=<errno or 0>`. `label`
 * must be a plain word.
 */
export function probeCommand(label: string, nr: number, args: readonly number[] = []): string {
  const b64 = syscallProbe(nr, args).toString('base64');
  const file = `./.probe-${label}`;
  return `echo ${b64} | base64 -d > ${file} && chmod 700 ${file} && { ${file}; echo "${label}=$?"; rm -f ${file}; }`;
}
