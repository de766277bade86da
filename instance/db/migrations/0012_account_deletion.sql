-- depends: 0011_search
-- Account deletion (issue 17). `deleted_at` is set the moment a person (or the admin) asks
-- for the account to go: from then on it is hidden everywhere and answers 410, while the
-- `account_delete` job removes its rows and files. The row itself stays as a tombstone (the
-- username and actor id, nothing else), so the name is never given to someone else and
-- other servers keep getting 410 for the actor they knew.

ALTER TABLE accounts ADD COLUMN deleted_at BIGINT;
