-- Accounts, users, sessions, invites, key pairs, id node claims.
-- Portable SQL: BIGINT ids made by the app, epoch-second timestamps, JSON as TEXT.

CREATE TABLE id_node_claims (
    seq BIGINT PRIMARY KEY,
    claimed_at BIGINT NOT NULL
);

CREATE TABLE accounts (
    id BIGINT PRIMARY KEY,
    local INTEGER NOT NULL,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL,
    domain TEXT NOT NULL DEFAULT '',
    display_name TEXT NOT NULL DEFAULT '',
    note_source TEXT NOT NULL DEFAULT '',
    note_html TEXT NOT NULL DEFAULT '',
    fields_json TEXT NOT NULL DEFAULT '[]',
    locked INTEGER NOT NULL DEFAULT 0,
    bot INTEGER NOT NULL DEFAULT 0,
    discoverable INTEGER NOT NULL DEFAULT 1,
    avatar_url TEXT,
    header_url TEXT,
    suspended_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    ap_id TEXT UNIQUE,
    ap_type TEXT NOT NULL DEFAULT 'Person',
    ap_url TEXT,
    ap_inbox TEXT,
    ap_shared_inbox TEXT,
    ap_outbox TEXT,
    ap_followers TEXT,
    ap_following TEXT,
    ap_featured TEXT,
    ap_json TEXT,
    ap_fetched_at BIGINT,
    UNIQUE (username_key, domain)
);
CREATE INDEX accounts_domain ON accounts (domain);

CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL UNIQUE REFERENCES accounts (id) ON DELETE CASCADE,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'user',
    locale TEXT,
    approved INTEGER NOT NULL DEFAULT 1,
    invite_id BIGINT,
    created_at BIGINT NOT NULL,
    last_login_at BIGINT,
    last_active_at BIGINT
);

CREATE TABLE sessions (
    id BIGINT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ip TEXT,
    user_agent TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE invites (
    id BIGINT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    max_uses INTEGER NOT NULL DEFAULT 1,
    uses INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE keypairs (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key_id TEXT NOT NULL UNIQUE,
    public_pem TEXT NOT NULL,
    private_pem TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX keypairs_account ON keypairs (account_id);
