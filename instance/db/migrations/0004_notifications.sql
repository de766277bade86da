-- depends: 0002_federation
-- Notifications for local accounts: who did what (follow, request, mention, reply, like,
-- share), about which post, and whether the recipient has read it.

CREATE TABLE notifications (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    from_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    post_id BIGINT REFERENCES posts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
-- The page and the unread count: one recipient's notifications, newest first.
CREATE INDEX notifications_account ON notifications (account_id, id);
-- One notification per (recipient, kind, actor, post): the same like twice notifies once.
-- COALESCE because NULLs never conflict in a unique index (SQLite and PostgreSQL alike).
CREATE UNIQUE INDEX notifications_once
    ON notifications (account_id, kind, from_account_id, COALESCE(post_id, 0));
