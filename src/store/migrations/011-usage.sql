-- Every model request's tokens, for `nanocell usage`, cost estimates and per-group budgets.
CREATE TABLE model_usage (
  id                 INTEGER PRIMARY KEY,
  run_id             TEXT NOT NULL,
  group_id           INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  task_id            INTEGER REFERENCES tasks(id) ON DELETE SET NULL,
  provider           TEXT NOT NULL,
  model              TEXT NOT NULL,
  input_tokens       INTEGER NOT NULL CHECK (input_tokens >= 0),
  output_tokens      INTEGER NOT NULL CHECK (output_tokens >= 0),
  cache_read_tokens  INTEGER NOT NULL CHECK (cache_read_tokens >= 0),
  cache_write_tokens INTEGER NOT NULL CHECK (cache_write_tokens >= 0),
  at                 TEXT NOT NULL
);
CREATE INDEX model_usage_group_at ON model_usage (group_id, at);
CREATE INDEX model_usage_at ON model_usage (at);
