-- Approvals: an owner's yes/no to one tool call that a policy rule marked `ask`. Each is
-- bound to the fingerprint of that exact call (group, tool, input), used at most once
-- (consumed_at), and worthless after expires_at. Times are ISO-8601 UTC text, so they
-- compare correctly as strings.
CREATE TABLE approvals (
  id           INTEGER PRIMARY KEY,
  code         TEXT NOT NULL UNIQUE,
  fingerprint  TEXT NOT NULL,
  group_name   TEXT NOT NULL,
  task_id      TEXT,
  tool         TEXT NOT NULL,
  input        TEXT NOT NULL,
  status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
  created_at   TEXT NOT NULL,
  expires_at   TEXT NOT NULL,
  answered_at  TEXT,
  consumed_at  TEXT
);
CREATE INDEX approvals_fingerprint ON approvals (fingerprint, id);
