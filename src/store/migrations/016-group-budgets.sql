-- A group's daily model budget (UTC day), in tokens and/or estimated USD; no row: unlimited.
-- notified_day: the day the owner was last told the group is paused (told once a day).
CREATE TABLE group_budgets (
  group_id      INTEGER PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
  tokens        INTEGER CHECK (tokens IS NULL OR tokens >= 0),
  usd           REAL CHECK (usd IS NULL OR usd >= 0),
  notified_day  TEXT
);
