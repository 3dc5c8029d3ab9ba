-- Limits of one run of a task, when tighter than the host's defaults (NANOCELL_BUDGET_*).
CREATE TABLE task_budgets (
  task_id          INTEGER PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
  tool_calls       INTEGER,
  model_tokens     INTEGER,
  wall_time_ms     INTEGER,
  egress_requests  INTEGER
);
