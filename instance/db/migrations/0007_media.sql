-- depends: 0006_sessions_without_addresses
-- Attachments of posts (local uploads and remote ones), and the cache of remote files that
-- Gapo serves from its own origin so that a reader's browser never contacts another server.

CREATE TABLE media (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- NULL until the upload is attached; unattached uploads are removed after a day.
    post_id BIGINT REFERENCES posts (id) ON DELETE CASCADE,
    position INTEGER NOT NULL DEFAULT 0,
    kind TEXT NOT NULL,  -- image | video | gifv | audio | unknown
    state TEXT NOT NULL,  -- processing | ready | failed | remote
    media_type TEXT NOT NULL DEFAULT '',
    file_key TEXT,  -- the processed file in media storage (local uploads)
    thumb_key TEXT,  -- its thumbnail, or a video's poster frame
    source_key TEXT,  -- an upload waiting for its transcode job; removed after it
    remote_url TEXT,  -- a remote attachment's file (fetched through remote_files)
    remote_preview_url TEXT,
    width INTEGER,
    height INTEGER,
    duration REAL,
    blurhash TEXT,
    focus_x REAL NOT NULL DEFAULT 0,
    focus_y REAL NOT NULL DEFAULT 0,
    description TEXT NOT NULL DEFAULT '',
    error TEXT,  -- why processing failed, as a message id shown to the uploader
    size BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX media_post ON media (post_id, position);
CREATE INDEX media_unattached ON media (created_at) WHERE post_id IS NULL;

-- One row per remote URL Gapo may fetch on a reader's behalf: a URL is only ever proxied
-- when it was learnt from a stored actor or post, so /media/proxy is no open proxy.
CREATE TABLE remote_files (
    url_hash TEXT PRIMARY KEY,  -- sha256 of the URL, hex: the name in /media/proxy/<hash>
    url TEXT NOT NULL,
    file_key TEXT,  -- the cached copy in media storage; NULL until fetched or after pruning
    media_type TEXT,
    size BIGINT NOT NULL DEFAULT 0,
    fetched_at BIGINT,
    last_used_at BIGINT,
    failed_at BIGINT,  -- the last refused or failed fetch: not retried for a while
    created_at BIGINT NOT NULL
);
CREATE INDEX remote_files_fetched ON remote_files (fetched_at);
