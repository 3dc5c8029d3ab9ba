import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { groupFolderPath, type FolderOwner } from './group-folder.js';

/**
 * The per-group disk quota (NANOCELL_GROUP_QUOTA_MB). Each group folder is the mount point of
 * its own ext4 image (NANOCELL_HOME/quota/NAME.ext4, which no cell mounts), loop-mounted
 * nosuid,nodev. The kernel enforces the size for everything in the cell — bash included — and
 * a group that fills its folder fills only its image, never the data disk.
 *
 * Needs root, `mount` with loop devices (/dev/loop-control) and `mkfs.ext4`; `available()`
 * says which is missing. The mounts stay after the host exits and are reused at the next start.
 */

/** Runs a system command with an argument array; throws with its stderr when it fails. */
export type CommandRunner = (file: string, args: string[]) => void;

const runCommand: CommandRunner = (file, args) => {
  execFileSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

export class QuotaError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QuotaError';
  }
}

export interface GroupQuotaOptions {
  home: string;
  quotaMb: number;
  /** Owner of each image's root folder: the cell user. */
  owner: FolderOwner;
  run?: CommandRunner;
}

const MIB = 1024 * 1024;

export class GroupQuota {
  private readonly run: CommandRunner;

  constructor(private readonly o: GroupQuotaOptions) {
    this.run = o.run ?? runCommand;
  }

  /** Whether this host can enforce a quota, and if not, what is missing and what to do. */
  static available(): { ok: true } | { ok: false; reason: string } {
    const fix = 'run nanocell as root on Linux with loop devices, or unset NANOCELL_GROUP_QUOTA_MB';
    if (process.getuid?.() !== 0) {
      return { ok: false, reason: `NANOCELL_GROUP_QUOTA_MB needs root to mount images; ${fix}` };
    }
    if (!fs.existsSync('/dev/loop-control')) {
      return { ok: false, reason: `NANOCELL_GROUP_QUOTA_MB needs /dev/loop-control; ${fix}` };
    }
    for (const bin of ['mkfs.ext4', 'mount', 'umount', 'fallocate', 'e2fsck', 'resize2fs']) {
      if (!onPath(bin))
        return { ok: false, reason: `NANOCELL_GROUP_QUOTA_MB needs ${bin}; ${fix}` };
    }
    return { ok: true };
  }

  imagePath(folder: string): string {
    groupFolderPath(this.o.home, folder); // validates the name
    return path.join(this.o.home, 'quota', `${folder}.ext4`);
  }

  /**
   * Make the group folder the mount point of its image, creating or growing the image to the
   * quota first. Idempotent: an already mounted folder is left as it is. What the folder held
   * before the quota was turned on is moved into the image.
   */
  ensure(folder: string): void {
    const dir = groupFolderPath(this.o.home, folder);
    if (isMountPoint(dir)) return;
    const quotaDir = path.join(this.o.home, 'quota');
    fs.mkdirSync(quotaDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(quotaDir, 0o700);
    const image = this.imagePath(folder);
    let previous: string | undefined;
    try {
      this.prepareImage(image);
      previous = this.setAside(dir, quotaDir, folder);
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      this.run('mount', ['-t', 'ext4', '-o', 'loop,nosuid,nodev', image, dir]);
      fs.rmSync(path.join(dir, 'lost+found'), { recursive: true, force: true });
      fs.chmodSync(dir, 0o700);
      if (previous) {
        // cp -a copies links as links; nothing the cell left is followed.
        this.run('cp', ['-a', '--', `${previous}/.`, `${dir}/`]);
        fs.rmSync(previous, { recursive: true, force: true });
      }
    } catch (err) {
      if (previous && !isMountPoint(dir)) {
        // Put the folder back as it was: the group keeps its files, without a quota.
        fs.rmSync(dir, { recursive: true, force: true });
        fs.renameSync(previous, dir);
      }
      throw new QuotaError(
        `could not mount the ${this.o.quotaMb} MiB quota image of group folder ${folder} (${(err as Error).message.trim()}); fix it or unset NANOCELL_GROUP_QUOTA_MB`,
        { cause: err },
      );
    }
  }

  /** Unmount the group's image (it stays on disk; the next ensure mounts it again). */
  release(folder: string): void {
    const dir = groupFolderPath(this.o.home, folder);
    if (isMountPoint(dir)) this.run('umount', [dir]);
  }

  private prepareImage(image: string): void {
    const size = this.o.quotaMb * MIB;
    try {
      fs.closeSync(fs.openSync(image, 'wx', 0o600));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      this.grow(image, size);
      return;
    }
    // Allocated, not sparse: a full data disk must not turn into I/O errors inside a cell.
    this.run('fallocate', ['-l', String(size), image]);
    const { uid, gid } = this.o.owner;
    this.run('mkfs.ext4', ['-q', '-F', '-m', '0', '-E', `root_owner=${uid}:${gid}`, image]);
  }

  /** Grow an image to a raised quota. A lowered quota keeps the image's size (ext4 cannot
   *  shrink under a full folder); the README says so. */
  private grow(image: string, size: number): void {
    if (fs.statSync(image).size >= size) return;
    fs.truncateSync(image, size);
    try {
      this.run('e2fsck', ['-f', '-p', image]);
    } catch (err) {
      // 1: errors were corrected (an emptied lost+found, say); the image is clean now.
      if ((err as { status?: number }).status !== 1) throw err;
    }
    this.run('resize2fs', [image]);
  }

  /** Move a non-empty plain folder out of the way, so its contents can go into the image. */
  private setAside(dir: string, quotaDir: string, folder: string): string | undefined {
    const st = fs.lstatSync(dir, { throwIfNoEntry: false });
    if (!st) return undefined;
    if (!st.isDirectory()) throw new QuotaError(`${dir} is not a folder`);
    if (fs.readdirSync(dir).length === 0) return undefined;
    const aside = path.join(quotaDir, `${folder}.moving-${crypto.randomBytes(4).toString('hex')}`);
    fs.renameSync(dir, aside);
    return aside;
  }
}

/**
 * The quota the config asks for, or undefined when NANOCELL_GROUP_QUOTA_MB is unset. Throws a
 * QuotaError saying what is missing when this host cannot enforce it: a quota the owner asked
 * for is never silently not enforced.
 */
export function groupQuotaFor(
  quotaMb: number | undefined,
  home: string,
  owner: FolderOwner,
): GroupQuota | undefined {
  if (quotaMb === undefined) return undefined;
  const can = GroupQuota.available();
  if (!can.ok) throw new QuotaError(can.reason);
  return new GroupQuota({ home, quotaMb, owner });
}

function isMountPoint(dir: string): boolean {
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (!st?.isDirectory()) return false;
  return st.dev !== fs.statSync(path.dirname(dir)).dev;
}

function onPath(bin: string): boolean {
  const dirs = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  return dirs.some((d) => fs.existsSync(path.join(d, bin)));
}
