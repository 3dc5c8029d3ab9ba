-- A group's or a task's own model (and provider), instead of NANOCELL_PROVIDER/NANOCELL_MODEL.
-- A task's choice wins over its group's.
CREATE TABLE group_models (
  group_id  INTEGER PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
  provider  TEXT NOT NULL,
  model     TEXT NOT NULL
);
CREATE TABLE task_models (
  task_id   INTEGER PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
  provider  TEXT NOT NULL,
  model     TEXT NOT NULL
);
