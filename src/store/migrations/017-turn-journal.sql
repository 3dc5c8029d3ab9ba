-- A message turn's progress as it goes (src/run/turn-journal.ts): each model answer and tool
-- result, and the call running now, so a turn a crash interrupted resumes where it was instead
-- of repeating what it already did.
CREATE TABLE turn_journal (
  group_id   INTEGER PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
  turn_key   TEXT NOT NULL,
  steps      TEXT NOT NULL,
  results    TEXT NOT NULL,
  in_flight  TEXT
);
-- What a host tool call did, by its idempotency key (turn and tool call id): done once.
CREATE TABLE tool_effects (
  effect_key  TEXT PRIMARY KEY,
  output      TEXT NOT NULL,
  is_error    INTEGER NOT NULL,
  at          TEXT NOT NULL
);
