"""Moderation: roles' actions and their audit log, account silencing, domain block
severities, instance settings stored in the database, and reports.

- `accounts.silenced_at`: hidden from public timelines, hashtag pages and search, still
  seen by followers; `accounts.sensitive_forced`: the account's posts are shown behind a
  content warning.
- `hosts` gains Mastodon's domain block fields (`severity` silence / suspend, reject_media,
  reject_reports, public and private comments, obfuscate). `blocked` stays the inbox's
  switch and is 1 exactly when the severity is `suspend`.
- `moderation_log`: who did what to whom, why and when; never an address.
- `site_settings`: name, description, rules, registration mode and pause, read through a
  small cache (instance/accounts/site.py).
- `reports`: a person's or a peer's report about an account and some of its posts.
"""

from __future__ import annotations

from yoyo import step

__depends__ = {"0011_search"}

steps = [
    step(
        "ALTER TABLE accounts ADD COLUMN silenced_at BIGINT",
        "ALTER TABLE accounts DROP COLUMN silenced_at",
    ),
    step(
        "ALTER TABLE accounts ADD COLUMN sensitive_forced INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE accounts DROP COLUMN sensitive_forced",
    ),
    step("ALTER TABLE hosts ADD COLUMN severity TEXT", "ALTER TABLE hosts DROP COLUMN severity"),
    step(
        "ALTER TABLE hosts ADD COLUMN reject_media INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE hosts DROP COLUMN reject_media",
    ),
    step(
        "ALTER TABLE hosts ADD COLUMN reject_reports INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE hosts DROP COLUMN reject_reports",
    ),
    step(
        "ALTER TABLE hosts ADD COLUMN public_comment TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE hosts DROP COLUMN public_comment",
    ),
    step(
        "ALTER TABLE hosts ADD COLUMN private_comment TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE hosts DROP COLUMN private_comment",
    ),
    step(
        "ALTER TABLE hosts ADD COLUMN obfuscate INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE hosts DROP COLUMN obfuscate",
    ),
    # Domains blocked from the CLI before this release were refused at the inbox: suspend.
    step("UPDATE hosts SET severity = 'suspend' WHERE blocked = 1"),
    step(
        "CREATE TABLE moderation_log ("
        " id BIGINT PRIMARY KEY,"
        " actor_account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,"
        " actor_label TEXT NOT NULL,"
        " action TEXT NOT NULL,"
        " target_account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,"
        " target_label TEXT NOT NULL,"
        " reason TEXT NOT NULL,"
        " created_at BIGINT NOT NULL)",
        "DROP TABLE moderation_log",
    ),
    step(
        "CREATE INDEX moderation_log_target ON moderation_log (target_account_id, id)",
        "DROP INDEX moderation_log_target",
    ),
    step(
        "CREATE TABLE site_settings ("
        " name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at BIGINT NOT NULL)",
        "DROP TABLE site_settings",
    ),
    step(
        "CREATE TABLE reports ("
        " id BIGINT PRIMARY KEY,"
        " reporter_account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,"
        " target_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
        " post_ids_json TEXT NOT NULL DEFAULT '[]',"
        " comment TEXT NOT NULL DEFAULT '',"
        " ap_id TEXT UNIQUE,"
        " forwarded_at BIGINT,"
        " resolved_at BIGINT,"
        " resolved_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,"
        " resolution TEXT,"
        " created_at BIGINT NOT NULL)",
        "DROP TABLE reports",
    ),
    step(
        "CREATE INDEX reports_open ON reports (resolved_at, id)",
        "DROP INDEX reports_open",
    ),
]
