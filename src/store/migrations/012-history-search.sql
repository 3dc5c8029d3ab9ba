-- Full-text search over each group's conversation, the part still in `history` and the part
-- compaction or /clear archived (its rows outlive the history rows they came from). Only the
-- text blocks are indexed; images and tool calls are not.
CREATE VIRTUAL TABLE history_fts USING fts5(
  text,
  group_id UNINDEXED,
  history_id UNINDEXED,
  role UNINDEXED,
  created_at UNINDEXED,
  tokenize = 'unicode61 remove_diacritics 2'
);

-- Which indexed rows are still live history (history ids are reused once the newest rows
-- are archived, so the id alone cannot tell).
CREATE TABLE history_fts_live (
  fts_rowid  INTEGER PRIMARY KEY,
  history_id INTEGER NOT NULL UNIQUE
);

CREATE TRIGGER history_fts_archived AFTER DELETE ON history
BEGIN
  DELETE FROM history_fts_live WHERE history_id = OLD.id;
END;

CREATE TRIGGER history_fts_add AFTER INSERT ON history
WHEN json_valid(NEW.content) AND json_type(NEW.content) = 'array'
BEGIN
  INSERT INTO history_fts (text, group_id, history_id, role, created_at)
  SELECT text, NEW.group_id, NEW.id, NEW.role, NEW.created_at FROM (
    SELECT group_concat(json_extract(b.value, '$.text'), char(10)) AS text
    FROM json_each(NEW.content) AS b
    WHERE json_extract(b.value, '$.type') = 'text'
  ) WHERE text IS NOT NULL AND text <> '';
  INSERT INTO history_fts_live (fts_rowid, history_id)
  SELECT last_insert_rowid(), NEW.id WHERE changes() > 0;
END;

-- A deleted group takes its searchable past with it.
CREATE TRIGGER history_fts_group_gone AFTER DELETE ON groups
BEGIN
  DELETE FROM history_fts WHERE group_id = OLD.id;
END;

INSERT INTO history_fts (text, group_id, history_id, role, created_at)
SELECT text, group_id, id, role, created_at FROM (
  SELECT h.id, h.group_id, h.role, h.created_at,
         (SELECT group_concat(json_extract(b.value, '$.text'), char(10))
            FROM json_each(h.content) AS b
           WHERE json_extract(b.value, '$.type') = 'text') AS text
  FROM history h
  WHERE json_valid(h.content) AND json_type(h.content) = 'array'
) WHERE text IS NOT NULL AND text <> '';

INSERT INTO history_fts_live (fts_rowid, history_id)
SELECT f.rowid, CAST(f.history_id AS INTEGER) FROM history_fts f;
