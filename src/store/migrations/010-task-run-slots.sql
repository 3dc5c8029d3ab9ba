-- A task run is claimed when it is due (the task moves on at once) but starts only when its
-- group's queue gives it a slot. `due_at` is the time it was due; `slot_at` is set when it
-- got its slot. A run left 'running' with no slot never ran: after a crash the task is set
-- due again at `due_at` instead of being recorded as failed (or a one-off as completed).
ALTER TABLE task_runs ADD COLUMN due_at TEXT;
ALTER TABLE task_runs ADD COLUMN slot_at TEXT;
