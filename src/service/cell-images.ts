import crypto from 'node:crypto';
import { runTool as defaultRunTool, type RunTool } from './service-manager.js';

/** A container engine's images, as far as uninstalling a checkout's cell image needs. */
export interface ImageEngine {
  readonly name: string;
  /** Is the engine installed and answering? */
  available(): Promise<boolean>;
  /** Every tag of `repo` with its image id. */
  tags(repo: string): Promise<{ tag: string; id: string }[]>;
  removeTag(ref: string): Promise<boolean>;
}

export function cliEngine(
  name: 'docker' | 'podman',
  runTool: RunTool = defaultRunTool,
): ImageEngine {
  const run = (args: string[]) => runTool(name, args);
  // podman names local images localhost/NAME.
  const local = (ref: string) => (name === 'podman' ? `localhost/${ref}` : ref);
  return {
    name,
    available: async () => (await run(['image', 'ls', '-q'])).code === 0,
    tags: async (repo) => {
      const listed = await run(['images', local(repo), '--format', '{{.Tag}} {{.ID}}']);
      return listed.stdout
        .split('\n')
        .map((line) => line.trim().split(' '))
        .filter((parts): parts is [string, string] => parts.length === 2)
        .map(([tag, id]) => ({ tag, id }));
    },
    removeTag: async (ref) => (await run(['rmi', local(ref)])).code === 0,
  };
}

/** The claim tag a checkout holds on its image (as scripts/build-cell-image.sh names it). */
export function claimTag(repoRoot: string): string {
  return `co-${crypto.createHash('sha256').update(repoRoot).digest('hex').slice(0, 12)}`;
}

/**
 * The tags to remove so this checkout no longer holds its cell image: its claim, and the
 * image's other tags (version, latest) unless another checkout's claim points at the image.
 */
export function tagsToRemove(
  tags: { tag: string; id: string }[],
  claim: string,
): { remove: string[]; kept?: string } {
  const mine = tags.find((t) => t.tag === claim);
  if (!mine) return { remove: [] };
  const othersClaim = tags.some(
    (t) => t.id === mine.id && t.tag !== claim && /^co-[0-9a-f]{12}$/.test(t.tag),
  );
  if (othersClaim) return { remove: [claim], kept: 'another checkout on this machine uses it' };
  return { remove: tags.filter((t) => t.id === mine.id).map((t) => t.tag) };
}
