-- Extra folders the owner granted a group, checked against the mount allowlist at every cell start.
CREATE TABLE group_mounts (
  id          INTEGER PRIMARY KEY,
  group_id    INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  host_path   TEXT NOT NULL,
  container_path TEXT,
  read_only   INTEGER NOT NULL DEFAULT 1,
  created_at  TEXT NOT NULL,
  UNIQUE (group_id, host_path)
);
