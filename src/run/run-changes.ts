import type { Logger } from 'pino';
import { diffSnapshots, type FileChange } from './folder-diff.js';
import { snapshotFolder, type FolderSnapshot } from './folder-snapshot.js';

/** What the last run of a group changed in its folder. */
export interface RunChangeReport {
  startedAt: string;
  finishedAt: string;
  changes: FileChange[];
  /** A limit (entries, depth, bytes, changes) was reached: the list may miss some. */
  truncated: boolean;
}

/**
 * The group folder before and after each run, compared: the owner sees what the last run
 * changed. Kept in memory, one report per group (the last run's); a host restart forgets them.
 */
export class RunChanges {
  private readonly last = new Map<number, RunChangeReport>();

  constructor(
    private readonly folderOf: (groupId: number) => string | undefined,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The last run's changes, or undefined when no run has finished since the host started. */
  lastRun(groupId: number): RunChangeReport | undefined {
    return this.last.get(groupId);
  }

  /** Run `fn` (a run of the group) between two snapshots of its folder. */
  async around<T>(groupId: number, fn: () => Promise<T>): Promise<T> {
    const startedAt = this.now().toISOString();
    const before = this.snapshot(groupId);
    try {
      return await fn();
    } finally {
      const after = before && this.snapshot(groupId);
      if (before && after) {
        const { changes, truncated } = diffSnapshots(before, after);
        this.last.set(groupId, {
          startedAt,
          finishedAt: this.now().toISOString(),
          changes,
          truncated,
        });
      }
    }
  }

  private snapshot(groupId: number): FolderSnapshot | undefined {
    const folder = this.folderOf(groupId);
    if (!folder) return undefined;
    try {
      return snapshotFolder(folder);
    } catch (err) {
      // A missing or unsafe folder: the run itself reports that; nothing to compare.
      this.log.warn({ groupId, err }, 'group folder not snapshotted');
      return undefined;
    }
  }
}
