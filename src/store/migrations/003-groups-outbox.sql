-- Shared chats answer only to a trigger word; NULL trigger_word means "@<assistant name>".
ALTER TABLE groups ADD COLUMN requires_trigger INTEGER NOT NULL DEFAULT 0;
-- The summary of older turns that were archived out of `history`.
ALTER TABLE groups ADD COLUMN session_summary TEXT;

-- Inbound messages that did not trigger a run are stored as context for the next one.
ALTER TABLE messages ADD COLUMN triggered INTEGER NOT NULL DEFAULT 1;
-- The outbox: an outbound message is stored first, then delivered; delivered_at marks it sent.
ALTER TABLE messages ADD COLUMN delivered_at TEXT;
ALTER TABLE messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN next_attempt_at TEXT;
ALTER TABLE messages ADD COLUMN last_error TEXT;
CREATE INDEX messages_outbox ON messages (next_attempt_at)
  WHERE direction = 'out' AND delivered_at IS NULL;
