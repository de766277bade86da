-- depends: 0002_federation
-- Hashtags: one row per tag key (NFC + case folding), linked to the posts that carry it.

CREATE TABLE hashtags (
    id BIGINT PRIMARY KEY,
    name_key TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE post_hashtags (
    post_id BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    hashtag_id BIGINT NOT NULL REFERENCES hashtags (id) ON DELETE CASCADE,
    -- Tag pages read (hashtag_id, post_id DESC): the primary key is that index.
    PRIMARY KEY (hashtag_id, post_id)
);
CREATE INDEX post_hashtags_post ON post_hashtags (post_id);
