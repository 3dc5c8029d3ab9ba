import fs from 'node:fs';
import path from 'node:path';
import { SafeDir } from '../fs/safe-dir.js';
import {
  groupFolderPath,
  MEMORY_FILE,
  PRIVATE_FILE_MODE,
  readMemory,
} from '../groups/group-folder.js';
import { describeSources, type ProvenanceLabel } from './provenance.js';

/** NANOCELL_HOME/proposals: memory changes kept aside, the host's own (never mounted). */
export function proposalFile(home: string, folder: string): string {
  return path.join(home, 'proposals', `${folder}.${MEMORY_FILE}`);
}

export interface MemoryGuardDeps {
  home: string;
  folder: string;
  groupName: string;
  /** The run's label as it ends (what it read during the run counts). */
  label: () => ProvenanceLabel;
  notifyOwner: (text: string) => void;
}

/**
 * A memory file is a standing instruction to every later run: a run that read someone else's
 * words must not plant one unseen. The memory is read when the run starts; when a run labelled
 * untrusted ends with it changed, the change is put back and kept aside as a proposal the owner
 * can read and accept (`nanocell memory`). Returns the check to make when the run ends.
 */
export function guardMemory(deps: MemoryGuardDeps): () => void {
  const before = readMemory(deps.home, deps.folder).text;
  return () => {
    const label = deps.label();
    if (!label.untrusted) return;
    const after = readMemory(deps.home, deps.folder).text;
    if (after === before) return;
    const file = proposalFile(deps.home, deps.folder);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, after, { mode: PRIVATE_FILE_MODE });
    SafeDir.with(groupFolderPath(deps.home, deps.folder), (dir) => {
      const put = dir.replaceFile(MEMORY_FILE, before, PRIVATE_FILE_MODE);
      if (!put.ok) throw new Error(`could not put ${MEMORY_FILE} back: ${put.reason}`);
    });
    deps.notifyOwner(
      `Group ${deps.groupName} changed its memory in a run that read ${describeSources(label)}, so the change is kept aside, not used. See it with: nanocell memory show ${deps.groupName} --proposed; keep it with: nanocell memory accept ${deps.groupName}`,
    );
  };
}

/** The proposal waiting for the owner, if any. */
export function readProposal(home: string, folder: string): string | undefined {
  try {
    return fs.readFileSync(proposalFile(home, folder), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The owner keeps the proposal: it becomes the group's memory. */
export function acceptProposal(home: string, folder: string): boolean {
  const text = readProposal(home, folder);
  if (text === undefined) return false;
  SafeDir.with(groupFolderPath(home, folder), (dir) => {
    const put = dir.replaceFile(MEMORY_FILE, text, PRIVATE_FILE_MODE);
    if (!put.ok) throw new Error(`could not write ${MEMORY_FILE}: ${put.reason}`);
  });
  fs.rmSync(proposalFile(home, folder));
  return true;
}

export function rejectProposal(home: string, folder: string): boolean {
  const had = readProposal(home, folder) !== undefined;
  fs.rmSync(proposalFile(home, folder), { force: true });
  return had;
}
