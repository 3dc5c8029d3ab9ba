const FENCE = /^\s*(```+|~~~+)(.*)$/;

/**
 * `text` cut into parts of at most `limit` characters, at line ends where it can. A code
 * block cut in two is closed at the end of one part and reopened (same fence and language)
 * at the start of the next, so every part renders as the whole would.
 */
export function splitMessage(text: string, limit: number): string[] {
  if (limit < 32) throw new RangeError(`splitMessage: limit ${limit} is too small (at least 32)`);
  if (text.length <= limit) return [text];
  const parts: string[] = [];
  let current = '';
  // The fence line that opened the code block `current` is inside, or null outside one.
  let openFence: string | null = null;

  const closing = () => (openFence === null ? '' : `\n${fenceMarker(openFence)}`);
  const flush = () => {
    if (current.length > 0) parts.push(current + closing());
    current = openFence === null ? '' : openFence;
  };

  for (const line of text.split('\n')) {
    // Room left on this part for a line, keeping space for a closing fence.
    const room = () => limit - current.length - (current.length > 0 ? 1 : 0) - closing().length;
    if (line.length > room() && current.length > (openFence?.length ?? 0)) flush();
    let rest = line;
    while (rest.length > room()) {
      const take = Math.max(1, room());
      current += (current.length > 0 ? '\n' : '') + rest.slice(0, take);
      rest = rest.slice(take);
      flush();
    }
    current += (current.length > 0 ? '\n' : '') + rest;
    const fence = FENCE.exec(line);
    if (fence) {
      if (openFence === null) openFence = line.trim();
      else if (fence[1] === fenceMarker(openFence) && fence[2]!.trim() === '') openFence = null;
    }
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

function fenceMarker(fenceLine: string): string {
  return FENCE.exec(fenceLine)?.[1] ?? '```';
}
