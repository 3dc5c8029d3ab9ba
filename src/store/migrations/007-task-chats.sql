-- The chat a task belongs to (where it was scheduled from): its output goes there.
CREATE TABLE task_chats (
  task_id  INTEGER PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
  channel  TEXT NOT NULL,
  chat_id  TEXT NOT NULL
);
