import crypto from 'node:crypto';
import type { Db } from './database.js';

/** How long a pairing code works. */
export const PAIRING_CODE_TTL_MS = 10 * 60_000;
/** Letters and digits that cannot be mistaken for each other when typed from a screen. */
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 8;
/** Wrong codes a pairing code survives: enough for typos, far too few to guess one. */
const MAX_WRONG_TRIES = 5;

export interface OwnerAccount {
  channel: string;
  sender: string;
  chatId: string;
  pairedAt: string;
}

export type PairingResult =
  { ok: true; account: OwnerAccount } | { ok: false; reason: 'no-code' | 'expired' | 'wrong-code' };

const hash = (code: string) => crypto.createHash('sha256').update(code).digest('hex');

/**
 * The owner's accounts on the chat platforms, the pairing codes that make them, and the
 * chats the owner has been told are bound to no group. A code is stored only as its hash,
 * works once, and only for the channel it was made for.
 */
export class OwnerAccountStore {
  constructor(private readonly db: Db) {}

  /** A fresh code for `channel`, replacing any earlier one. */
  newPairingCode(channel: string, now: Date): { code: string; expiresAt: Date } {
    const bytes = crypto.randomBytes(CODE_LENGTH);
    const code = [...bytes].map((b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join('');
    const expiresAt = new Date(now.getTime() + PAIRING_CODE_TTL_MS);
    this.db
      .prepare(
        `INSERT INTO pairing_codes (channel, code_hash, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (channel) DO UPDATE SET code_hash = excluded.code_hash, expires_at = excluded.expires_at, wrong_tries = 0`,
      )
      .run(channel, hash(code), expiresAt.toISOString());
    return { code, expiresAt };
  }

  /** Whether `channel` has a code waiting (so a `pair` message is worth an answer). */
  hasPairingCode(channel: string): boolean {
    return (
      this.db.prepare('SELECT 1 FROM pairing_codes WHERE channel = ?').get(channel) !== undefined
    );
  }

  /**
   * `code` from `sender` in the direct chat `chatId`: when it is the channel's live code, the
   * sender becomes an owner account and the code is used up. After a few wrong codes it is
   * used up too, so guessing gets nowhere.
   */
  pair(channel: string, sender: string, chatId: string, code: string, now: Date): PairingResult {
    return this.db.transaction((): PairingResult => {
      const row = this.db
        .prepare('SELECT code_hash, expires_at, wrong_tries FROM pairing_codes WHERE channel = ?')
        .get(channel) as { code_hash: string; expires_at: string; wrong_tries: number } | undefined;
      if (!row) return { ok: false, reason: 'no-code' };
      const drop = () =>
        this.db.prepare('DELETE FROM pairing_codes WHERE channel = ?').run(channel);
      if (new Date(row.expires_at).getTime() <= now.getTime()) {
        drop();
        return { ok: false, reason: 'expired' };
      }
      const given = Buffer.from(hash(code.trim().toUpperCase()), 'hex');
      if (!crypto.timingSafeEqual(given, Buffer.from(row.code_hash, 'hex'))) {
        if (row.wrong_tries + 1 >= MAX_WRONG_TRIES) drop();
        else {
          this.db
            .prepare('UPDATE pairing_codes SET wrong_tries = wrong_tries + 1 WHERE channel = ?')
            .run(channel);
        }
        return { ok: false, reason: 'wrong-code' };
      }
      drop();
      const account = { channel, sender, chatId, pairedAt: now.toISOString() };
      this.db
        .prepare(
          `INSERT INTO owner_accounts (channel, sender, chat_id, paired_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (channel, sender) DO UPDATE SET chat_id = excluded.chat_id, paired_at = excluded.paired_at`,
        )
        .run(account.channel, account.sender, account.chatId, account.pairedAt);
      return { ok: true, account };
    })();
  }

  accounts(channel?: string): OwnerAccount[] {
    const rows = (
      channel === undefined
        ? this.db.prepare('SELECT * FROM owner_accounts ORDER BY paired_at').all()
        : this.db
            .prepare('SELECT * FROM owner_accounts WHERE channel = ? ORDER BY paired_at')
            .all(channel)
    ) as Array<{ channel: string; sender: string; chat_id: string; paired_at: string }>;
    return rows.map((r) => ({
      channel: r.channel,
      sender: r.sender,
      chatId: r.chat_id,
      pairedAt: r.paired_at,
    }));
  }

  /** The accounts paired in a chat are owners no more; returns how many. */
  forgetChat(channel: string, chatId: string): number {
    return this.db
      .prepare('DELETE FROM owner_accounts WHERE channel = ? AND chat_id = ?')
      .run(channel, chatId).changes;
  }

  isOwner(channel: string, sender: string): boolean {
    return (
      this.db
        .prepare('SELECT 1 FROM owner_accounts WHERE channel = ? AND sender = ?')
        .get(channel, sender) !== undefined
    );
  }

  /** Remembers a chat bound to no group; true the first time it is seen. */
  firstSightOfUnboundChat(channel: string, chatId: string, now: Date): boolean {
    const result = this.db
      .prepare(
        'INSERT OR IGNORE INTO unbound_chats (channel, chat_id, first_seen_at) VALUES (?, ?, ?)',
      )
      .run(channel, chatId, now.toISOString());
    return result.changes === 1;
  }
}
