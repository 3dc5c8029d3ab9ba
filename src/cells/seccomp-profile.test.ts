import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EAFNOSUPPORT, ENOSYS, EPERM, deniedSyscalls } from './seccomp.js';
import { buildSeccompProfile, writeSeccompProfile } from './seccomp-profile.js';

/** What the profile answers for one call, read the way libseccomp applies it. */
function verdict(
  profile: ReturnType<typeof buildSeccompProfile>,
  name: string,
  arg0 = 0,
): number | 'allow' {
  for (const rule of profile.syscalls) {
    if (!rule.names.includes(name)) continue;
    const matches = (rule.args ?? []).every((a) =>
      a.op === 'SCMP_CMP_EQ'
        ? arg0 === a.value
        : a.op === 'SCMP_CMP_GE'
          ? arg0 >= a.value
          : (arg0 & a.value) === a.valueTwo,
    );
    if (matches) return rule.errnoRet;
  }
  return 'allow';
}

describe('buildSeccompProfile: the container profile from bwrap’s table', () => {
  const profile = buildSeccompProfile('x64');

  it('refuses every syscall the bwrap filter refuses, modify_ldt and NUMA included', () => {
    for (const name of deniedSyscalls('x64')) expect(verdict(profile, name)).toBe(EPERM);
    for (const name of ['modify_ldt', 'mbind', 'set_mempolicy', 'migrate_pages', 'move_pages'])
      expect(verdict(profile, name)).toBe(EPERM);
    expect(verdict(profile, 'clone3')).toBe(ENOSYS);
  });

  it.each([
    ['AF_UNIX', 1, 'allow'],
    ['AF_INET', 2, 'allow'],
    ['AF_INET6', 10, 'allow'],
    ['AF_UNSPEC', 0, EAFNOSUPPORT],
    ['AF_AX25', 3, EAFNOSUPPORT],
    ['AF_KEY', 15, EAFNOSUPPORT],
    ['AF_NETLINK', 16, EAFNOSUPPORT],
    ['AF_PACKET', 17, EAFNOSUPPORT],
    ['AF_BLUETOOTH', 31, EAFNOSUPPORT],
    ['AF_ALG', 38, EAFNOSUPPORT],
    ['AF_VSOCK', 40, EAFNOSUPPORT],
    ['a family with high bits set', 2 ** 32 + 1, EAFNOSUPPORT],
  ])('answers socket(%s) with %s', (_name, family, expected) => {
    expect(verdict(profile, 'socket', family)).toBe(expected);
    expect(verdict(profile, 'socketpair', family)).toBe(expected);
  });

  it('refuses clone with any namespace flag and allows a plain fork or thread', () => {
    expect(verdict(profile, 'clone', 0x003d0f00)).toBe('allow');
    for (const flag of [
      0x20000, 0x2000000, 0x4000000, 0x8000000, 0x10000000, 0x20000000, 0x40000000,
    ])
      expect(verdict(profile, 'clone', flag | 0x11)).toBe(EPERM);
  });

  it("leaves clone3 to gVisor's kernel there, and keeps every other refusal", () => {
    const gvisor = buildSeccompProfile('x64', 'gvisor');
    expect(verdict(profile, 'clone3', 0)).toBe(ENOSYS);
    expect(verdict(gvisor, 'clone3', 0)).toBe('allow');
    expect(verdict(gvisor, 'clone', 0x10000000 | 0x11)).toBe(EPERM);
    expect(gvisor.syscalls.length).toBe(profile.syscalls.length - 1);
  });

  it('names the native architecture only, so other ABIs get nothing', () => {
    expect(profile.architectures).toEqual(['SCMP_ARCH_X86_64']);
    expect(buildSeccompProfile('arm64').architectures).toEqual(['SCMP_ARCH_AARCH64']);
    expect(buildSeccompProfile('arm64').syscalls[0]?.names).not.toContain('modify_ldt');
  });

  it('writes the profile into a fresh private directory', () => {
    const file = writeSeccompProfile('x64');
    try {
      expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
      expect(path.dirname(path.dirname(file))).toBe(os.tmpdir());
      expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(profile);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });
});
