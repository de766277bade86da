-- depends: 0012_account_deletion
-- Account moves (issue 17). One row per account that has named other accounts as itself
-- (`also_known_as_json`: the aliases a local person added, as [{"acct", "id"}]) or has moved
-- (`moved_to_ap_id`, `moved_at`): a local person who moved away, or a remote actor whose
-- Move was accepted here. Kept apart from `accounts` because few accounts ever have one.

CREATE TABLE account_moves (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    also_known_as_json TEXT NOT NULL DEFAULT '[]',
    moved_to_ap_id TEXT,
    moved_at BIGINT,
    updated_at BIGINT NOT NULL
);
