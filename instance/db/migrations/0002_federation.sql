-- depends: 0001_foundation
-- Follows, posts and their reactions, inbox records, the job queue, remote hosts.

CREATE TABLE follows (
    id BIGINT PRIMARY KEY,
    follower_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    followee_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    ap_id TEXT,
    created_at BIGINT NOT NULL,
    accepted_at BIGINT,
    UNIQUE (follower_id, followee_id)
);
CREATE INDEX follows_followee ON follows (followee_id, state);
CREATE INDEX follows_ap_id ON follows (ap_id);

CREATE TABLE posts (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    local INTEGER NOT NULL,
    ap_id TEXT UNIQUE,
    url TEXT,
    in_reply_to_id BIGINT REFERENCES posts (id) ON DELETE SET NULL,
    in_reply_to_ap_id TEXT,
    thread_root_id BIGINT,
    content_source TEXT NOT NULL DEFAULT '',
    content_html TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    sensitive INTEGER NOT NULL DEFAULT 0,
    visibility TEXT NOT NULL,
    language TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT,
    deleted_at BIGINT,
    replies_count INTEGER NOT NULL DEFAULT 0,
    likes_count INTEGER NOT NULL DEFAULT 0,
    shares_count INTEGER NOT NULL DEFAULT 0,
    ap_json TEXT
);
CREATE INDEX posts_account ON posts (account_id, id);
CREATE INDEX posts_reply ON posts (in_reply_to_id);
CREATE INDEX posts_reply_ap ON posts (in_reply_to_ap_id);
CREATE INDEX posts_public ON posts (visibility, local, id);

CREATE TABLE post_recipients (
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    mentioned INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (post_id, account_id)
);
CREATE INDEX post_recipients_account ON post_recipients (account_id);

CREATE TABLE post_edits (
    id BIGINT PRIMARY KEY,
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    content_html TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX post_edits_post ON post_edits (post_id, id);

CREATE TABLE likes (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    ap_id TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, post_id)
);
CREATE INDEX likes_post ON likes (post_id);
CREATE INDEX likes_ap_id ON likes (ap_id);

CREATE TABLE shares (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    ap_id TEXT,
    visibility TEXT NOT NULL DEFAULT 'public',
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, post_id)
);
CREATE INDEX shares_post ON shares (post_id);
CREATE INDEX shares_account ON shares (account_id, id);
CREATE INDEX shares_ap_id ON shares (ap_id);

CREATE TABLE blocks (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    ap_id TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, target_id)
);
CREATE INDEX blocks_target ON blocks (target_id);

CREATE TABLE inbox_activities (
    id BIGINT PRIMARY KEY,
    ap_id TEXT NOT NULL UNIQUE,
    ap_type TEXT NOT NULL,
    actor_ap_id TEXT NOT NULL,
    key_id TEXT,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    processed_at BIGINT,
    result TEXT
);

CREATE TABLE jobs (
    id BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    host TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    run_at BIGINT NOT NULL,
    locked_by TEXT,
    locked_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX jobs_due ON jobs (state, run_at);

CREATE TABLE hosts (
    domain TEXT PRIMARY KEY,
    health_json TEXT NOT NULL DEFAULT '{}',
    signature_scheme TEXT,
    blocked INTEGER NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);
