-- depends: 0005_relationships_media
-- Sessions keep no client address or user agent (docs/privacy.md): the values are wiped,
-- the columns dropped, and a coarse label ("Firefox on Android") takes their place.
-- After a migration `gapo migrate` compacts the SQLite file, so the old bytes leave the disk.

UPDATE sessions SET ip = NULL, user_agent = NULL;
ALTER TABLE sessions DROP COLUMN ip;
ALTER TABLE sessions DROP COLUMN user_agent;
ALTER TABLE sessions ADD COLUMN device TEXT NOT NULL DEFAULT '';
-- Expired sessions are purged at every log-in and hourly: by expiry, not a table scan.
CREATE INDEX sessions_expiry ON sessions (expires_at);
