const EXTENSIONS: Record<string, string> = {
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/gif': '.gif',
  'image/webp': '.webp',
  'application/pdf': '.pdf',
  'text/plain': '.txt',
  'audio/ogg': '.ogg',
  'audio/mpeg': '.mp3',
  'audio/mp4': '.m4a',
  'audio/wav': '.wav',
};

/**
 * A file name for `inbox/` from an untrusted one: the time first (so names sort), then the
 * sender's name reduced to letters, digits, `.`, `-` and `_` (never starting with a dot), at
 * most 80 characters; an empty result is named after the kind and its type's extension.
 */
export function inboxName(senderName: string, kind: string, mime: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  let base = senderName
    .normalize('NFKC')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(-80);
  if (base === '' || base === '_') base = `${kind}${EXTENSIONS[mime.toLowerCase()] ?? ''}`;
  return `${stamp}-${base}`;
}

/** `name` with `-N` before its extension, for the Nth file of the same name. */
export function numbered(name: string, n: number): string {
  if (n === 1) return name;
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)}-${n}${name.slice(dot)}` : `${name}-${n}`;
}
