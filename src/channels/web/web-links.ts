import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** One chat link: its token is shown once, at minting; only its hash is kept. */
export interface WebLink {
  id: string;
  chatId: string;
  createdAt: string;
}

interface StoredLink extends WebLink {
  sha256: string;
}

const MAX_FILE_BYTES = 1024 * 1024;

function hash(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

/**
 * Per-chat web credentials in `web-links.json` in the data dir (owner-only, 0600): a link
 * handed to a member of a shared chat opens that chat only. The file is read on every
 * lookup, so a link minted or revoked from the CLI counts at once in a running host.
 */
export class WebLinks {
  private readonly file: string;

  constructor(
    home: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.file = path.join(home, 'web-links.json');
  }

  /** A new link for the chat; the token is returned here and nowhere else. */
  mint(chatId: string): { ok: true; link: WebLink; token: string } | { ok: false; reason: string } {
    const loaded = this.load();
    if (!loaded.ok) return loaded;
    const token = crypto.randomBytes(24).toString('base64url');
    const link: StoredLink = {
      id: crypto.randomBytes(4).toString('hex'),
      chatId,
      createdAt: this.now().toISOString(),
      sha256: hash(token),
    };
    this.save([...loaded.links, link]);
    return { ok: true, link: { id: link.id, chatId, createdAt: link.createdAt }, token };
  }

  /** Revoke every link of the chat; returns how many there were. */
  revoke(chatId: string): { ok: true; revoked: number } | { ok: false; reason: string } {
    const loaded = this.load();
    if (!loaded.ok) return loaded;
    const kept = loaded.links.filter((l) => l.chatId !== chatId);
    if (kept.length !== loaded.links.length) this.save(kept);
    return { ok: true, revoked: loaded.links.length - kept.length };
  }

  list(): WebLink[] {
    const loaded = this.load();
    return loaded.ok
      ? loaded.links.map(({ id, chatId, createdAt }) => ({ id, chatId, createdAt }))
      : [];
  }

  /** The link a token belongs to; undefined for any other token (or an unreadable file). */
  find(token: string): WebLink | undefined {
    if (token === '') return undefined;
    const loaded = this.load();
    if (!loaded.ok) return undefined;
    const given = Buffer.from(hash(token), 'hex');
    const found = loaded.links.find((l) => {
      const stored = Buffer.from(l.sha256, 'hex');
      return stored.length === given.length && crypto.timingSafeEqual(stored, given);
    });
    return found && { id: found.id, chatId: found.chatId, createdAt: found.createdAt };
  }

  private load(): { ok: true; links: StoredLink[] } | { ok: false; reason: string } {
    let raw: string;
    try {
      // No-follow: a link planted in place of the file is refused, not read through.
      const fd = fs.openSync(this.file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      try {
        const st = fs.fstatSync(fd);
        if (!st.isFile() || st.size > MAX_FILE_BYTES) {
          return { ok: false, reason: `${this.file} is not a small regular file; move it away` };
        }
        raw = fs.readFileSync(fd, 'utf8');
      } finally {
        fs.closeSync(fd);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, links: [] };
      return { ok: false, reason: `cannot read ${this.file}: ${(err as Error).message}` };
    }
    const links = parseLinks(raw);
    if (!links) {
      return {
        ok: false,
        reason: `${this.file} is malformed; move it away (every chat link is then revoked)`,
      };
    }
    return { ok: true, links };
  }

  private save(links: StoredLink[]): void {
    const tmp = `${this.file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
    fs.writeFileSync(tmp, `${JSON.stringify({ links }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    fs.renameSync(tmp, this.file);
  }
}

function parseLinks(raw: string): StoredLink[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const links = (value as { links?: unknown } | null)?.links;
  if (!Array.isArray(links)) return undefined;
  const out: StoredLink[] = [];
  for (const l of links as Array<Record<string, unknown>>) {
    if (
      typeof l?.id !== 'string' ||
      typeof l.chatId !== 'string' ||
      typeof l.createdAt !== 'string' ||
      typeof l.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(l.sha256)
    ) {
      return undefined;
    }
    out.push({ id: l.id, chatId: l.chatId, createdAt: l.createdAt, sha256: l.sha256 });
  }
  return out;
}
