-- What untrusted content a group's current session has read (src/guard): the label sticks
-- until /clear or a fresh session.
CREATE TABLE session_provenance (
  group_id  INTEGER PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
  sources   TEXT NOT NULL
);
