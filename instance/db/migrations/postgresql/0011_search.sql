-- PostgreSQL's version of 0011_search.py. The same tables and columns the SQLite FTS5
-- tables have (`rowid` = the account's or post's id, `folded` = the text of
-- db/search_text.py), as plain tables with a GIN index on their words; db/dialect.py
-- queries them with `@@ to_tsquery` and `ts_rank`.
ALTER TABLE accounts ADD COLUMN indexable INTEGER NOT NULL DEFAULT 1;
ALTER TABLE hashtags ADD COLUMN name_folded TEXT NOT NULL DEFAULT '';
CREATE INDEX hashtags_folded ON hashtags (name_folded);

-- `simple` (no stemming, no stop words, as unicode61) with `unaccent` first: the text is
-- folded in Python already (db/folding.py); unaccent removes any mark that folding does
-- not know, as unicode61's remove_diacritics does. The extension is trusted (PostgreSQL
-- 13+): the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION gapo_search (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION gapo_search
    ALTER MAPPING FOR asciiword, word, numword, asciihword, hword, numhword,
                      hword_asciipart, hword_part, hword_numpart
    WITH unaccent, simple;

CREATE TABLE post_search (rowid BIGINT PRIMARY KEY, folded TEXT NOT NULL);
CREATE INDEX post_search_words ON post_search USING GIN (to_tsvector('gapo_search', folded));
CREATE TABLE account_search (rowid BIGINT PRIMARY KEY, folded TEXT NOT NULL);
CREATE INDEX account_search_words
    ON account_search USING GIN (to_tsvector('gapo_search', folded));

-- The Python migration fills the index from rows already stored. A PostgreSQL database
-- reaches this step empty (PostgreSQL arrives with issue 16, long after 0011) or gets its
-- rows, index included, from `gapo db copy`; names and tags are folded here the nearest
-- SQL way for completeness.
UPDATE hashtags SET name_folded = lower(unaccent(display_name));
INSERT INTO account_search (rowid, folded)
    SELECT id, lower(unaccent(concat_ws(' ', display_name, username, domain))) FROM accounts;
