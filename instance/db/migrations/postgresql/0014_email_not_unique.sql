-- PostgreSQL's version of 0014: SQLite rebuilds the table to drop a constraint, which
-- PostgreSQL does in place (and could not rebuild: sessions and invites reference users).
ALTER TABLE users DROP CONSTRAINT users_email_key;
ALTER TABLE users ALTER COLUMN email SET DEFAULT '';
