-- depends: 0016_post_tombstones_index
-- Allowlist mode (instance/admin/federation.py): when `site_settings.federation_mode` is
-- `allowlist`, only hosts with `allowed = 1` federate (instance/federation/host_blocks.py).

ALTER TABLE hosts ADD COLUMN allowed INTEGER NOT NULL DEFAULT 0;
