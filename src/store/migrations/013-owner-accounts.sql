-- The owner on each chat platform: pairing (`nanocell pair CHANNEL`) makes a one-time code;
-- whoever sends it to the bot in a direct chat becomes that platform's owner account.
CREATE TABLE pairing_codes (
  channel     TEXT PRIMARY KEY,
  code_hash   TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  wrong_tries INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE owner_accounts (
  channel     TEXT NOT NULL,
  sender      TEXT NOT NULL,
  chat_id     TEXT NOT NULL,
  paired_at   TEXT NOT NULL,
  PRIMARY KEY (channel, sender)
);
-- Chats that wrote while bound to no group: the owner hears of each once.
CREATE TABLE unbound_chats (
  channel        TEXT NOT NULL,
  chat_id        TEXT NOT NULL,
  first_seen_at  TEXT NOT NULL,
  PRIMARY KEY (channel, chat_id)
);
