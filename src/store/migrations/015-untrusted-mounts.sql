-- An extra mount the owner marks untrusted (files others wrote: downloads, a shared drive):
-- a run that can read it is labelled untrusted (src/guard).
ALTER TABLE group_mounts ADD COLUMN untrusted INTEGER NOT NULL DEFAULT 0;
