-- Files that came with an inbound message: a JSON array of saved media (path inside the
-- group folder, type, size) or of files dropped with the reason. NULL: none.
ALTER TABLE messages ADD COLUMN media TEXT;
