/**
 * The seccomp profile of container cells (docker, podman, and docker+gVisor where runsc is
 * told to apply it), as the OCI JSON `--security-opt seccomp=FILE` reads: made from the same
 * table as bwrap's filter (seccomp.ts), so every runtime refuses the same syscalls and socket
 * families. It replaces the engine's default profile, so it lists what that one refuses too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ALLOWED_SOCKET_FAMILIES,
  CLONE_NAMESPACE_FLAGS,
  EAFNOSUPPORT,
  ENOSYS,
  EPERM,
  SeccompUnsupportedError,
  deniedSyscalls,
  seccompArch,
  type SeccompArch,
} from './seccomp.js';

interface ProfileArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_MASKED_EQ';
}

interface ProfileRule {
  names: string[];
  action: 'SCMP_ACT_ERRNO';
  errnoRet: number;
  args?: ProfileArg[];
}

export interface SeccompProfile {
  defaultAction: 'SCMP_ACT_ALLOW';
  architectures: string[];
  syscalls: ProfileRule[];
}

const ARCHITECTURES: Record<SeccompArch, string[]> = {
  x64: ['SCMP_ARCH_X86_64'],
  arm64: ['SCMP_ARCH_AARCH64'],
};

/** Every single bit of a mask, so "any of these flags" is one rule per flag. */
function bits(mask: number): number[] {
  const out: number[] = [];
  for (let bit = 1; bit !== 0 && bit <= mask; bit = (bit << 1) >>> 0) {
    if ((mask & bit) !== 0) out.push(bit);
  }
  return out;
}

/**
 * The families below, between and above the allowed ones, as comparisons on args[0]: one
 * rule each for the gaps (rules on one syscall are or-ed), and `>=` past the highest.
 * A 64-bit value with high bits set is >= the highest too, so no spelling slips through.
 */
function refusedFamilies(): ProfileArg[][] {
  const allowed = new Set(Object.values(ALLOWED_SOCKET_FAMILIES));
  const highest = Math.max(...allowed);
  const args: ProfileArg[][] = [];
  for (let family = 0; family < highest; family++) {
    if (!allowed.has(family)) args.push([{ index: 0, value: family, op: 'SCMP_CMP_EQ' }]);
  }
  args.push([{ index: 0, value: highest + 1, op: 'SCMP_CMP_GE' }]);
  return args;
}

/**
 * `kernel`: who serves the cell's syscalls behind the profile. For gVisor (runsc with
 * --oci-seccomp) clone3 is left to gVisor's kernel: refusing it with ENOSYS there makes the
 * cell's libc fail to start threads (node aborts) instead of falling back to clone, and a
 * namespace made inside gVisor is gVisor's own, never the host's.
 */
export function buildSeccompProfile(
  arch: SeccompArch,
  kernel: 'host' | 'gvisor' = 'host',
): SeccompProfile {
  const syscalls: ProfileRule[] = [
    { names: deniedSyscalls(arch), action: 'SCMP_ACT_ERRNO', errnoRet: EPERM },
    // As in bwrap's filter: libc falls back to clone, whose flags can be checked.
    ...(kernel === 'host'
      ? [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS } as ProfileRule]
      : []),
    ...bits(CLONE_NAMESPACE_FLAGS).map((flag): ProfileRule => ({
      names: ['clone'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: EPERM,
      args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }],
    })),
    ...refusedFamilies().map((args): ProfileRule => ({
      names: ['socket', 'socketpair'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: EAFNOSUPPORT,
      args,
    })),
  ];
  return { defaultAction: 'SCMP_ACT_ALLOW', architectures: ARCHITECTURES[arch], syscalls };
}

/**
 * Writes the profile for this CPU into a fresh private directory and returns its path, for
 * `--security-opt seccomp=PATH` (the engine's CLI reads it at each `run`). Throws
 * SeccompUnsupportedError on a CPU the table does not cover.
 */
export function writeSeccompProfile(
  nodeArch: string = process.arch,
  tmpDir: string = os.tmpdir(),
  kernel: 'host' | 'gvisor' = 'host',
): string {
  const arch = seccompArch(nodeArch);
  if (!arch) throw new SeccompUnsupportedError(nodeArch);
  const dir = fs.mkdtempSync(path.join(tmpDir, 'nanocell-seccomp-'));
  const file = path.join(dir, 'seccomp.json');
  fs.writeFileSync(file, JSON.stringify(buildSeccompProfile(arch, kernel), null, 1), {
    mode: 0o644,
    flag: 'wx',
  });
  return file;
}
