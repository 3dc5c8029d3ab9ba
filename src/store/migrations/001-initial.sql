-- Groups: one per chat the assistant serves. `folder` is the group's directory name
-- under NANOCELL_HOME/groups; the cell mounts only that directory.
CREATE TABLE groups (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  folder        TEXT NOT NULL UNIQUE,
  is_admin      INTEGER NOT NULL DEFAULT 0,
  trigger_word  TEXT,
  -- the last inbound message the agent has answered; moves only after the reply is stored
  cursor_message_id INTEGER NOT NULL DEFAULT 0,
  created_at    TEXT NOT NULL
);

-- Which chat on which channel belongs to which group.
CREATE TABLE chats (
  channel   TEXT NOT NULL,
  chat_id   TEXT NOT NULL,
  group_id  INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  PRIMARY KEY (channel, chat_id)
);

-- Every message in and out, stored before it is acknowledged or sent.
CREATE TABLE messages (
  id          INTEGER PRIMARY KEY,
  group_id    INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  channel     TEXT NOT NULL,
  chat_id     TEXT NOT NULL,
  direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  sender      TEXT NOT NULL,
  sender_name TEXT NOT NULL,
  text        TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
CREATE INDEX messages_group ON messages (group_id, id);

-- The conversation as the model sees it: Messages API content blocks, JSON.
CREATE TABLE history (
  id          INTEGER PRIMARY KEY,
  group_id    INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  role        TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
  content     TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
CREATE INDEX history_group ON history (group_id, id);
