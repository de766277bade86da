-- depends: 0014_email_not_unique
-- Housekeeping deletes posts' tombstones older than GAPO_RETAIN_TOMBSTONES_DAYS every hour
-- (instance/jobs/housekeeping.py): this finds them without scanning every post while the
-- write lock is held. Partial: live posts, nearly all of them, are not in it.

CREATE INDEX posts_tombstones ON posts (deleted_at) WHERE deleted_at IS NOT NULL;
