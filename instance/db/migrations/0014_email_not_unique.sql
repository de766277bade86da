-- depends: 0012_account_deletion
-- Emails are optional and no longer unique (docs/privacy.md, "Email"): a sign-up with an
-- address someone here already gave must answer as any other does, or the form tells anyone
-- whether that address has an account. Log-in is by username only, so nothing needs the
-- address to name one user. SQLite cannot drop a column's UNIQUE, so `users` is rebuilt
-- (its rows copied as they are; '' is "no address given"). yoyo's connection runs without
-- foreign key enforcement, so dropping the old table does not cascade to sessions.

CREATE TABLE users_0014 (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL UNIQUE REFERENCES accounts (id) ON DELETE CASCADE,
    email TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'user',
    locale TEXT,
    approved INTEGER NOT NULL DEFAULT 1,
    invite_id BIGINT,
    created_at BIGINT NOT NULL,
    last_login_at BIGINT,
    last_active_at BIGINT
);
INSERT INTO users_0014 (id, account_id, email, password_hash, role, locale, approved,
                        invite_id, created_at, last_login_at, last_active_at)
    SELECT id, account_id, email, password_hash, role, locale, approved,
           invite_id, created_at, last_login_at, last_active_at FROM users;
DROP TABLE users;
ALTER TABLE users_0014 RENAME TO users;
