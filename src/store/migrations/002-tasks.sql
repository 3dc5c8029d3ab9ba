-- Scheduled tasks: a prompt the agent runs on a schedule, in its group's cell.
-- The schedule is one of three kinds; only that kind's columns are set.
CREATE TABLE tasks (
  id            INTEGER PRIMARY KEY,
  group_id      INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  prompt        TEXT NOT NULL,
  schedule_kind TEXT NOT NULL CHECK (schedule_kind IN ('cron', 'interval', 'once')),
  cron_expr     TEXT,
  every_ms      INTEGER,
  -- a once task's time, UTC ISO
  run_at        TEXT,
  -- the zone a cron expression or a once-time was written in (IANA name)
  timezone      TEXT,
  -- 'group': runs in the group's conversation; 'isolated': runs with a fresh session
  context_mode  TEXT NOT NULL CHECK (context_mode IN ('group', 'isolated')),
  status        TEXT NOT NULL CHECK (status IN ('active', 'paused', 'cancelled', 'completed')),
  created_at    TEXT NOT NULL,
  -- UTC ISO from Date.toISOString(), so text order is time order; set exactly when active,
  -- so the scheduler's index holds only tasks that can become due
  next_run_at   TEXT,
  last_run_at   TEXT,
  CHECK ((status = 'active') = (next_run_at IS NOT NULL)),
  CHECK (
    (schedule_kind = 'cron' AND cron_expr IS NOT NULL AND timezone IS NOT NULL
       AND every_ms IS NULL AND run_at IS NULL)
    OR (schedule_kind = 'interval' AND every_ms IS NOT NULL
       AND cron_expr IS NULL AND run_at IS NULL)
    OR (schedule_kind = 'once' AND run_at IS NOT NULL
       AND cron_expr IS NULL AND every_ms IS NULL)
  )
);
CREATE INDEX tasks_next_run ON tasks (next_run_at) WHERE next_run_at IS NOT NULL;
CREATE INDEX tasks_group ON tasks (group_id, id);

-- One row per run of a task: written 'running' when it starts, finished with its outcome.
-- A row still 'running' after a restart belongs to a run the host did not see end.
CREATE TABLE task_runs (
  id          INTEGER PRIMARY KEY,
  task_id     INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  started_at  TEXT NOT NULL,
  finished_at TEXT,
  status      TEXT NOT NULL CHECK (status IN ('running', 'ok', 'error', 'skipped')),
  -- capped at 2 KB by the store
  summary     TEXT,
  error       TEXT
);
CREATE INDEX task_runs_task ON task_runs (task_id, id);
CREATE INDEX task_runs_running ON task_runs (status) WHERE status = 'running';
