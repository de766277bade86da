-- depends: 0002_federation
-- Mutes: one person's private choice not to see another's posts and shares (never federated).

CREATE TABLE mutes (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, target_id)
);
CREATE INDEX mutes_target ON mutes (target_id);
